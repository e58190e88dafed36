package detect

import (
	"fmt"
	"sort"
	"strings"
)

// phpFrameworks are recognised by the package composer.json requires;
// docRoot is the public folder each serves from.
var phpFrameworks = []struct{ name, pkg, docRoot string }{
	{"laravel", "laravel/framework", "public"},
	{"symfony", "symfony/framework-bundle", "public"},
	{"symfony", "symfony/runtime", "public"},
	{"slim", "slim/slim", "public"},
	{"cakephp", "cakephp/cakephp", "webroot"},
	{"codeigniter", "codeigniter4/framework", "public"},
	{"laminas", "laminas/laminas-mvc", "public"},
	{"wordpress", "johnpbloch/wordpress-core", "."},
}

func detectPHP(a *app, dir string) *hit {
	s := a.scan
	h := &hit{}
	php := &PHPFacts{}
	p := join(dir, "composer.json")
	if s.exists(p) {
		h.manifest, h.pm = true, "composer"
		h.add(4, p, 0, "composer.json lists PHP packages for Composer")
		doc := s.jsonObject(p)
		data := s.read(p)
		require := table(doc, "require")
		all := map[string]bool{}
		for name := range require {
			all[name] = true
			if ext, ok := strings.CutPrefix(name, "ext-"); ok {
				php.Extensions = append(php.Extensions, ext)
			}
		}
		sort.Strings(php.Extensions)
		for name := range table(doc, "require-dev") {
			all[name] = true
		}
		for _, fw := range phpFrameworks {
			if all[fw.pkg] {
				h.framework, php.DocumentRoot = fw.name, fw.docRoot
				h.add(2, p, lineOfKey(data, fw.pkg), "depends on "+fw.pkg)
				break
			}
		}
		if v, ok := require["php"].(string); ok {
			h.claim(claim("php", v, p, lineOfKey(data, "php"), rankManifest, "composer.json's require"))
		}
		if v := str(doc, "config", "platform", "php"); v != "" {
			h.claim(claim("php", v, p, lineOfKey(data, "platform"), rankPinFile, "config.platform"))
		}
		if lock := join(dir, "composer.lock"); s.exists(lock) {
			php.Lockfile, h.pinned = lock, true
			h.add(2, lock, 0, "composer.lock pins the packages")
		}
	}
	if h.framework == "" {
		switch {
		case s.exists(join(dir, "artisan")):
			h.framework, php.DocumentRoot = "laravel", "public"
			h.add(2, join(dir, "artisan"), 0, "artisan is Laravel's console")
		case s.exists(join(dir, "bin/console")) && s.exists(join(dir, "symfony.lock")):
			h.framework, php.DocumentRoot = "symfony", "public"
			h.add(2, join(dir, "symfony.lock"), 0, "symfony.lock and bin/console make a Symfony app")
		case s.exists(join(dir, "wp-config.php")) || s.exists(join(dir, "wp-config-sample.php")):
			h.framework, php.DocumentRoot = "wordpress", "."
			h.add(2, join(dir, "wp-config-sample.php"), 0, "a WordPress site")
		}
	}
	if php.DocumentRoot == "" {
		switch {
		case s.exists(join(dir, "public/index.php")):
			php.DocumentRoot = "public"
		case s.exists(join(dir, "index.php")):
			php.DocumentRoot = "."
		}
	}
	if !h.manifest {
		if php.DocumentRoot == "" {
			return nil
		}
		// A site of PHP files without Composer.
		h.manifest = true
		h.add(4, join(join(dir, php.DocumentRoot), "index.php"), 0, "index.php is a PHP site's front page")
	}
	if c, ok := s.pinFileClaim(join(dir, ".php-version"), "php", nil); ok {
		h.claim(c, true)
		h.pinned = true
	}
	h.claim(s.toolVersions(dir, "php"))
	if php.DocumentRoot != "" {
		h.entry = &Entrypoint{Kind: EntryDirectory, Value: php.DocumentRoot}
	}
	if s.exists(join(join(dir, php.DocumentRoot), ".htaccess")) {
		php.Server = "apache"
		h.evidence = append(h.evidence, Evidence{File: join(join(dir, php.DocumentRoot), ".htaccess"), Why: ".htaccess configures Apache"})
	}
	h.facts = func(r *Result) { r.PHP = php }
	return h
}

// refinePHP adds how the Dockerfile serves PHP: the image variant (apache,
// fpm) or the server the image starts, and where it copies the site.
func refinePHP(a *app, r *Result) {
	if r.PHP == nil {
		r.PHP = &PHPFacts{}
	}
	d := a.df
	php := r.PHP
	server, why := "", Evidence{}
	switch {
	case d.hasLaunch && d.launch.server != "" && d.launch.eco == PHP:
		server, why = d.launch.server, d.launchWhy
	case d.final.Runtime == "php" && (d.final.Flavor == "apache" || d.final.Flavor == "fpm"):
		server = d.final.Flavor
		why = Evidence{File: d.name, Line: d.final.Line, Why: fmt.Sprintf("FROM %s is the %s variant of the PHP image", d.final.Ref, d.final.Flavor)}
	case d.final.Ecosystem == Static && d.final.Runtime == "nginx":
		// nginx in front of PHP means PHP-FPM behind it.
		server = "fpm"
		why = Evidence{File: d.name, Line: d.final.Line, Why: "FROM " + d.final.Ref + ": nginx serves PHP through PHP-FPM"}
	}
	if server != "" {
		if php.Server != "" && php.Server != server && server != "builtin" {
			r.Conflicts = append(r.Conflicts, fmt.Sprintf("the project has %s for %s but the Dockerfile serves PHP with %s", "an .htaccess", php.Server, server))
		}
		php.Server = server
		why.Why += ": PHP is served by " + server
		r.Evidence = append(r.Evidence, why)
	}
	if r.Port == 0 {
		switch php.Server {
		case "apache":
			r.Port = 80
		case "fpm":
			r.Port = 9000
		}
	}
	if d.final.Port > 0 && r.Port == 0 {
		r.Port = d.final.Port
	}
}

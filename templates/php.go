package templates

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/harden-dev/harden/detect"
)

// PHP is what the PHP templates need.
type PHP struct {
	// DocumentRoot is the folder the web server publishes, relative to the
	// app ("public", or "." for the app's own folder).
	DocumentRoot string
	// Extensions are the extensions composer.json requires that the
	// official image lacks and docker-php-ext-install builds without extra
	// system libraries.
	Extensions []string
	// Lockfile is set when composer.lock exists.
	Lockfile bool
	// Composer is set when the app has a composer.json to install from.
	Composer bool
	// Writable are the app's folders the web server user must be able to
	// write (Laravel's storage and bootstrap/cache, Symfony's var).
	Writable []string
}

// phpBundled are the extensions the official php images ship enabled.
var phpBundled = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"ctype": true, "curl": true, "date": true, "dom": true, "fileinfo": true, "filter": true, "hash": true,
		"iconv": true, "json": true, "libxml": true, "mbstring": true, "mysqlnd": true, "openssl": true,
		"pcre": true, "pdo": true, "pdo_sqlite": true, "phar": true, "posix": true, "random": true,
		"readline": true, "reflection": true, "session": true, "simplexml": true, "sodium": true, "spl": true,
		"sqlite3": true, "standard": true, "tokenizer": true, "xml": true, "xmlreader": true, "xmlwriter": true,
		"zlib": true,
	}
})

// phpSimpleExtensions build with docker-php-ext-install alone: they need no
// -dev package, so the runtime gains no compiler leftovers.
var phpSimpleExtensions = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"bcmath": true, "calendar": true, "exif": true, "mysqli": true, "opcache": true, "pcntl": true,
		"pdo_mysql": true, "shmop": true, "sockets": true, "sysvmsg": true, "sysvsem": true, "sysvshm": true,
	}
})

// phpWritable are the folders each framework writes at run time.
var phpWritable = map[string][]string{
	"laravel": {"storage", "bootstrap/cache"},
	"symfony": {"var"},
}

// phpServerVariants map how detection says PHP is served to a template.
var phpServerVariants = map[string]string{"": "php/apache", "apache": "php/apache", "builtin": "php/apache", "fpm": "php/fpm"}

func fillPHP(a *App, p *project) error {
	facts := p.facts.PHP
	if facts == nil {
		facts = &detect.PHPFacts{}
	}
	variant, ok := phpServerVariants[facts.Server]
	switch p.variant {
	case "php/apache", "php/fpm":
		variant, ok = p.variant, true
	}
	if !ok {
		return fmt.Errorf("harden's PHP templates serve with Apache or PHP-FPM, not %s", facts.Server)
	}
	a.Variant = variant
	ph := &PHP{Composer: p.exists("composer.json"), Lockfile: p.exists("composer.lock")}
	a.PHP = ph
	root := p.entryValue(detect.EntryDirectory)
	if root == "" {
		root = facts.DocumentRoot
	}
	if root == "" {
		root = "public"
		if p.exists("index.php") {
			root = "."
		}
	}
	clean, ok := cleanRel(root)
	if !ok {
		return fmt.Errorf("the document root %s is outside the app's folder", root)
	}
	ph.DocumentRoot = clean
	if ph.Composer {
		a.PackageManager = "composer"
		a.Manifests = []string{"composer.json"}
		if ph.Lockfile {
			a.Manifests = append(a.Manifests, "composer.lock")
		} else {
			a.note("there is no composer.lock: the image installs whatever versions resolve on the day it is built; commit one")
		}
	}
	var missing []string
	exts := append([]string{}, facts.Extensions...)
	if majorMinorBelow(a.Version, 8, 5) {
		exts = append(exts, "opcache") // built in from PHP 8.5
	}
	for _, ext := range exts {
		ext = strings.ToLower(ext)
		switch {
		case phpBundled()[ext] || slices.Contains(ph.Extensions, ext):
		case phpSimpleExtensions()[ext]:
			ph.Extensions = append(ph.Extensions, ext)
		default:
			missing = append(missing, ext)
		}
	}
	slices.Sort(ph.Extensions)
	if len(missing) > 0 {
		a.note("composer.json requires the %s %s, which the image does not have and which %s system libraries: install the -dev packages and run docker-php-ext-install (or pecl) in the Dockerfile",
			strings.Join(missing, ", "), plural(len(missing), "extension", "extensions"), plural(len(missing), "needs", "need"))
	}
	for _, dir := range phpWritable[a.Framework] {
		if p.exists(dir) || p.ctx == nil {
			ph.Writable = append(ph.Writable, dir)
		}
	}
	if len(ph.Writable) > 0 {
		a.note("the app writes %s: with a read-only root file system (compose.yaml), mount a volume there", strings.Join(ph.Writable, " and "))
	}
	switch a.Variant {
	case "php/apache":
		if a.Port == 0 || a.Port < 1024 {
			// Apache listens where the template tells it; an unprivileged
			// user cannot bind below 1024.
			a.Port = 8080
		}
		a.Writable = []string{"/var/run/apache2", "/var/lock/apache2"}
		a.Command = []string{"apache2-foreground"}
	case "php/fpm":
		if a.Port != 0 && a.Port != fpmPort {
			a.note("PHP-FPM listens on port %d (FastCGI), not %d", fpmPort, a.Port)
		}
		a.Port = fpmPort
		a.Command = []string{"php-fpm"}
		a.note("PHP-FPM speaks FastCGI, not HTTP: put a web server in front of it (nginx's fastcgi_pass to port %d)", fpmPort)
	}
	return nil
}

// fpmPort is where the official php-fpm images listen.
const fpmPort = 9000

// majorMinorBelow reports whether version ("8.4", "8.3.12") is below
// major.minor; false when it cannot be read.
func majorMinorBelow(version string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(version, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma < major || ma == major && mi < minor
}

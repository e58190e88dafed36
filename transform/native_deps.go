package transform

import (
	"encoding/json"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/harden-dev/harden/detect"
)

// The full official python, node and ruby images are built on Debian's
// buildpack-deps, which ships the development packages of the common C
// libraries (libpq-dev, libxml2-dev, default-libmysqlclient-dev, ...), so
// pip, gem and node-gyp compile native extensions there without any apt-get
// in the Dockerfile. The extension then links a library the slim runtime
// lacks. nativeDeps names, for the dependencies that compile that way, the
// development packages they link; runtimeLibraries turns those into the
// runtime packages of the runtime's release.
//
// Many of these packages usually install prebuilt (wheels, native gems,
// prebuilt addons) that bundle their libraries; fromSource marks those,
// which need the runtime libraries only when the Dockerfile asks for a
// source build.

// nativeDep is one dependency with a compiled extension.
type nativeDep struct {
	links      []string // Debian development packages the build links
	fromSource bool     // only a source build links them; the usual install is prebuilt
	note       string   // why, for the docs and messages
}

// nativeDeps are keyed by package manager and lower-case package name.
var nativeDeps = sync.OnceValue(func() map[string]map[string]nativeDep {
	return map[string]map[string]nativeDep{
		"pip": {
			"psycopg2":    {links: []string{"libpq-dev"}, note: "psycopg2 is published as source only and links libpq (psycopg2-binary bundles it)"},
			"mysqlclient": {links: []string{"default-libmysqlclient-dev"}, note: "mysqlclient has no Linux wheels and links the MariaDB client library"},
			"uwsgi":       {links: []string{"libxml2-dev"}, note: "uWSGI is published as source only and links libxml2 when the build image has it"},
			"python-ldap": {links: []string{"libldap2-dev", "libsasl2-dev"}, note: "python-ldap is published as source only and links OpenLDAP and SASL"},
			"lxml":        {links: []string{"libxml2-dev", "libxslt1-dev"}, fromSource: true, note: "lxml wheels bundle libxml2 and libxslt; a source build links the system ones"},
			"pillow":      {links: []string{"libjpeg-dev", "libfreetype6-dev", "libtiff-dev", "libwebp-dev", "liblcms2-dev", "libopenjp2-7-dev"}, fromSource: true, note: "Pillow wheels bundle their image libraries; a source build links the system ones"},
			"pyyaml":      {links: []string{"libyaml-dev"}, fromSource: true, note: "PyYAML wheels carry their own LibYAML; a source build links the system one when the build image has it"},
			"cffi":        {links: []string{"libffi-dev"}, fromSource: true, note: "cffi wheels bundle libffi; a source build links the system one"},
			"cryptography": {links: []string{"libssl-dev", "libffi-dev"}, fromSource: true,
				note: "cryptography wheels bundle OpenSSL; a source build links the system one"},
		},
		"gem": {
			"pg":     {links: []string{"libpq-dev"}, note: "pg links libpq"},
			"mysql2": {links: []string{"default-libmysqlclient-dev"}, note: "mysql2 links the MariaDB client library"},
			"nokogiri": {links: []string{"libxml2-dev", "libxslt1-dev"}, fromSource: true,
				note: "nokogiri's native gems and its default source build carry their own libxml2; --use-system-libraries links the system ones"},
			"sqlite3":      {links: []string{"libsqlite3-dev"}, fromSource: true, note: "sqlite3 1.6 and later ship native gems with SQLite inside; a ruby-platform build links the system library"},
			"eventmachine": {note: "eventmachine (thin) links libstdc++ and OpenSSL, which the slim images have"},
			"puma":         {note: "puma links OpenSSL, which the slim images have"},
		},
		"npm": {
			"canvas": {links: []string{"libcairo2-dev", "libpango1.0-dev", "libjpeg-dev", "libgif-dev", "librsvg2-dev"}, fromSource: true,
				note: "canvas downloads a prebuilt addon with its libraries; a source build links cairo, pango and the image libraries"},
			"sharp":          {links: []string{"libvips-dev"}, fromSource: true, note: "sharp installs a prebuilt libvips; a source build links the system libvips"},
			"bcrypt":         {note: "bcrypt's addon links libstdc++, which the slim images have"},
			"better-sqlite3": {note: "better-sqlite3 builds SQLite into its addon and links libstdc++, which the slim images have"},
		},
	}
})

// nativeLibraries finds the runtime packages that dependencies compiled in
// a full Debian build image link, for the package manager pm ("pip", "gem"
// or "npm"). It returns the packages, the dependencies that need them (for
// the summary), and a reason when the Dockerfile asks for a source build
// harden cannot account for.
func (s *splitter) nativeLibraries(pm string) (pkgs, deps []string, why string) {
	var perDep []string
	img := detect.Image(s.ref)
	if img.Distro != "debian" || img.Variant != "full" || s.p.Context == nil {
		return nil, nil, "" // alpine and slim builders install -dev packages explicitly
	}
	names, source := s.dependencies(pm)
	if len(names) == 0 {
		return nil, nil, ""
	}
	table := nativeDeps()[pm]
	t := targetOf(s.ref)
	already := map[string]bool{}
	for _, c := range s.chunks {
		if c.ins.Keyword == "run" && installsSystemPackages(c.ins) {
			for _, p := range s.runtimePackagesOf(c.ins) {
				already[p] = true
			}
		}
	}
	seen := map[string]bool{}
	var unknown []string
	for _, name := range names {
		dep, ok := table[name]
		if !ok {
			// npm's --build-from-source only changes packages with a
			// native addon, and those bundle their libraries unless the
			// table says otherwise.
			if pm != "npm" && (source.all || source.names[name]) {
				unknown = append(unknown, name)
			}
			continue
		}
		if dep.fromSource && !source.all && !source.names[name] {
			continue
		}
		var added []string
		for _, dev := range dep.links {
			lib, _, reason := libraryFor(dev, t)
			if reason != "" {
				return nil, nil, name + " links " + dev + " in the build image, and " + reason
			}
			for _, p := range strings.Fields(lib) {
				if !seen[p] && !already[p] {
					seen[p] = true
					pkgs = append(pkgs, p)
					added = append(added, p)
				}
			}
		}
		if len(added) > 0 {
			perDep = append(perDep, strings.Join(added, ", ")+" for "+name)
		}
	}
	if len(unknown) > 0 && len(unknown) <= 5 {
		return nil, nil, source.how + " builds " + strings.Join(unknown, ", ") + " from source against the libraries of " + s.ref +
			", and harden does not know which of them the runtime needs"
	}
	if len(unknown) > 5 {
		return nil, nil, source.how + " builds every dependency from source against the libraries of " + s.ref +
			", and harden does not know which of them the runtime needs"
	}
	return pkgs, perDep, ""
}

// sourceBuilds is what the Dockerfile says about building from source.
type sourceBuilds struct {
	all   bool
	names map[string]bool
	how   string // the command or setting, for messages
}

var pipNoBinary = regexp.MustCompile(`--no-binary[= ]+("?)([^\s"]+)`)

// dependencies lists the app's dependencies for pm from its manifests, in
// lower case, and which the Dockerfile builds from source.
func (s *splitter) dependencies(pm string) ([]string, sourceBuilds) {
	ctx := s.p.Context
	root := appRoot(s.p)
	src := sourceBuilds{names: map[string]bool{}}
	var names []string
	text := s.runText()
	switch pm {
	case "pip":
		files, _ := ctx.Glob(path.Join(root, "requirements*.txt"))
		for _, f := range files {
			data, err := ctx.ReadHead(f, 1<<20)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(data), "\n") {
				line = strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
				if line == "" || strings.HasPrefix(line, "-") {
					if m := pipNoBinary.FindStringSubmatch(line); m != nil {
						src.add(m[2], "--no-binary in "+f)
					}
					continue
				}
				names = append(names, requirementName(line))
			}
		}
		for _, m := range pipNoBinary.FindAllStringSubmatch(text, -1) {
			src.add(m[2], "pip install --no-binary")
		}
		if s.setsEnv("PIP_NO_BINARY") {
			src.all, src.how = true, "PIP_NO_BINARY"
		}
	case "gem":
		lock := path.Join(root, "Gemfile.lock")
		if data, err := ctx.ReadHead(lock, 1<<20); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") {
					name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
					names = append(names, strings.ToLower(name))
				}
			}
		}
		if strings.Contains(text, "--use-system-libraries") || s.setsEnv("NOKOGIRI_USE_SYSTEM_LIBRARIES") {
			src.names["nokogiri"], src.how = true, "--use-system-libraries"
		}
		if s.setsEnv("BUNDLE_FORCE_RUBY_PLATFORM") || strings.Contains(text, "force_ruby_platform") {
			src.all, src.how = true, "BUNDLE_FORCE_RUBY_PLATFORM"
		}
	case "npm":
		data, err := ctx.ReadHead(path.Join(root, "package.json"), 1<<20)
		if err == nil {
			var pkg struct {
				Dependencies map[string]string `json:"dependencies"`
			}
			if json.Unmarshal(data, &pkg) == nil {
				for n := range pkg.Dependencies {
					names = append(names, strings.ToLower(n))
				}
			}
		}
		if strings.Contains(text, "--build-from-source") || s.setsEnv("npm_config_build_from_source") {
			src.all, src.how = true, "--build-from-source"
		}
	}
	sort.Strings(names)
	return names, src
}

func (b *sourceBuilds) add(list, how string) {
	for _, n := range strings.Split(list, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		switch n {
		case ":all:":
			b.all = true
		case ":none:", "":
		default:
			b.names[n] = true
		}
	}
	b.how = how
}

// requirementName is the normalized project name of a requirements line
// ("Pillow[avif]>=10" is "pillow", "psycopg2==2.9" is "psycopg2").
func requirementName(line string) string {
	end := strings.IndexAny(line, "[<>=!~;@ \t")
	if end < 0 {
		end = len(line)
	}
	return strings.ReplaceAll(strings.ToLower(line[:end]), "_", "-")
}

// runText is the text of the stage's RUN instructions.
func (s *splitter) runText() string {
	var b strings.Builder
	for _, c := range s.chunks {
		if c.ins.Keyword == "run" {
			b.WriteString(c.ins.Node.Original)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// addNativeLibraries gives the runtime the libraries native dependencies
// link, before chunk at; the note ("libpq5 for psycopg2") is for the
// summary.
func (s *splitter) addNativeLibraries(sp *splitPlan, pm string, at int) (note, why string) {
	pkgs, deps, why := s.nativeLibraries(pm)
	if why != "" || len(pkgs) == 0 {
		return "", why
	}
	sp.runtimeBefore[at] = append([]string{installRun(s.f.Style, pkgs, false)}, sp.runtimeBefore[at]...)
	return joinClauses(deps), ""
}

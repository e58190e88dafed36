package transform

import (
	"strings"
	"sync"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
)

// When a stage is split, system packages installed for building stay in the
// builder and the runtime gets only what the app needs to run: the shared
// libraries behind the -dev packages, and any package that is not a build
// tool. These tables are the knowledge behind that split. They, and the
// other large tables of this package, are built on first use so that runs
// which never split a stage do not pay for them at start-up.

// buildOnlyPackages are compilers, build systems and headers: never needed
// to run an app.
var buildOnlyPackages = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		// Debian and Ubuntu
		"build-essential": true, "gcc": true, "g++": true, "make": true, "cmake": true, "pkg-config": true,
		"pkgconf": true, "autoconf": true, "automake": true, "libtool": true, "clang": true, "cpp": true,
		"dpkg-dev": true, "python3-dev": true, "python-dev": true, "cargo": true, "rustc": true, "gfortran": true,
		"patch": true, "bison": true, "flex": true, "swig": true, "ninja-build": true, "meson": true,
		// Alpine
		"build-base": true, "musl-dev": true, "linux-headers": true, "libc-dev": true, "g++-dev": true,
		"pkgconfig": true, "rust": true,
	}
})

// libraryNames are the runtime package of a development package in the
// Debian releases the official images are built on: 11 (bullseye), 12
// (bookworm) and 13 (trixie), as each release's Packages index names them.
// An empty name means the slim images already ship the library (the
// language runtime itself needs it). Debian renamed several libraries for
// the 64-bit time_t transition in 13 (libcurl4t64, libpng16-16t64, ...), so
// a tag that does not name its release only gets a name the releases share.
type libraryNames struct{ d11, d12, d13 string }

// same is a library whose package has one name in every release.
func same(name string) libraryNames { return libraryNames{name, name, name} }

// runtimeLibraries maps development packages to the library packages a
// binary built against them needs at run time (several are space-separated).
var runtimeLibraries = sync.OnceValue(func() map[string]libraryNames {
	return map[string]libraryNames{
		"libpq-dev":                  same("libpq5"),
		"libffi-dev":                 {"libffi7", "libffi8", "libffi8"},
		"libssl-dev":                 same(""),
		"zlib1g-dev":                 same(""),
		"libjpeg-dev":                same("libjpeg62-turbo"),
		"libjpeg62-turbo-dev":        same("libjpeg62-turbo"),
		"libpng-dev":                 {"libpng16-16", "libpng16-16", "libpng16-16t64"},
		"libfreetype6-dev":           same("libfreetype6"),
		"libfreetype-dev":            same("libfreetype6"),
		"libxml2-dev":                same("libxml2"),
		"libxslt1-dev":               same("libxslt1.1"),
		"libxslt-dev":                same("libxslt1.1"),
		"libyaml-dev":                same("libyaml-0-2"),
		"libsqlite3-dev":             same("libsqlite3-0"),
		"default-libmysqlclient-dev": same("libmariadb3"),
		"libmariadb-dev":             same("libmariadb3"),
		"libmariadb-dev-compat":      same("libmariadb3"),
		"libmagic-dev":               {"libmagic1", "libmagic1", "libmagic1t64"},
		"libcairo2-dev":              same("libcairo2"),
		"libpango1.0-dev":            same("libpango-1.0-0 libpangocairo-1.0-0"),
		"libgif-dev":                 same("libgif7"),
		"librsvg2-dev":               same("librsvg2-2"),
		"libpixman-1-dev":            same("libpixman-1-0"),
		"libwebp-dev":                {"libwebp6", "libwebp7", "libwebp7"},
		"libtiff-dev":                {"libtiff5", "libtiff6", "libtiff6"},
		"libtiff5-dev":               {"libtiff5", "libtiff6", "libtiff6"},
		"liblcms2-dev":               same("liblcms2-2"),
		"libopenjp2-7-dev":           same("libopenjp2-7"),
		"libgeos-dev":                {"libgeos-c1v5", "libgeos-c1v5", "libgeos-c1t64"},
		"libproj-dev":                {"libproj19", "libproj25", "libproj25"},
		"libldap2-dev":               {"libldap-2.4-2", "libldap-2.5-0", "libldap2"},
		"libldap-dev":                {"libldap-2.4-2", "libldap-2.5-0", "libldap2"},
		"libsasl2-dev":               same("libsasl2-2"),
		"libkrb5-dev":                same("libgssapi-krb5-2"),
		"libcurl4-openssl-dev":       {"libcurl4", "libcurl4", "libcurl4t64"},
		"libbz2-dev":                 same(""),
		"liblzma-dev":                same(""),
		"libreadline-dev":            same(""),
		"libncurses-dev":             same(""),
		"libgmp-dev":                 same("libgmp10"),
		"libzstd-dev":                same(""),
		"libsodium-dev":              same("libsodium23"),
		"libvips-dev":                {"libvips42", "libvips42", "libvips42t64"},
		"libharfbuzz-dev":            same("libharfbuzz0b"),
		"libfribidi-dev":             same("libfribidi0"),
		"libpcre2-dev":               same("libpcre2-8-0"),
	}
})

// alpineLibraries is runtimeLibraries for Alpine, whose library packages
// keep their names across releases.
var alpineLibraries = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"postgresql-dev":          "libpq",
		"libpq-dev":               "libpq",
		"libffi-dev":              "libffi",
		"openssl-dev":             "",
		"zlib-dev":                "",
		"jpeg-dev":                "libjpeg-turbo",
		"libjpeg-turbo-dev":       "libjpeg-turbo",
		"libpng-dev":              "libpng",
		"freetype-dev":            "freetype",
		"libxml2-dev":             "libxml2",
		"libxslt-dev":             "libxslt",
		"yaml-dev":                "yaml",
		"sqlite-dev":              "sqlite-libs",
		"mariadb-dev":             "mariadb-connector-c",
		"mariadb-connector-c-dev": "mariadb-connector-c",
		"libwebp-dev":             "libwebp",
		"cairo-dev":               "cairo",
		"pango-dev":               "pango",
		"giflib-dev":              "giflib",
		"librsvg-dev":             "librsvg",
		"geos-dev":                "geos",
		"libsodium-dev":           "libsodium",
		"vips-dev":                "vips",
		"pcre2-dev":               "pcre2",
	}
})

// distroTarget is the distro a runtime image is built on, as far as its
// tag says.
type distroTarget struct {
	alpine bool
	// release is the Debian major release ("12"), "" when the tag does not
	// name one (python:3.12 moved from bookworm to trixie in 2025).
	release string
}

// targetOf reads the runtime's distro from the build image's reference:
// the runtime is the slim variant of the same tag, on the same release.
func targetOf(ref string) distroTarget {
	img := detect.Image(ref)
	t := distroTarget{alpine: img.Distro == "alpine" || strings.Contains(baseimage.Parse(ref).Tag, "alpine")}
	if img.Distro == "debian" {
		t.release = img.DistroRelease
	}
	return t
}

// libraryFor returns the runtime package(s) of a development package for
// target t and whether the tables know the package; why is set when the tag
// names no release and the releases name the library differently.
func libraryFor(dev string, t distroTarget) (name string, known bool, why string) {
	if t.alpine {
		name, known = alpineLibraries()[dev]
		return name, known, ""
	}
	names, ok := runtimeLibraries()[dev]
	if !ok {
		return "", false, ""
	}
	switch t.release {
	case "11":
		return names.d11, true, ""
	case "12":
		return names.d12, true, ""
	case "13":
		return names.d13, true, ""
	}
	if names.d12 == names.d13 {
		return names.d12, true, ""
	}
	return "", true, "the runtime library of " + dev + " is " + names.d12 + " in Debian 12 and " + names.d13 +
		" in Debian 13, and the image tag does not say which release it is built on: name the release in the tag (-bookworm or -trixie)"
}

// packageRole says where a system package belongs after a split.
type packageRole struct {
	builder bool   // install it in the builder
	runtime string // install this in the runtime ("" for nothing; several are space-separated)
	unknown bool   // a -dev package harden cannot map: kept whole in the runtime
	// why is set when the runtime package cannot be named for the target.
	why string
}

// classifyPackage decides a package's role for a Debian 12 or Alpine
// runtime; classifyFor takes the release into account.
func classifyPackage(pkg string, alpine bool) packageRole {
	return classifyFor(pkg, distroTarget{alpine: alpine, release: "12"})
}

func classifyFor(pkg string, t distroTarget) packageRole {
	name := pkg
	if i := strings.IndexAny(name, "=<>"); i > 0 {
		name = name[:i] // apt "pkg=1.2", apk "pkg>1.2"
	}
	if buildOnlyPackages()[name] {
		return packageRole{builder: true}
	}
	if lib, known, why := libraryFor(name, t); known {
		return packageRole{builder: true, runtime: lib, why: why}
	}
	if strings.HasSuffix(name, "-dev") || strings.HasSuffix(name, "-devel") || strings.HasSuffix(name, "-headers") {
		return packageRole{builder: true, runtime: pkg, unknown: true}
	}
	return packageRole{builder: true, runtime: pkg}
}

// systemInstall is one `apt-get install` or `apk add` in a RUN.
type systemInstall struct {
	cmd      *dockerfile.Command
	alpine   bool
	packages []int // indexes into cmd.Args of the package words
}

// systemInstalls finds the package-manager installs of a script. ok is
// false when a package name is computed at build time, which makes the
// split unprovable.
func systemInstalls(s *dockerfile.Script) (out []systemInstall, ok bool) {
	for _, c := range s.Commands {
		var sub string
		var at int
		var found, alpine bool
		if sub, at, found = aptGet(c, true); found && sub == "install" {
		} else if sub, at, found = apk(c); found && sub == "add" {
			alpine = true
		} else {
			continue
		}
		inst := systemInstall{cmd: c, alpine: alpine}
		skipNext := false
		for i := at + 1; i < c.NArgs(); i++ {
			a, lit := c.Arg(i)
			if skipNext {
				skipNext = false
				continue
			}
			if !lit {
				return nil, false
			}
			if strings.HasPrefix(a, "-") {
				skipNext = a == "-o" || a == "-t" || a == "--virtual" || a == "-X" || a == "--repository"
				continue
			}
			inst.packages = append(inst.packages, c.Prog+i)
		}
		out = append(out, inst)
	}
	return out, true
}

// runtimePackages lists what the runtime stage must install for the
// packages of installs, or explains why harden cannot name them.
func (s *splitter) runtimePackages(installs []systemInstall) ([]string, string) {
	t := targetOf(s.ref)
	var pkgs []string
	seen := map[string]bool{}
	for _, in := range installs {
		t.alpine = in.alpine
		for _, i := range in.packages {
			role := classifyFor(in.cmd.Args[i], t)
			if role.why != "" {
				return nil, role.why
			}
			for _, p := range strings.Fields(role.runtime) {
				if !seen[p] {
					seen[p] = true
					pkgs = append(pkgs, p)
				}
			}
		}
	}
	return pkgs, ""
}

// runtimePackagesOf lists the runtime packages a RUN's installs come to,
// for summaries.
func (s *splitter) runtimePackagesOf(ins *dockerfile.Instruction) []string {
	sc, err := ins.Script()
	if err != nil {
		return nil
	}
	installs, _ := systemInstalls(sc)
	pkgs, _ := s.runtimePackages(installs)
	return pkgs
}

// installRun renders a RUN that installs pkgs the hardened way for the
// distro: one layer, no recommends, no caches left behind.
func installRun(style dockerfile.Style, pkgs []string, alpine bool) string {
	if alpine {
		return style.Instruction("RUN", "apk add --no-cache "+strings.Join(pkgs, " "))
	}
	return style.Instruction("RUN", style.Chain([]string{
		"apt-get update",
		"apt-get install -y --no-install-recommends " + strings.Join(pkgs, " "),
		"rm -rf /var/lib/apt/lists/*",
	}))
}

package transform

import (
	"strings"
	"sync"

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

// runtimeLibraries maps development packages to the library packages a
// binary built against them needs at run time. An empty value means the
// runtime image already ships the library.
var runtimeLibraries = sync.OnceValue(func() map[string]string {
	return map[string]string{
		// Debian bookworm (the python, node and ruby official images' base)
		"libpq-dev":                  "libpq5",
		"libffi-dev":                 "libffi8",
		"libssl-dev":                 "",
		"zlib1g-dev":                 "",
		"libjpeg-dev":                "libjpeg62-turbo",
		"libjpeg62-turbo-dev":        "libjpeg62-turbo",
		"libpng-dev":                 "libpng16-16",
		"libfreetype6-dev":           "libfreetype6",
		"libxml2-dev":                "libxml2",
		"libxslt1-dev":               "libxslt1.1",
		"libxslt-dev":                "libxslt1.1",
		"libyaml-dev":                "libyaml-0-2",
		"libsqlite3-dev":             "libsqlite3-0",
		"default-libmysqlclient-dev": "libmariadb3",
		"libmariadb-dev":             "libmariadb3",
		"libmariadb-dev-compat":      "libmariadb3",
		"libmagic-dev":               "libmagic1",
		"libcairo2-dev":              "libcairo2",
		"libwebp-dev":                "libwebp7",
		"libtiff-dev":                "libtiff6",
		"libtiff5-dev":               "libtiff6",
		"liblcms2-dev":               "liblcms2-2",
		"libopenjp2-7-dev":           "libopenjp2-7",
		"libgeos-dev":                "libgeos-c1v5",
		"libproj-dev":                "libproj25",
		"libldap2-dev":               "libldap-2.5-0",
		"libsasl2-dev":               "libsasl2-2",
		"libkrb5-dev":                "libgssapi-krb5-2",
		"libcurl4-openssl-dev":       "libcurl4",
		"libbz2-dev":                 "",
		"liblzma-dev":                "",
		"libreadline-dev":            "",
		"libncurses-dev":             "",
		"libgmp-dev":                 "libgmp10",
		"libzstd-dev":                "",
		"libsodium-dev":              "libsodium23",
		"libvips-dev":                "libvips42",
		"libharfbuzz-dev":            "libharfbuzz0b",
		"libfribidi-dev":             "libfribidi0",
		// Alpine
		"postgresql-dev":          "libpq",
		"libpq-dev@alpine":        "libpq",
		"libffi-dev@alpine":       "libffi",
		"openssl-dev":             "",
		"zlib-dev":                "",
		"jpeg-dev":                "libjpeg-turbo",
		"libjpeg-turbo-dev":       "libjpeg-turbo",
		"libpng-dev@alpine":       "libpng",
		"freetype-dev":            "freetype",
		"libxml2-dev@alpine":      "libxml2",
		"libxslt-dev@alpine":      "libxslt",
		"yaml-dev":                "yaml",
		"sqlite-dev":              "sqlite-libs",
		"mariadb-dev":             "mariadb-connector-c",
		"mariadb-connector-c-dev": "mariadb-connector-c",
		"libwebp-dev@alpine":      "libwebp",
		"cairo-dev":               "cairo",
		"geos-dev":                "geos",
		"libsodium-dev@alpine":    "libsodium",
	}
})

// packageRole says where a system package belongs after a split.
type packageRole struct {
	builder bool   // install it in the builder
	runtime string // install this in the runtime ("" for nothing)
	unknown bool   // a -dev package harden cannot map: kept whole in the runtime
}

func classifyPackage(pkg string, alpine bool) packageRole {
	name := pkg
	if i := strings.IndexAny(name, "=<>"); i > 0 {
		name = name[:i] // apt "pkg=1.2", apk "pkg>1.2"
	}
	if buildOnlyPackages()[name] {
		return packageRole{builder: true}
	}
	key := name
	if alpine {
		if _, ok := runtimeLibraries()[name+"@alpine"]; ok {
			key = name + "@alpine"
		}
	}
	if lib, ok := runtimeLibraries()[key]; ok {
		return packageRole{builder: true, runtime: lib}
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

// runtimePackages lists what a runtime stage must install for the packages
// of installs, and the -dev packages harden could not map.
func runtimePackages(installs []systemInstall) (pkgs, unknown []string) {
	seen := map[string]bool{}
	for _, in := range installs {
		for _, i := range in.packages {
			role := classifyPackage(in.cmd.Args[i], in.alpine)
			if role.runtime == "" || seen[role.runtime] {
				continue
			}
			seen[role.runtime] = true
			pkgs = append(pkgs, role.runtime)
			if role.unknown {
				unknown = append(unknown, in.cmd.Args[i])
			}
		}
	}
	return pkgs, unknown
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

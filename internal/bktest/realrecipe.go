package bktest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// RealBase is a realistic base image: Debian bookworm made with debootstrap
// and apt, configured the way the official images are, with Debian's own
// interpreters and tools. Unlike a stand-in (Kind), its python3 runs
// Python, its sqlite3 writes files, useradd makes homes and npm reaches the
// npm registry, so a test can tell an image whose non-root user cannot
// write what the app writes from one that works.
type RealBase string

const (
	// RealDebian is debian:bookworm: debootstrap's minbase with the
	// official images' apt and dpkg configuration and sources (the main,
	// updates and security suites over plain HTTP), upgraded.
	RealDebian RealBase = "debian"
	// RealDebianSlim is debian:bookworm-slim: RealDebian without
	// documentation, manual pages and translations, with dpkg told to keep
	// them out, as the official -slim images are.
	RealDebianSlim RealBase = "debian-slim"
	// RealBuildpackDeps is buildpack-deps:bookworm, which the official
	// python and node images build on: compilers, git, curl and the -dev
	// headers native extensions commonly need (libpq, libxml2, OpenSSL, ...).
	RealBuildpackDeps RealBase = "buildpack-deps"
	// RealPython is python:3.11: RealBuildpackDeps plus Debian's python3
	// (3.11, with sqlite3), its headers, venv and pip.
	RealPython RealBase = "python"
	// RealPythonSlim is python:3.11-slim: RealDebianSlim plus Debian's
	// python3, venv and pip.
	RealPythonSlim RealBase = "python-slim"
	// RealNode is node:20 in layout and name only: RealBuildpackDeps plus
	// Debian's nodejs and npm, which are node 18 in bookworm (NODE_VERSION
	// says so), and the node user (1000:1000, home /home/node).
	RealNode RealBase = "node"
	// RealNodeSlim is node:20-slim likewise, on RealDebianSlim.
	RealNodeSlim RealBase = "node-slim"
)

// RealName publishes a realistic base under a name Dockerfiles use.
type RealName struct {
	Ref  string
	Base RealBase
}

// DefaultRealNames are what StartReal publishes. Only names whose version
// the base honestly has or stands for are listed: python:3.12 is not
// (bookworm's python3 is 3.11); the node:20 names are, because tests are
// written against them, with NODE_VERSION telling the truth (18).
var DefaultRealNames = []RealName{
	{"debian:bookworm", RealDebian}, {"debian:12", RealDebian},
	{"debian:bookworm-slim", RealDebianSlim}, {"debian:12-slim", RealDebianSlim},
	{"buildpack-deps:bookworm", RealBuildpackDeps},
	{"python:3.11", RealPython}, {"python:3.11-bookworm", RealPython},
	{"python:3.11-slim", RealPythonSlim}, {"python:3.11-slim-bookworm", RealPythonSlim},
	{"node:20", RealNode}, {"node:20-bookworm", RealNode}, {"node:18", RealNode}, {"node:18-bookworm", RealNode},
	{"node:20-slim", RealNodeSlim}, {"node:20-bookworm-slim", RealNodeSlim}, {"node:18-slim", RealNodeSlim}, {"node:18-bookworm-slim", RealNodeSlim},
}

// realRecipeVersion is part of the cache key: bump it when the build steps
// in realbuild.go change in a way the recipe data below does not show.
const realRecipeVersion = 1

// realVariant is how one base is made. Variants are built in the order of
// realRecipe.Variants, each from a copy of the tree of From.
type realVariant struct {
	Base RealBase `json:"base"`
	// From is the variant whose finished tree this one starts as a copy
	// of; "" means a fresh debootstrap.
	From RealBase `json:"from,omitempty"`
	// Full makes the image a single layer holding the whole tree, as the
	// official debian images are; otherwise the image is From's layers
	// plus one layer of what this variant changed.
	Full bool `json:"full,omitempty"`
	// Files are written into the tree before anything runs in it.
	Files []realFile `json:"files,omitempty"`
	// Slim removes what SlimExcludes matches (SlimIncludes kept).
	Slim bool `json:"slim,omitempty"`
	// Upgrade runs apt-get upgrade, bringing in the updates and security
	// suites the sources name.
	Upgrade bool `json:"upgrade,omitempty"`
	// Packages are installed with apt-get --no-install-recommends, as the
	// official images' Dockerfiles do.
	Packages []string `json:"packages,omitempty"`
	// Script runs in the chroot (sh -c) after the packages.
	Script string `json:"script,omitempty"`

	// The image config: environment, entry point and command.
	Env        []string `json:"env"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd"`
	// VersionEnv is set to the output of VersionCommand, run in the
	// finished tree, e.g. PYTHON_VERSION=3.11.2.
	VersionEnv     string   `json:"version_env,omitempty"`
	VersionCommand []string `json:"version_command,omitempty"`
}

type realFile struct {
	Path string      `json:"path"`
	Data string      `json:"data"`
	Mode fs.FileMode `json:"mode"`
}

// realRecipe is everything the realistic bases depend on; its hash is the
// cache key.
type realRecipe struct {
	Version  int           `json:"version"`
	Suite    string        `json:"suite"`
	Mirror   string        `json:"mirror"`
	Arch     string        `json:"arch"`
	Variants []realVariant `json:"variants"`
}

// EnvDebianMirror overrides the Debian mirror that debootstrap, the base
// builds and the images' apt sources use (default http://deb.debian.org/debian).
const EnvDebianMirror = "DEBIAN_MIRROR"

const defaultDebianMirror = "http://deb.debian.org/debian"

func (r realRecipe) key() string {
	data, err := json.Marshal(r)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%x", sum[:8])
}

func (r realRecipe) variant(b RealBase) (realVariant, bool) {
	i := slices.IndexFunc(r.Variants, func(v realVariant) bool { return v.Base == b })
	if i < 0 {
		return realVariant{}, false
	}
	return r.Variants[i], true
}

// SlimExcludes and SlimIncludes are what the official -slim images leave
// out of every package (dpkg path-exclude) and keep despite that.
var (
	slimExcludes = []string{
		"/usr/share/doc/*", "/usr/share/groff/*", "/usr/share/info/*", "/usr/share/linda/*",
		"/usr/share/lintian/overrides/*", "/usr/share/locale/*", "/usr/share/man/*",
	}
	slimIncludes = []string{"/usr/share/doc/*/copyright", "/usr/share/locale/locale.alias"}
)

// defaultRealRecipe is the recipe of this source tree and host: the host's
// extra CA certificates are part of it, so that RUN steps in images built on
// these bases trust what the host trusts (a TLS-intercepting proxy in
// front of the npm registry, say).
func defaultRealRecipe() (realRecipe, error) {
	mirror := strings.TrimRight(os.Getenv(EnvDebianMirror), "/")
	if mirror == "" {
		mirror = defaultDebianMirror
	}
	cas, err := hostExtraCAs()
	if err != nil {
		return realRecipe{}, err
	}
	debianFiles := append([]realFile{
		{Path: "/etc/apt/sources.list.d/debian.sources", Data: debianSources(mirror), Mode: 0o644},
		{Path: "/etc/apt/apt.conf.d/docker-clean", Data: aptDockerClean, Mode: 0o644},
		{Path: "/etc/apt/apt.conf.d/docker-gzip-indexes", Data: "# Keep package lists compressed on disk: an \"apt-get update\" layer stays small.\nAcquire::GzipIndexes \"true\";\n", Mode: 0o644},
		{Path: "/etc/apt/apt.conf.d/docker-no-languages", Data: "# No translated package descriptions.\nAcquire::Languages \"none\";\n", Mode: 0o644},
		{Path: "/etc/apt/apt.conf.d/docker-autoremove-suggests", Data: "# \"apt-get purge --auto-remove\" also removes what was kept only because something suggests it.\nApt::AutoRemove::SuggestsImportant \"false\";\n", Mode: 0o644},
		{Path: "/etc/dpkg/dpkg.cfg.d/docker-apt-speedup", Data: "# A build layer does not need to survive a power cut: skip dpkg's fsync calls.\nforce-unsafe-io\n", Mode: 0o644},
		{Path: "/usr/sbin/policy-rc.d", Data: "#!/bin/sh\n# Packages installed in an image build must not start services.\nexit 101\n", Mode: 0o755},
	}, cas...)

	pythonEnv := []string{"PATH=" + defaultPath, "LANG=C.UTF-8"}
	pythonVersion := []string{"python3", "-c", "import platform; print(platform.python_version())"}
	nodeEnv := []string{"PATH=" + defaultPath}
	nodeVersion := []string{"node", "-p", "process.versions.node"}
	nodeFiles := []realFile{{Path: "/usr/local/bin/docker-entrypoint.sh", Data: nodeEntrypoint, Mode: 0o755}}
	// As the official node images make it.
	nodeUser := "groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node"
	shell := []string{"bash"}

	return realRecipe{
		Version: realRecipeVersion,
		Suite:   "bookworm",
		Mirror:  mirror,
		Arch:    runtime.GOARCH,
		Variants: []realVariant{
			{Base: RealDebian, Full: true, Files: debianFiles, Upgrade: true, Env: []string{"PATH=" + defaultPath}, Cmd: shell},
			{Base: RealDebianSlim, From: RealDebian, Full: true, Slim: true,
				Files: []realFile{{Path: "/etc/dpkg/dpkg.cfg.d/docker", Data: slimDpkgConfig(), Mode: 0o644}},
				Env:   []string{"PATH=" + defaultPath}, Cmd: shell},
			{Base: RealBuildpackDeps, From: RealDebian, Packages: buildpackPackages, Env: []string{"PATH=" + defaultPath}, Cmd: shell},
			{Base: RealPython, From: RealBuildpackDeps,
				Packages: []string{"python3", "python3-dev", "python3-venv", "python3-pip", "python-is-python3"},
				Env:      pythonEnv, Cmd: []string{"python3"}, VersionEnv: "PYTHON_VERSION", VersionCommand: pythonVersion},
			{Base: RealPythonSlim, From: RealDebianSlim,
				Packages: []string{"python3", "python3-venv", "python3-pip", "python-is-python3", "ca-certificates", "netbase", "tzdata"},
				Env:      pythonEnv, Cmd: []string{"python3"}, VersionEnv: "PYTHON_VERSION", VersionCommand: pythonVersion},
			{Base: RealNode, From: RealBuildpackDeps, Files: nodeFiles, Packages: []string{"nodejs", "npm"}, Script: nodeUser,
				Env: nodeEnv, Entrypoint: []string{"docker-entrypoint.sh"}, Cmd: []string{"node"}, VersionEnv: "NODE_VERSION", VersionCommand: nodeVersion},
			{Base: RealNodeSlim, From: RealDebianSlim, Files: nodeFiles, Packages: []string{"nodejs", "npm"}, Script: nodeUser,
				Env: nodeEnv, Entrypoint: []string{"docker-entrypoint.sh"}, Cmd: []string{"node"}, VersionEnv: "NODE_VERSION", VersionCommand: nodeVersion},
		},
	}, nil
}

// buildpackPackages approximate buildpack-deps:bookworm: its curl and scm
// layers, and the compilers and -dev headers of its full layer that
// Python and Node native modules most often build against. ImageMagick's
// and GLib's headers are left out to keep a cold build short.
var buildpackPackages = []string{
	"ca-certificates", "curl", "wget", "gnupg", "dirmngr", "netbase",
	"git", "openssh-client", "procps",
	"autoconf", "automake", "libtool", "pkg-config", "make", "patch", "file", "bzip2", "unzip", "xz-utils",
	"gcc", "g++", "libc6-dev", "dpkg-dev",
	"libpq-dev", "libxml2-dev", "libxslt1-dev", "libssl-dev", "libffi-dev", "zlib1g-dev", "libsqlite3-dev",
	"libbz2-dev", "liblzma-dev", "libreadline-dev", "libncurses-dev", "libgdbm-dev", "libdb-dev",
	"libjpeg-dev", "libpng-dev", "libwebp-dev", "libyaml-dev", "libcurl4-openssl-dev", "libkrb5-dev",
	"default-libmysqlclient-dev", "libevent-dev", "libgmp-dev",
}

// debianSources lists the suites the official images use, over plain HTTP
// (apt checks signatures, so no CA is needed to install packages).
func debianSources(mirror string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", mirror)
	// The security archive sits beside the main one on deb.debian.org and
	// on most mirrors that carry both.
	if base, ok := strings.CutSuffix(mirror, "/debian"); ok {
		fmt.Fprintf(&b, "\nTypes: deb\nURIs: %s/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", base)
	}
	return b.String()
}

// aptDockerClean deletes downloaded packages and apt's binary caches after
// every dpkg run and update, as the official images do, so that a RUN
// layer does not carry them.
const aptDockerClean = `# Clean apt's download and binary caches after every install and update:
# in an image build they would only add weight to the layer.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
`

func slimDpkgConfig() string {
	var b strings.Builder
	b.WriteString("# The slim variant: documentation, manual pages and translations stay out\n# of every package installed later too.\n")
	for _, p := range slimExcludes {
		fmt.Fprintf(&b, "path-exclude %s\n", p)
	}
	for _, p := range slimIncludes {
		fmt.Fprintf(&b, "path-include %s\n", p)
	}
	return b.String()
}

// nodeEntrypoint does what the official node images' entry point does:
// arguments that start with an option, or whose first word is not a
// command (a script name), are passed to node.
const nodeEntrypoint = `#!/bin/sh
set -e
# "docker run image -e 'code'" or "docker run image app.js" mean node.
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
	set -- node "$@"
fi
exec "$@"
`

// hostExtraCAs returns the certificates the host added to its trust store
// (/usr/local/share/ca-certificates), to be added to the images' in the
// same place: update-ca-certificates, run when a base or a RUN step
// installs ca-certificates, puts them in the bundle.
func hostExtraCAs() ([]realFile, error) {
	const dir = "/usr/local/share/ca-certificates"
	var files []realFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".crt") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, realFile{Path: p, Data: string(data), Mode: 0o644})
		return nil
	})
	return files, err
}

package detect

import (
	"sync"

	"github.com/harden-dev/harden/internal/lazyre"
)

// The tables harden knows base images by. Everything Image answers comes
// from here; a repository or tag word that is not listed is answered with
// "unknown", never with a guess. Sources: each image's official
// documentation and Dockerfiles (Docker Official Images, distroless,
// Chainguard, Red Hat UBI, Microsoft's .NET images, Bitnami).
//
// The larger maps here and in the rest of the package are built on first
// use: harden starts once per Dockerfile, and a package-level map literal
// is built and paged in before main even by runs that never read it.

// imageUser is a non-root account an image ships.
type imageUser struct {
	name string
	uid  int
}

// family describes one repository (or a group of them).
type family struct {
	runtime string
	eco     Ecosystem
	// distro is the family of tags without an OS word ("python:3.12" is
	// Debian); empty when that default has changed over time or differs by
	// version and the tag alone cannot tell.
	distro string
	// slimDistro is the family of slim tags when distro is unknown.
	slimDistro string
	// osRepo is set for OS images whose tag names the release, not a runtime.
	osRepo bool
	// slimByDefault is set for images whose plain tags are already slim.
	slimByDefault bool
	flavor        string
	toolchain     Tri
	// user is the non-root account the image ships; userFrom is the first
	// runtime version that has it.
	user     *imageUser
	userFrom string
	// nonRootDefault is set when the image's USER is that account.
	nonRootDefault bool
	port           int
	// runtimeFromTag says the leading tag version is the runtime's version.
	runtimeFromTag bool
}

var (
	nodeUser      = &imageUser{"node", 1000}
	nonrootUser   = &imageUser{"nonroot", 65532}
	wwwDataDebian = &imageUser{"www-data", 33}
	dotnetAppUser = &imageUser{"app", 1654}
	s2iUser       = &imageUser{"default", 1001}
	bitnamiUser   = &imageUser{"", 1001}
)

// families are keyed by the familiar repository name, as `docker pull`
// shows it ("python", "nginxinc/nginx-unprivileged", "mcr.microsoft.com/dotnet/sdk").
var families = sync.OnceValue(func() map[string]family {
	return map[string]family{
		// Language runtimes from Docker Official Images: Debian unless the tag
		// names another OS, root by default.
		"python":              {runtime: "python", eco: Python, distro: "debian", runtimeFromTag: true},
		"pypy":                {runtime: "python", eco: Python, distro: "debian"},
		"node":                {runtime: "node", eco: Node, distro: "debian", user: nodeUser, runtimeFromTag: true},
		"golang":              {runtime: "go", eco: Go, distro: "debian", toolchain: TriYes, runtimeFromTag: true},
		"ruby":                {runtime: "ruby", eco: Ruby, distro: "debian", runtimeFromTag: true},
		"rust":                {runtime: "rust", eco: Rust, distro: "debian", toolchain: TriYes, runtimeFromTag: true},
		"php":                 {runtime: "php", eco: PHP, distro: "debian", user: wwwDataDebian, runtimeFromTag: true},
		"composer":            {runtime: "php", eco: PHP, distro: "alpine", toolchain: TriYes},
		"eclipse-temurin":     {runtime: "java", eco: Java, distro: "ubuntu", flavor: "jdk", toolchain: TriYes, runtimeFromTag: true},
		"ibm-semeru-runtimes": {runtime: "java", eco: Java, distro: "ubuntu", runtimeFromTag: true},
		"amazoncorretto":      {runtime: "java", eco: Java, distro: "amazonlinux", flavor: "jdk", toolchain: TriYes, runtimeFromTag: true},
		"sapmachine":          {runtime: "java", eco: Java, distro: "ubuntu", flavor: "jdk", toolchain: TriYes, runtimeFromTag: true},
		// openjdk switched its default OS from Debian to Oracle Linux at 17;
		// only tags that name the OS are answered.
		"openjdk":  {runtime: "java", eco: Java, slimDistro: "debian", flavor: "jdk", toolchain: TriYes, runtimeFromTag: true},
		"maven":    {runtime: "java", eco: Java, distro: "ubuntu", flavor: "jdk", toolchain: TriYes},
		"gradle":   {runtime: "java", eco: Java, distro: "ubuntu", flavor: "jdk", toolchain: TriYes, user: &imageUser{"gradle", 1000}},
		"tomcat":   {runtime: "java", eco: Java, distro: "ubuntu", port: 8080},
		"oven/bun": {runtime: "bun", eco: Node, distro: "debian", slimByDefault: true, user: &imageUser{"bun", 1000}, runtimeFromTag: true},

		// Web servers for static sites (and in front of PHP).
		"nginx":                       {runtime: "nginx", eco: Static, distro: "debian", user: &imageUser{"nginx", 101}, port: 80, runtimeFromTag: true},
		"nginxinc/nginx-unprivileged": {runtime: "nginx", eco: Static, distro: "debian", user: &imageUser{"nginx", 101}, nonRootDefault: true, port: 8080, runtimeFromTag: true},
		"httpd":                       {runtime: "httpd", eco: Static, distro: "debian", user: wwwDataDebian, port: 80, runtimeFromTag: true},
		"caddy":                       {runtime: "caddy", eco: Static, distro: "alpine", port: 80, runtimeFromTag: true},

		// Operating systems: the tag is the release.
		"debian":      {distro: "debian", osRepo: true},
		"ubuntu":      {distro: "ubuntu", osRepo: true},
		"alpine":      {distro: "alpine", osRepo: true},
		"busybox":     {distro: "busybox", osRepo: true},
		"fedora":      {distro: "rhel", osRepo: true},
		"centos":      {distro: "rhel", osRepo: true},
		"rockylinux":  {distro: "rhel", osRepo: true},
		"almalinux":   {distro: "rhel", osRepo: true},
		"oraclelinux": {distro: "oraclelinux", osRepo: true},
		"amazonlinux": {distro: "amazonlinux", osRepo: true},
		"scratch":     {distro: "scratch", osRepo: true},

		// Microsoft's .NET images: Debian slim unless the tag names an OS;
		// from .NET 8 they ship the "app" user (uid 1654), and the chiseled
		// Ubuntu variants run as it.
		"mcr.microsoft.com/dotnet/sdk":          {runtime: "dotnet", eco: DotNet, distro: "debian", flavor: "sdk", toolchain: TriYes, user: dotnetAppUser, userFrom: "8", runtimeFromTag: true},
		"mcr.microsoft.com/dotnet/aspnet":       {runtime: "dotnet", eco: DotNet, distro: "debian", slimByDefault: true, flavor: "aspnet", toolchain: TriNo, user: dotnetAppUser, userFrom: "8", runtimeFromTag: true},
		"mcr.microsoft.com/dotnet/runtime":      {runtime: "dotnet", eco: DotNet, distro: "debian", slimByDefault: true, flavor: "runtime", toolchain: TriNo, user: dotnetAppUser, userFrom: "8", runtimeFromTag: true},
		"mcr.microsoft.com/dotnet/runtime-deps": {runtime: "dotnet", eco: DotNet, distro: "debian", slimByDefault: true, flavor: "runtime-deps", toolchain: TriNo, user: dotnetAppUser, userFrom: "8", runtimeFromTag: true},

		// Windows bases: no POSIX shell, no package manager.
		"mcr.microsoft.com/windows":            {distro: "windows"},
		"mcr.microsoft.com/windows/servercore": {distro: "windows"},
		"mcr.microsoft.com/windows/nanoserver": {distro: "windows"},
		"mcr.microsoft.com/windows/server":     {distro: "windows"},

		// Red Hat Universal Base Images.
		"registry.access.redhat.com/ubi8":             {distro: "ubi", osRepo: true},
		"registry.access.redhat.com/ubi9":             {distro: "ubi", osRepo: true},
		"registry.access.redhat.com/ubi8/ubi":         {distro: "ubi", osRepo: true},
		"registry.access.redhat.com/ubi9/ubi":         {distro: "ubi", osRepo: true},
		"registry.access.redhat.com/ubi8-minimal":     {distro: "ubi-minimal", osRepo: true},
		"registry.access.redhat.com/ubi9-minimal":     {distro: "ubi-minimal", osRepo: true},
		"registry.access.redhat.com/ubi8/ubi-minimal": {distro: "ubi-minimal", osRepo: true},
		"registry.access.redhat.com/ubi9/ubi-minimal": {distro: "ubi-minimal", osRepo: true},
		"registry.access.redhat.com/ubi8-micro":       {distro: "ubi-micro", osRepo: true},
		"registry.access.redhat.com/ubi9-micro":       {distro: "ubi-micro", osRepo: true},
		"registry.access.redhat.com/ubi8/ubi-micro":   {distro: "ubi-micro", osRepo: true},
		"registry.access.redhat.com/ubi9/ubi-micro":   {distro: "ubi-micro", osRepo: true},
		"redhat/ubi8":         {distro: "ubi", osRepo: true},
		"redhat/ubi9":         {distro: "ubi", osRepo: true},
		"redhat/ubi9-minimal": {distro: "ubi-minimal", osRepo: true},
		"redhat/ubi9-micro":   {distro: "ubi-micro", osRepo: true},
	}
})

// Repository patterns for image sets named by a runtime inside the path.
var (
	// gcr.io/distroless/<image>-debian<N>
	distrolessRepo = lazyre.New(`^gcr\.io/distroless/(static|base-nossl|base|cc|python3|java-base|java(\d+)|nodejs(\d+))-debian(\d+)$`)
	// registry.access.redhat.com/ubi9/python-311: Source-to-Image builders
	// that run as uid 1001.
	ubiS2IRepo = lazyre.New(`^registry\.access\.redhat\.com/ubi(\d+)/(python|nodejs|openjdk|php|ruby|go-toolset|dotnet)-?(\d*)`)
	// cgr.dev/chainguard/<image>: Wolfi, nonroot by default; -dev tags add
	// a shell and apk.
	chainguardRepo = lazyre.New(`^cgr\.dev/chainguard/([a-z0-9-]+)$`)
	// bitnami/<image> (also on other registries): Debian, uid 1001.
	bitnamiRepo = lazyre.New(`(?:^|/)bitnami/([a-z0-9-]+)$`)
	// Windows-only .NET Framework images.
	dotnetFrameworkRepo = lazyre.New(`^mcr\.microsoft\.com/dotnet/framework/`)
)

// pathRuntime is the runtime a repository name's runtime word stands for.
type pathRuntime struct {
	runtime   string
	eco       Ecosystem
	toolchain Tri
}

// pathRuntimes maps the runtime word in a distroless, Chainguard, Bitnami
// or UBI repository name to the runtime and ecosystem.
var pathRuntimes = sync.OnceValue(func() map[string]pathRuntime {
	return map[string]pathRuntime{
		"python": {"python", Python, TriUnknown}, "python3": {"python", Python, TriUnknown},
		"node": {"node", Node, TriUnknown}, "nodejs": {"node", Node, TriUnknown},
		"go": {"go", Go, TriYes}, "golang": {"go", Go, TriYes}, "go-toolset": {"go", Go, TriYes},
		"jre": {"java", Java, TriNo}, "jdk": {"java", Java, TriYes}, "java": {"java", Java, TriNo}, "openjdk": {"java", Java, TriYes}, "maven": {"java", Java, TriYes}, "gradle": {"java", Java, TriYes},
		"ruby": {"ruby", Ruby, TriUnknown}, "rust": {"rust", Rust, TriYes},
		"php": {"php", PHP, TriUnknown}, "php-fpm": {"php", PHP, TriUnknown},
		"dotnet": {"dotnet", DotNet, TriYes}, "dotnet-sdk": {"dotnet", DotNet, TriYes}, "aspnet-runtime": {"dotnet", DotNet, TriNo}, "dotnet-runtime": {"dotnet", DotNet, TriNo}, "aspnet-core": {"dotnet", DotNet, TriNo},
		"nginx": {"nginx", Static, TriNo}, "apache": {"httpd", Static, TriNo}, "httpd": {"httpd", Static, TriNo}, "caddy": {"caddy", Static, TriNo},
	}
})

// distroInfo is what an OS family ships: its package manager and whether it
// has a POSIX shell.
type distroInfo struct {
	pm    string
	shell Tri
}

// distros gives each OS family's package manager and POSIX shell.
var distros = sync.OnceValue(func() map[string]distroInfo {
	return map[string]distroInfo{
		"debian":      {"apt", TriYes},
		"ubuntu":      {"apt", TriYes},
		"alpine":      {"apk", TriYes},
		"busybox":     {"none", TriYes},
		"rhel":        {"dnf", TriYes},
		"oraclelinux": {"dnf", TriYes},
		"amazonlinux": {"yum", TriYes},
		"ubi":         {"dnf", TriYes},
		"ubi-minimal": {"microdnf", TriYes},
		"ubi-micro":   {"none", TriUnknown},
		"azurelinux":  {"tdnf", TriYes},
		"wolfi":       {"none", TriNo},
		"distroless":  {"none", TriNo},
		"scratch":     {"none", TriNo},
		"windows":     {"none", TriNo},
	}
})

// tagWord is what one dash-separated word of a tag says.
type tagWord struct {
	distro, release string
	slim            bool
	variant         string
	flavor          string
	toolchain       Tri
	// chiseled Ubuntu and -distroless .NET images: no shell, no package
	// manager, non-root by default.
	distroless bool
	// windows tags (windowsservercore-ltsc2022).
	windows bool
}

// tagWords lists the tag words harden understands; others are ignored.
var tagWords = sync.OnceValue(func() map[string]tagWord {
	return map[string]tagWord{
		"slim": {slim: true, variant: "slim"},
		// Debian releases.
		"jessie": {distro: "debian", release: "8"}, "stretch": {distro: "debian", release: "9"},
		"buster": {distro: "debian", release: "10"}, "bullseye": {distro: "debian", release: "11"},
		"bookworm": {distro: "debian", release: "12"}, "trixie": {distro: "debian", release: "13"},
		// Ubuntu releases.
		"xenial": {distro: "ubuntu", release: "16.04"}, "bionic": {distro: "ubuntu", release: "18.04"},
		"focal": {distro: "ubuntu", release: "20.04"}, "jammy": {distro: "ubuntu", release: "22.04"},
		"noble": {distro: "ubuntu", release: "24.04"}, "oracular": {distro: "ubuntu", release: "24.10"},
		"plucky": {distro: "ubuntu", release: "25.04"},
		// Windows.
		"windowsservercore": {windows: true}, "nanoserver": {windows: true},
		// .NET.
		"chiseled":   {distro: "ubuntu", distroless: true, variant: "chiseled", slim: true},
		"distroless": {distroless: true, variant: "distroless", slim: true},
		// Java.
		"jdk": {flavor: "jdk", toolchain: TriYes}, "jre": {flavor: "jre", toolchain: TriNo},
		// PHP server variants.
		"fpm": {flavor: "fpm"}, "apache": {flavor: "apache"}, "cli": {flavor: "cli"}, "zts": {flavor: "zts"},
	}
})

// ubuntuUserFrom is the first Ubuntu release whose image ships the
// "ubuntu" account (uid 1000).
const ubuntuUserFrom = "23.04"

// phpServerPorts are the ports of the PHP image variants' servers.
var phpServerPorts = map[string]int{"apache": 80, "fpm": 9000}

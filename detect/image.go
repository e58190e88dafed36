package detect

import (
	"slices"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/internal/lazyre"
)

// Tri is a yes/no answer that may be unknown; it is null in JSON when unknown.
type Tri int8

const (
	TriUnknown Tri = iota
	TriYes
	TriNo
)

func (t Tri) String() string {
	switch t {
	case TriYes:
		return "yes"
	case TriNo:
		return "no"
	}
	return "unknown"
}

// MarshalJSON writes true, false or null.
func (t Tri) MarshalJSON() ([]byte, error) {
	switch t {
	case TriYes:
		return []byte("true"), nil
	case TriNo:
		return []byte("false"), nil
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads true, false or null.
func (t *Tri) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*t = TriYes
	case "false":
		*t = TriNo
	default:
		*t = TriUnknown
	}
	return nil
}

// ImageUser is an account a base image ships.
type ImageUser struct {
	// Name is empty for images that run as a bare uid (Bitnami's 1001).
	Name string `json:"name,omitempty"`
	UID  int    `json:"uid"`
	// Home is the account's home folder where harden knows it, and
	// HomeOwned whether the image makes it and gives it to the account
	// (www-data's /var/www is root's; nginx's is /nonexistent).
	Home      string `json:"home,omitempty"`
	HomeOwned bool   `json:"homeOwned,omitempty"`
}

// userHomes are the home folders of the accounts official images ship.
var userHomes = map[string]struct {
	home  string
	owned bool
}{
	"node": {"/home/node", true}, "nonroot": {"/home/nonroot", true}, "app": {"/home/app", true},
	"ubuntu": {"/home/ubuntu", true}, "www-data": {"/var/www", false}, "nginx": {"/nonexistent", false},
}

// withHome fills in the home folder of an image's account.
func (u *ImageUser) withHome() *ImageUser {
	if h, ok := userHomes[u.Name]; ok {
		u.Home, u.HomeOwned = h.home, h.owned
	}
	return u
}

// ImageFacts are what an image reference says about the image, from its
// name and tag alone (nothing is pulled). Facts harden's tables do not
// cover are left unknown: Distro and PackageManager "unknown", Shell and
// Toolchain null, User nil.
type ImageFacts struct {
	Ref string `json:"ref"`
	// Stage and Line place the image in a Dockerfile (Result.Base only).
	Stage string `json:"stage,omitempty"`
	Line  int    `json:"line,omitempty"`
	// FromStage is set when the stage builds on an earlier stage; the
	// facts are then that stage's.
	FromStage string `json:"fromStage,omitempty"`
	// Variable is set when the reference holds ARGs without defaults.
	Variable bool `json:"variable,omitempty"`

	Registry   string `json:"registry,omitempty"`
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// Known is set when harden's tables describe the repository.
	Known bool `json:"known"`

	// Distro is the OS family: debian, ubuntu, alpine, distroless,
	// scratch, ubi, ubi-minimal, ubi-micro, wolfi, rhel, amazonlinux,
	// oraclelinux, azurelinux, busybox, windows or unknown.
	Distro        string `json:"distro"`
	DistroRelease string `json:"distroRelease,omitempty"`
	// Variant is the size variant: full, slim, alpine, distroless,
	// chiseled, minimal, micro or scratch; empty when unknown.
	Variant string `json:"variant,omitempty"`
	// Slim is set for every variant smaller than a full OS (all but full).
	Slim bool `json:"slim"`
	// Flavor is the image's role where the repository has several: jdk,
	// jre, sdk, aspnet, runtime, runtime-deps, fpm, apache, cli, dev.
	Flavor string `json:"flavor,omitempty"`
	// Shell is whether /bin/sh exists, so RUN works in shell form.
	Shell Tri `json:"shell"`
	// PackageManager is apt, apk, dnf, microdnf, yum, tdnf, none or unknown.
	PackageManager string `json:"packageManager"`
	// User is the non-root account the image ships, nil when none is known.
	User *ImageUser `json:"user,omitempty"`
	// NonRootDefault is set when the image already runs as User.
	NonRootDefault bool `json:"nonRootDefault"`

	// Runtime is the language runtime or server the image provides
	// (python, node, bun, go, java, ruby, rust, php, dotnet, nginx, httpd,
	// caddy), and RuntimeVersion its version as the tag says.
	Runtime        string    `json:"runtime,omitempty"`
	RuntimeVersion string    `json:"runtimeVersion,omitempty"`
	Ecosystem      Ecosystem `json:"ecosystem,omitempty"`
	// Toolchain is whether the image builds code (compilers, SDK, JDK).
	Toolchain Tri `json:"toolchain"`
	// Port is the port the image's own server listens on by default.
	Port int `json:"port,omitempty"`
}

// argRef matches ARG references left in an image reference.
var argRef = lazyre.New(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// argPlaceholder stands in for an unexpanded ARG so that the rest of the
// reference can still be read ("node:${V}-alpine" is still Alpine).
const argPlaceholder = "hardenarg"

var (
	versionWord  = lazyre.New(`^v?([0-9]+(?:\.[0-9]+)*)`)
	alpineWord   = lazyre.New(`^alpine([0-9]+\.[0-9]+)?$`)
	ubiWord      = lazyre.New(`^ubi([0-9]+)$`)
	azureWord    = lazyre.New(`^(?:azurelinux|cbl-mariner)([0-9.]*)$`)
	jdkWord      = lazyre.New(`^(?:jdk|jre|java)([0-9]+)$`)
	javaVendors  = []string{"temurin", "openjdk", "amazoncorretto", "corretto", "sapmachine", "semeru", "graal", "liberica", "zulu"}
	dockerMirror = []string{"public.ecr.aws/docker/library/", "mirror.gcr.io/library/", "mirror.gcr.io/"}
)

// Image describes a base image reference from its name and tag alone.
func Image(ref string) ImageFacts {
	f := ImageFacts{Ref: ref, Distro: "unknown", PackageManager: "unknown"}
	raw := strings.TrimSpace(ref)
	if strings.EqualFold(raw, "scratch") {
		f.Repository, f.Known = "scratch", true
		f.setDistro("scratch")
		f.Variant, f.Slim, f.Toolchain = "scratch", true, TriNo
		return f
	}
	if argRef().MatchString(raw) {
		f.Variable = true
		raw = argRef().ReplaceAllString(raw, argPlaceholder)
	}
	// baseimage parses names the way Docker resolves them; it avoids
	// distribution/reference, whose regular expressions cost a third of
	// harden's start-up.
	parsed := baseimage.Parse(raw)
	registry, familiar, ok := parsed.Normalized()
	if !ok {
		return f
	}
	f.Registry, f.Repository, f.Tag, f.Digest = registry, familiar, parsed.Tag, parsed.Digest
	if strings.Contains(f.Registry, argPlaceholder) || strings.Contains(f.Repository, argPlaceholder) {
		return f
	}
	name := hubName(f.Repository)
	tag := f.Tag
	if tag == "" && f.Digest == "" {
		tag = "latest"
	}
	words := parseTag(tag)
	if fam, ok := families()[name]; ok {
		f.applyFamily(fam, words)
		return f
	}
	f.applyPattern(name, words)
	return f
}

// hubName strips Docker Hub mirrors so that their images are known too.
func hubName(name string) string {
	for _, m := range dockerMirror {
		if rest, ok := strings.CutPrefix(name, m); ok {
			return rest
		}
	}
	// A private mirror of an official image keeps "library/" in its path.
	if i := strings.LastIndex(name, "/library/"); i >= 0 && strings.Contains(name[:i], ".") {
		return name[i+len("/library/"):]
	}
	return name
}

// tagInfo is what a tag's words say.
type tagInfo struct {
	version     string // leading version number
	distro      string
	distroRel   string
	slim        bool
	variant     string
	flavor      string
	toolchain   Tri
	distroless  bool
	windows     bool
	javaVersion string // java version inside a build tool's tag
	nonroot     bool   // distroless :nonroot
	debug       bool   // distroless :debug
	dev         bool   // chainguard :latest-dev
	// variable is set when an ARG without a default is part of the tag:
	// the words it would add (an OS, a variant) are unknown.
	variable bool
	first    string
}

func parseTag(tag string) tagInfo {
	var t tagInfo
	words := strings.Split(tag, "-")
	t.first = words[0]
	for i, w := range words {
		if i == 0 {
			if m := versionWord().FindStringSubmatch(w); m != nil {
				t.version = m[1]
				continue
			}
		}
		if tw, ok := tagWords()[w]; ok {
			if tw.distro != "" && t.distro == "" {
				t.distro, t.distroRel = tw.distro, tw.release
			}
			t.slim = t.slim || tw.slim
			if tw.variant != "" {
				t.variant = tw.variant
			}
			if tw.flavor != "" {
				t.flavor = tw.flavor
			}
			if tw.toolchain != TriUnknown {
				t.toolchain = tw.toolchain
			}
			t.distroless = t.distroless || tw.distroless
			t.windows = t.windows || tw.windows
			continue
		}
		switch {
		case alpineWord().MatchString(w):
			t.distro, t.distroRel = "alpine", alpineWord().FindStringSubmatch(w)[1]
		case ubiWord().MatchString(w):
			t.distro, t.distroRel = "ubi", ubiWord().FindStringSubmatch(w)[1]
		case azureWord().MatchString(w):
			t.distro, t.distroRel = "azurelinux", azureWord().FindStringSubmatch(w)[1]
		case jdkWord().MatchString(w):
			t.javaVersion = jdkWord().FindStringSubmatch(w)[1]
		case slices.Contains(javaVendors, w) && i+1 < len(words) && versionWord().MatchString(words[i+1]):
			t.javaVersion = versionWord().FindStringSubmatch(words[i+1])[1]
		case w == "nonroot":
			t.nonroot = true
		case w == "debug":
			t.debug = true
		case w == "dev":
			t.dev = true
		case strings.Contains(w, argPlaceholder):
			t.variable = true
		}
	}
	return t
}

func (f *ImageFacts) setDistro(d string) {
	f.Distro = d
	if info, ok := distros()[d]; ok {
		f.PackageManager, f.Shell = info.pm, info.shell
	} else {
		f.PackageManager, f.Shell = "unknown", TriUnknown
	}
}

// applyFamily fills the facts of a repository from the families table.
func (f *ImageFacts) applyFamily(fam family, t tagInfo) {
	f.Known = true
	f.Runtime, f.Ecosystem, f.Flavor, f.Toolchain, f.Port = fam.runtime, fam.eco, fam.flavor, fam.toolchain, fam.port
	if fam.runtimeFromTag {
		f.RuntimeVersion = t.version
	}
	if t.javaVersion != "" && fam.runtime == "java" {
		f.RuntimeVersion = t.javaVersion
	}
	distro, release := fam.distro, ""
	if fam.osRepo {
		release = osRelease(fam.distro, t)
	}
	if t.distro != "" && !fam.osRepo {
		distro, release = t.distro, t.distroRel
	}
	if distro == "" && t.slim {
		distro = fam.slimDistro
	}
	if t.variable && t.distro == "" && !fam.osRepo {
		distro = ""
	}
	switch {
	case t.windows:
		distro, release = "windows", ""
	case t.distroless:
		// chiseled Ubuntu and .NET's distroless variants
		if t.distro == "ubuntu" {
			release = t.distroRel
		}
		distro = "distroless"
	}
	if distro == "" {
		f.Distro = "unknown"
	} else {
		f.setDistro(distro)
	}
	f.DistroRelease = release
	f.variant(fam, t)
	if t.flavor != "" {
		f.Flavor = t.flavor
	}
	if t.toolchain != TriUnknown {
		f.Toolchain = t.toolchain
	}
	if fam.user != nil && (fam.userFrom == "" || f.RuntimeVersion != "" && compareVersions(f.RuntimeVersion, fam.userFrom) >= 0) {
		f.User = (&ImageUser{Name: fam.user.name, UID: fam.user.uid}).withHome()
		f.NonRootDefault = fam.nonRootDefault || t.distroless
	}
	if f.Runtime == "php" && distro == "alpine" && f.User != nil {
		f.User.UID = 82 // Alpine's www-data
	}
	if f.User == nil && f.Distro == "ubuntu" && release != "" && compareVersions(release, ubuntuUserFrom) >= 0 {
		f.User = (&ImageUser{Name: "ubuntu", UID: 1000}).withHome()
	}
	if port, ok := phpServerPorts[f.Flavor]; ok && f.Runtime == "php" {
		f.Port = port
	}
	if f.Flavor == "aspnet" && f.RuntimeVersion != "" {
		// ASP.NET Core images listen on 8080 from .NET 8, on 80 before.
		f.Port = 80
		if compareVersions(f.RuntimeVersion, "8") >= 0 {
			f.Port = 8080
		}
	}
	if f.Distro == "windows" {
		f.User = nil
	}
}

// osRelease reads the release an OS image's tag names ("bookworm-slim",
// "22.04", "3.19").
func osRelease(distro string, t tagInfo) string {
	if t.distroRel != "" {
		return t.distroRel
	}
	switch t.first {
	case "latest", "stable", "edge", "rolling", "testing", "unstable", "sid":
		return ""
	}
	if distro == "debian" || distro == "ubuntu" || distro == "alpine" || t.version != "" {
		return t.version
	}
	return ""
}

// variant decides the size variant.
func (f *ImageFacts) variant(fam family, t tagInfo) {
	switch {
	case t.distroless:
		f.Variant = t.variant
	case t.slim:
		f.Variant = "slim"
	case f.Distro == "alpine" && !(fam.osRepo && fam.distro == "alpine"):
		f.Variant = "alpine"
	case f.Distro == "alpine", f.Distro == "busybox":
		f.Variant = "minimal"
	case f.Distro == "ubi-minimal":
		f.Variant = "minimal"
	case f.Distro == "ubi-micro":
		f.Variant = "micro"
	case fam.slimByDefault:
		f.Variant = "slim"
	case f.Distro == "unknown" || f.Distro == "windows" || t.variable:
		f.Variant = ""
	default:
		f.Variant = "full"
	}
	f.Slim = f.Variant != "" && f.Variant != "full"
}

// applyPattern handles image sets whose repository names carry the
// runtime: distroless, Chainguard, Bitnami, UBI builders, .NET Framework.
func (f *ImageFacts) applyPattern(name string, t tagInfo) {
	if m := distrolessRepo().FindStringSubmatch(name); m != nil {
		f.Known = true
		f.setDistro("distroless")
		f.DistroRelease = m[4]
		f.Variant, f.Slim, f.Toolchain = "distroless", true, TriNo
		f.User = (&ImageUser{Name: nonrootUser.name, UID: nonrootUser.uid}).withHome()
		f.NonRootDefault = t.nonroot || t.first == "nonroot"
		if t.debug || t.first == "debug" {
			f.Shell = TriYes // busybox
		}
		switch {
		case m[1] == "python3":
			f.Runtime, f.RuntimeVersion, f.Ecosystem = "python", "3", Python
		case m[2] != "":
			f.Runtime, f.RuntimeVersion, f.Ecosystem = "java", m[2], Java
		case m[1] == "java-base":
			f.Runtime, f.Ecosystem = "java", Java
		case m[3] != "":
			f.Runtime, f.RuntimeVersion, f.Ecosystem = "node", m[3], Node
		}
		return
	}
	if m := chainguardRepo().FindStringSubmatch(name); m != nil {
		f.Known = true
		f.setDistro("wolfi")
		f.Variant, f.Slim = "distroless", true
		f.User, f.NonRootDefault = (&ImageUser{Name: nonrootUser.name, UID: nonrootUser.uid}).withHome(), true
		if t.dev || t.first == "dev" {
			f.Flavor, f.Shell, f.PackageManager, f.Variant = "dev", TriYes, "apk", "minimal"
		}
		if m[1] == "wolfi-base" {
			f.Shell, f.PackageManager, f.Variant = TriYes, "apk", "minimal"
			f.User, f.NonRootDefault = nil, false
		}
		f.runtimeFromPath(m[1], t)
		return
	}
	if m := bitnamiRepo().FindStringSubmatch(name); m != nil {
		f.Known = true
		f.setDistro("debian")
		f.Variant = "full"
		f.User, f.NonRootDefault = &ImageUser{UID: bitnamiUser.uid}, true
		f.runtimeFromPath(m[1], t)
		if f.Ecosystem == Static {
			f.Port = 8080
		}
		return
	}
	if m := ubiS2IRepo().FindStringSubmatch(name); m != nil {
		f.Known = true
		f.setDistro("ubi")
		f.DistroRelease, f.Variant = m[1], "full"
		f.User, f.NonRootDefault = &ImageUser{Name: s2iUser.name, UID: s2iUser.uid}, true
		f.runtimeFromPath(m[2], tagInfo{})
		if m[3] != "" {
			f.RuntimeVersion = s2iVersion(m[2], m[3])
		}
		return
	}
	if dotnetFrameworkRepo().MatchString(name) {
		f.Known = true
		f.setDistro("windows")
		f.Runtime, f.Ecosystem = "dotnet-framework", DotNet
		return
	}
	if t.windows {
		f.setDistro("windows")
	}
}

// runtimeFromPath sets the runtime named by a repository's last part.
func (f *ImageFacts) runtimeFromPath(word string, t tagInfo) {
	rt, ok := pathRuntimes()[word]
	if !ok {
		return
	}
	f.Runtime, f.Ecosystem, f.Toolchain = rt.runtime, rt.eco, rt.toolchain
	if t.version != "" {
		f.RuntimeVersion = t.version
	}
}

// s2iVersion turns the digits in a UBI builder's name into a version:
// python-311 is 3.11, nodejs-20 is 20, openjdk-21 is 21.
func s2iVersion(runtime, digits string) string {
	if (runtime == "python" || runtime == "php" || runtime == "ruby") && len(digits) >= 2 {
		return digits[:1] + "." + digits[1:]
	}
	return digits
}

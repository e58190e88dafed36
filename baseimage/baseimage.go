// Package baseimage is harden's one table of base-image choices: the slim
// variant of a fat language image, the JRE for a JDK, the runtime image for
// a build image. The mapping keeps the version the user chose, never
// introduces "latest", answers "unknown" rather than guessing, and can be
// overridden per project.
package baseimage

import (
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// Ref is an image reference split into parts. Name includes any registry
// host ("gcr.io/distroless/static-debian12").
type Ref struct {
	Name, Tag, Digest string
}

// Parse splits an image reference. A port in the registry host is not a tag.
func Parse(s string) Ref {
	var r Ref
	r.Name = s
	if i := strings.Index(r.Name, "@"); i >= 0 {
		r.Name, r.Digest = r.Name[:i], r.Name[i+1:]
	}
	if i := strings.LastIndex(r.Name, ":"); i >= 0 && !strings.Contains(r.Name[i:], "/") {
		r.Name, r.Tag = r.Name[:i], r.Name[i+1:]
	}
	return r
}

func (r Ref) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Normalized splits a reference the way Docker resolves it: the registry
// host (docker.io when none is named) and the repository as people write it
// ("python", "bitnami/redis", "gcr.io/distroless/static"). ok is false for
// references Docker would reject: empty parts, upper case in the path,
// spaces, or a malformed digest.
func (r Ref) Normalized() (registry, familiar string, ok bool) {
	name := r.Name
	if name == "" || strings.ContainsAny(name, " \t\n@") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return "", "", false
	}
	registry = "docker.io"
	if i := strings.IndexByte(name, '/'); i >= 0 {
		if host := name[:i]; strings.ContainsAny(host, ".:") || host == "localhost" || strings.ToLower(host) != host {
			registry, name = host, name[i+1:]
		}
	}
	if name != strings.ToLower(name) {
		return "", "", false
	}
	if registry == "docker.io" || registry == "index.docker.io" {
		registry = "docker.io"
		name = strings.TrimPrefix(name, "library/")
	}
	if r.Digest != "" && !validDigest(r.Digest) {
		return "", "", false
	}
	if r.Tag != "" && !validTag(r.Tag) {
		return "", "", false
	}
	if registry != "docker.io" {
		name = registry + "/" + name
	}
	return registry, name, true
}

// validTag follows the distribution spec: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
// It is written out rather than as a regular expression: a bounded
// repetition compiles into a large program at start-up.
func validTag(t string) bool {
	if len(t) == 0 || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !isWordByte(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validDigest accepts algorithm:encoded, e.g. sha256:0123abcd.
func validDigest(d string) bool {
	alg, enc, ok := strings.Cut(d, ":")
	if !ok || alg == "" || enc == "" {
		return false
	}
	for i := 0; i < len(alg); i++ {
		if c := alg[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '_' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(enc); i++ {
		if c := enc[i]; !isWordByte(c) && c != '=' && c != '-' {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// Repo is the repository without the default registry and library prefix:
// "docker.io/library/python" and "python" are both "python".
func (r Ref) Repo() string {
	n := strings.ToLower(r.Name)
	n = strings.TrimPrefix(n, "docker.io/")
	n = strings.TrimPrefix(n, "index.docker.io/")
	return strings.TrimPrefix(n, "library/")
}

// Kind is the role a mapped image plays.
type Kind string

const (
	// Slim is the same language runtime without compilers and headers.
	Slim Kind = "slim"
	// JRE is a Java runtime for a JDK or a Maven/Gradle build image.
	JRE Kind = "jre"
	// Static is a distroless image for static binaries (Go without cgo).
	Static Kind = "static"
	// Libc is a distroless image with glibc (Go with cgo, Rust).
	Libc Kind = "libc"
	// ASPNet and DotNetRuntime are .NET runtime images for an SDK image.
	ASPNet        Kind = "aspnet"
	DotNetRuntime Kind = "dotnet-runtime"
	// Unprivileged is an nginx that runs as a non-root user on port 8080.
	Unprivileged Kind = "unprivileged"
)

// Mapping finds runtime images. Overrides map an exact reference
// ("python:3.12") or a repository ("python") to the image to use instead,
// for teams with their own mirrors or golden images.
type Mapping struct {
	Overrides map[string]string
}

// Runtime returns the image to run on for kind, given the image the build
// runs on (and, where the language version cannot be read from it, the
// version detection found, e.g. "3.12"). ok is false when harden does not
// know a safe answer; why then says what is missing.
//
// A build image pinned by digest keeps its exact reference when the runtime
// is the same image (python:3.14-slim@sha256:... stays just that). Another
// image keeps its tag only: the build image's digest says nothing about it,
// and this table knows no digests (the rules pin it to a digest looked up
// through BuildKit when they are given one).
func (m Mapping) Runtime(kind Kind, from string, version string) (ref string, ok bool, why string) {
	ref, ok, why = m.runtime(kind, from, version)
	if ok {
		ref = keepPin(from, ref)
	}
	return ref, ok, why
}

// keepPin returns from itself when it is pinned by digest and the runtime
// ref names the same repository and tag without a pin of its own.
func keepPin(from, ref string) string {
	f, r := Parse(from), Parse(ref)
	if f.Digest == "" || r.Digest != "" || r.Tag != f.Tag || r.Repo() != f.Repo() {
		return ref
	}
	return from
}

func (m Mapping) runtime(kind Kind, from string, version string) (ref string, ok bool, why string) {
	if over, found := m.override(kind, from); found {
		return over, true, ""
	}
	r := Parse(from)
	repo := r.Repo()
	if r.Digest != "" && r.Tag == "" {
		return "", false, "the base image is pinned by digest only, so its variant cannot be derived"
	}
	switch kind {
	case Slim:
		return slim(r, repo, version)
	case JRE:
		return jre(r, repo, version)
	case Static, Libc:
		return distroless(kind, r, repo)
	case ASPNet, DotNetRuntime:
		return dotnet(kind, r, repo, version)
	case Unprivileged:
		if repo == "nginx" {
			if r.Tag == "" || r.Tag == "latest" {
				return "", false, "nginx has no version tag to keep"
			}
			return "nginxinc/nginx-unprivileged:" + r.Tag, true, ""
		}
		if repo == "nginxinc/nginx-unprivileged" {
			return from, true, ""
		}
		return "", false, repo + " is not nginx"
	}
	return "", false, "unknown image kind " + string(kind)
}

func (m Mapping) override(kind Kind, from string) (string, bool) {
	if len(m.Overrides) == 0 {
		return "", false
	}
	if v, ok := m.Overrides[from]; ok {
		return v, true
	}
	r := Parse(from)
	if v, ok := m.Overrides[r.Repo()+":"+r.Tag+"@"+string(kind)]; ok {
		return v, true
	}
	if v, ok := m.Overrides[r.Repo()]; ok {
		// A repository override keeps the derived tag: python -> mirror/python.
		derived, found, _ := Mapping{}.Runtime(kind, from, "")
		if !found {
			return "", false
		}
		d := Parse(derived)
		d.Name = v
		return d.String(), true
	}
	return "", false
}

var (
	versionPart = lazyre.New(`^\d+(\.\d+)*$`)
	codenames   = map[string]bool{"bookworm": true, "bullseye": true, "trixie": true, "buster": true, "jammy": true, "noble": true, "focal": true}
)

// slimTags says where each language image family puts "slim" in a tag.
var slimTags = map[string]func(tag string) (string, bool){
	"python": slimAfterVersion,
	"ruby":   slimAfterVersion,
	"node":   slimAtEnd,
	"debian": slimAtEnd,
	"perl":   slimAfterVersion,
}

func slim(r Ref, repo, version string) (string, bool, string) {
	if repo == "buildpack-deps" {
		return buildpackSlim(r)
	}
	place, known := slimTags[repo]
	if !known {
		return "", false, repo + " has no slim variant harden knows of"
	}
	tag := r.Tag
	if tag == "" || tag == "latest" {
		if version == "" {
			return "", false, "the image has no version tag; pin one (harden never introduces latest)"
		}
		tag = version
	}
	if isSmallTag(tag) {
		return r.Name + ":" + tag, true, ""
	}
	newTag, ok := place(tag)
	if !ok {
		return "", false, "harden does not know the slim variant of tag " + tag
	}
	return r.Name + ":" + newTag, true, ""
}

// buildpackSlim maps buildpack-deps, the full image the official language
// images build on, to the distro image of its release without the
// compilers and tools: debian's slim image, or ubuntu's (already minimal).
// Its -curl and -scm variants map the same way.
func buildpackSlim(r Ref) (string, bool, string) {
	release, _, _ := strings.Cut(r.Tag, "-")
	prefix := strings.TrimSuffix(r.Name, "buildpack-deps")
	switch {
	case ubuntuCodenames[release]:
		return prefix + "ubuntu:" + release, true, ""
	case codenames[release]:
		return prefix + "debian:" + release + "-slim", true, ""
	}
	return "", false, "buildpack-deps:" + r.Tag + " names no release harden knows; pin one (bookworm, trixie, jammy, noble)"
}

var ubuntuCodenames = map[string]bool{"jammy": true, "noble": true, "focal": true}

// isSmallTag is true for tags that already name a slim or alpine variant.
func isSmallTag(tag string) bool {
	for _, p := range strings.Split(tag, "-") {
		if p == "slim" || strings.HasPrefix(p, "alpine") {
			return true
		}
	}
	return false
}

// slimAfterVersion: 3.12 -> 3.12-slim, 3.12-bookworm -> 3.12-slim-bookworm.
func slimAfterVersion(tag string) (string, bool) {
	parts := strings.Split(tag, "-")
	switch {
	case versionPart().MatchString(parts[0]):
		if len(parts) > 1 && !codenames[parts[1]] {
			return "", false
		}
		return strings.Join(append([]string{parts[0], "slim"}, parts[1:]...), "-"), true
	case codenames[parts[0]] && len(parts) == 1:
		return "slim-" + tag, true
	}
	return "", false
}

// slimAtEnd: 20 -> 20-slim, 20-bookworm -> 20-bookworm-slim, bookworm -> bookworm-slim.
func slimAtEnd(tag string) (string, bool) {
	parts := strings.Split(tag, "-")
	if !versionPart().MatchString(parts[0]) && !codenames[parts[0]] && parts[0] != "lts" && parts[0] != "current" {
		return "", false
	}
	if len(parts) > 2 || len(parts) == 2 && !codenames[parts[1]] {
		return "", false
	}
	return tag + "-slim", true
}

var javaVersion = lazyre.New(`(?:^|[^\d])(8|11|17|21|25|2[2-9])(?:[^\d]|$)`)

// jre maps JDK and build-tool images to eclipse-temurin's JRE of the same
// Java release.
func jre(r Ref, repo, version string) (string, bool, string) {
	alpine := strings.Contains(r.Tag, "alpine")
	release := ""
	switch repo {
	case "eclipse-temurin", "openjdk", "amazoncorretto", "maven", "gradle", "sapmachine", "ibm-semeru-runtimes":
		if m := javaVersion().FindStringSubmatch(javaPart(repo, r.Tag)); m != nil {
			release = m[1]
		}
	default:
		return "", false, repo + " is not a JDK image harden knows"
	}
	if release == "" {
		release = version
	}
	if release == "" {
		return "", false, "the Java release is not in the tag; pin one"
	}
	if repo == "eclipse-temurin" && strings.Contains(r.Tag, "-jre") {
		return r.String(), true, ""
	}
	tag := release + "-jre"
	if alpine {
		tag += "-alpine"
	} else if distro := codenameIn(r.Tag); distro != "" {
		tag += "-" + distro
	}
	return "eclipse-temurin:" + tag, true, ""
}

// javaPart is the part of a build-tool tag that names the JDK
// ("3.9-eclipse-temurin-21" -> "eclipse-temurin-21", "8.7-jdk21" -> "jdk21").
func javaPart(repo, tag string) string {
	switch repo {
	case "maven":
		if i := strings.Index(tag, "-"); i >= 0 {
			return tag[i+1:]
		}
		return ""
	case "gradle":
		if i := strings.Index(tag, "jdk"); i >= 0 {
			return strings.TrimPrefix(tag[i:], "jdk")
		}
		return ""
	}
	return tag
}

func codenameIn(tag string) string {
	for _, p := range strings.Split(tag, "-") {
		if codenames[p] && p != "bookworm" && p != "bullseye" && p != "trixie" && p != "buster" {
			return p // temurin's Ubuntu-based tags: jammy, noble, focal
		}
	}
	return ""
}

// distroless picks Google's distroless images, which run as nonroot
// (65532) and have no shell.
func distroless(kind Kind, r Ref, repo string) (string, bool, string) {
	switch repo {
	case "golang", "rust", "debian", "ubuntu", "alpine", "scratch", "":
	default:
		if !strings.HasPrefix(repo, "gcr.io/distroless/") {
			return "", false, repo + " is not a build image harden maps to distroless"
		}
	}
	if kind == Static {
		return "gcr.io/distroless/static-debian12:nonroot", true, ""
	}
	return "gcr.io/distroless/cc-debian12:nonroot", true, ""
}

// dotnet maps the SDK image to the ASP.NET or plain runtime of the same
// version and variant.
func dotnet(kind Kind, r Ref, repo, version string) (string, bool, string) {
	if repo != "mcr.microsoft.com/dotnet/sdk" && repo != "mcr.microsoft.com/dotnet/core/sdk" {
		return "", false, repo + " is not the .NET SDK image"
	}
	tag := r.Tag
	if tag == "" || tag == "latest" {
		if version == "" {
			return "", false, "the SDK image has no version tag; pin one"
		}
		tag = version
	}
	name := "mcr.microsoft.com/dotnet/aspnet"
	if kind == DotNetRuntime {
		name = "mcr.microsoft.com/dotnet/runtime"
	}
	return name + ":" + tag, true, ""
}

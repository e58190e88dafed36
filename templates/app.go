package templates

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/internal/lazyre"
	"github.com/harden-dev/harden/transform"
)

// App is everything a template sees. Templates read its fields directly
// ({{.Port}}, {{.Python.Server}}); every string that lands outside a JSON
// array has been checked to be a plain word, path or version, so a project
// file or a flag can never smuggle a line into the Dockerfile.
type App struct {
	// Name names the image and the compose service: the folder's name,
	// lower-cased, with characters image names do not allow replaced.
	Name string
	// Ecosystem is the language ecosystem ("python", "node", ...).
	Ecosystem detect.Ecosystem
	// Variant is the template folder: "python/uv", "node/static", "go".
	Variant string
	// Framework and PackageManager are as detected or given by flags.
	Framework      string
	PackageManager string
	// Version is the runtime version the image tags pin ("3.13", "24").
	Version string
	// Versions pins the build tools the templates use: "maven", "gradle",
	// "poetry", "uv", "composer", and what detection found besides.
	Versions map[string]string
	// Port is the port the app listens on; 0 for a service without one
	// (a .NET worker).
	Port int
	// Command is the exec-form command that starts the app.
	Command []string
	// HealthPath is the HTTP path the HEALTHCHECK probes. The probe counts
	// any answer below 500 as healthy: it asks whether the app answers, not
	// whether a route exists, so frameworks' own health routes ("/up",
	// "/actuator/health") turn unhealthy exactly when they report trouble.
	HealthPath string
	// Manifests are the files the builder copies before installing the
	// dependencies, so that the install layer stays cached while the source
	// changes. Paths are relative to the app; folders end in "/".
	Manifests []string
	// Writable are paths, besides /tmp, that the running app writes; with
	// a read-only root file system they need a tmpfs (compose.yaml and the
	// docker run line mount one on each).
	Writable []string
	// User is the unprivileged account images without one of their own
	// get: by default the same name and uid harden fix creates.
	User User
	// Grants are the folders the running app writes, given to its user
	// (see Grant); empty until a first render has been read.
	Grants Grants
	// Limits are the memory and CPU limits compose.yaml and the suggested
	// docker run apply.
	Limits Limits

	Python *Python
	Node   *Node
	Go     *Go
	Java   *Java
	Rust   *Rust
	Ruby   *Ruby
	PHP    *PHP
	DotNet *DotNet
	Static *Static

	// Notes tell the user what harden assumed or could not settle: a
	// default version, a server the project does not depend on yet.
	Notes []string
}

// User is an unprivileged account a template creates.
type User struct {
	Name     string
	UID, GID int
}

// DefaultUser is harden fix's runtime user: a system account with a uid
// outside the ranges distros and base images allocate.
var DefaultUser = User{Name: transform.DefaultUser.Name, UID: transform.DefaultUser.UID, GID: transform.DefaultUser.UID}

// Limits bound what the container may use, in docker run's units.
type Limits struct {
	Memory string // "512m"
	CPUs   string // "0.5"
}

// DefaultLimits fit a small web service; compose.yaml is the place to
// raise them.
var DefaultLimits = Limits{Memory: "512m", CPUs: "0.5"}

// Overrides are facts given on the command line. Each one that is set wins
// over detection.
type Overrides struct {
	// Ecosystem is a language name or alias ("python", "js", "golang", "c#").
	Ecosystem      string
	Framework      string
	PackageManager string
	// Port must be between 1 and 65535 when set.
	Port int
	// Entrypoint is what starts the app, read the way its ecosystem names
	// it: a Python module:app or script, a Node script, a Go package, a
	// Rust binary, a Java archive, a .NET project, a folder for static
	// sites and PHP.
	Entrypoint string
	// Version is the runtime version to pin ("3.12", "22", "1.23").
	Version string
	// User replaces DefaultUser when its Name is set (a team's own
	// convention, from .harden.yaml).
	User User
	// Variant names the template folder to render ("php/fpm", or one of
	// the user's own under --templates) instead of the one harden picks;
	// its first part is the ecosystem unless Ecosystem says otherwise.
	Variant string
}

// ecosystemNames maps what users type to ecosystems. Like the other large
// tables of this package it is built on first use: only harden new reads
// them, and every other command would otherwise build them at start-up.
var ecosystemNames = sync.OnceValue(func() map[string]detect.Ecosystem {
	return map[string]detect.Ecosystem{
		"python": detect.Python, "py": detect.Python,
		"node": detect.Node, "nodejs": detect.Node, "js": detect.Node, "javascript": detect.Node, "typescript": detect.Node, "ts": detect.Node,
		"go": detect.Go, "golang": detect.Go,
		"java": detect.Java, "jvm": detect.Java, "kotlin": detect.Java,
		"ruby": detect.Ruby, "rails": detect.Ruby,
		"rust":   detect.Rust,
		"php":    detect.PHP,
		"dotnet": detect.DotNet, ".net": detect.DotNet, "csharp": detect.DotNet, "c#": detect.DotNet, "fsharp": detect.DotNet,
		"static": detect.Static, "html": detect.Static,
	}
})

// ParseEcosystem reads a --lang value.
func ParseEcosystem(s string) (detect.Ecosystem, error) {
	if e, ok := ecosystemNames()[strings.ToLower(strings.TrimSpace(s))]; ok {
		return e, nil
	}
	return "", fmt.Errorf("unknown language %q (want one of %s)", s, strings.Join(languageList(), ", "))
}

func languageList() []string {
	var out []string
	for _, e := range detect.Ecosystems {
		if e != detect.Unknown {
			out = append(out, string(e))
		}
	}
	return out
}

// ErrUnknownEcosystem is returned when neither detection nor --lang says
// what the app is.
var ErrUnknownEcosystem = errors.New("harden cannot tell what language the app is written in")

// NewApp works out what the templates need from detection's result for
// the app's folder (ctx may be nil for a folder that does not exist yet,
// facts nil when nothing was detected) and the command line's overrides.
// name is the folder's name, used for the image and the compose service.
func NewApp(ctx *buildctx.Context, facts *detect.Result, over Overrides, name string) (*App, error) {
	if facts == nil {
		facts = &detect.Result{Ecosystem: detect.Unknown, Root: "."}
	}
	if over.Variant != "" && !plainPath().MatchString(over.Variant) {
		return nil, fmt.Errorf("variant %q is not a template folder name", over.Variant)
	}
	eco := facts.Ecosystem
	if over.Ecosystem == "" && over.Variant != "" {
		lang, _, _ := strings.Cut(over.Variant, "/")
		if _, err := ParseEcosystem(lang); err != nil {
			return nil, fmt.Errorf("variant %s: its first part must be a language (%s), or pass --lang", over.Variant, strings.Join(languageList(), ", "))
		}
		over.Ecosystem = lang
	}
	if over.Ecosystem != "" {
		e, err := ParseEcosystem(over.Ecosystem)
		if err != nil {
			return nil, err
		}
		if e != eco {
			// Detection described another ecosystem: none of its facts apply.
			facts = &detect.Result{Ecosystem: e, Root: "."}
		}
		eco = e
	}
	if eco == detect.Unknown || eco == "" {
		return nil, ErrUnknownEcosystem
	}
	if facts.Root != "" && facts.Root != "." {
		return nil, fmt.Errorf("the %s app is in the subfolder %s: run harden new there", eco, facts.Root)
	}
	if over.Port < 0 || over.Port > 65535 {
		return nil, fmt.Errorf("port %d is not between 1 and 65535", over.Port)
	}
	a := &App{
		Name:           imageName(name),
		Ecosystem:      eco,
		Framework:      firstOf(over.Framework, facts.Framework),
		PackageManager: firstOf(over.PackageManager, facts.PackageManager),
		Versions:       map[string]string{},
		Port:           firstOf(over.Port, facts.Port),
		HealthPath:     "/",
		User:           DefaultUser,
		Limits:         DefaultLimits,
	}
	if over.User.Name != "" {
		a.User = over.User
		if a.User.GID == 0 {
			a.User.GID = a.User.UID
		}
	}
	for k, v := range facts.Versions {
		if k != string(eco) && versionWord().MatchString(v.Version) {
			a.Versions[k] = v.Version
		}
	}
	if err := a.pinVersion(facts, over.Version); err != nil {
		return nil, err
	}
	p := &project{ctx: ctx, facts: facts, entry: over.Entrypoint, variant: over.Variant}
	fill, ok := ecosystems()[eco]
	if !ok {
		return nil, fmt.Errorf("harden has no templates for %s", eco)
	}
	if err := fill(a, p); err != nil {
		return nil, err
	}
	if over.Variant != "" {
		a.Variant = over.Variant
	}
	for _, m := range a.Manifests {
		if !p.exists(strings.TrimSuffix(m, "/")) {
			a.note("the Dockerfile copies %s, which the app's folder does not have yet", m)
		}
	}
	for k, v := range toolDefaults {
		if _, set := a.Versions[k]; !set {
			a.Versions[k] = v
		}
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	return a, nil
}

// ecosystems fill in each ecosystem's part of an App and choose its variant.
var ecosystems = sync.OnceValue(func() map[detect.Ecosystem]func(*App, *project) error {
	return map[detect.Ecosystem]func(*App, *project) error{
		detect.Python: fillPython,
		detect.Node:   fillNode,
		detect.Go:     fillGo,
		detect.Java:   fillJava,
		detect.Rust:   fillRust,
		detect.Ruby:   fillRuby,
		detect.PHP:    fillPHP,
		detect.DotNet: fillDotNet,
		detect.Static: fillStatic,
	}
})

// project is what the ecosystem fillers read: the context's files,
// detection's conclusions and the --entrypoint and --variant flags.
type project struct {
	ctx     *buildctx.Context
	facts   *detect.Result
	entry   string
	variant string
}

// exists reports whether the app's folder holds p (sent to the builder or not).
func (p *project) exists(name string) bool { return p.ctx != nil && p.ctx.Exists(name) }

// read returns the start of a file of the app, or nil.
func (p *project) read(name string) []byte {
	if p.ctx == nil {
		return nil
	}
	data, err := p.ctx.ReadHead(name, 1<<20)
	if err != nil {
		return nil
	}
	return data
}

// entryValue is --entrypoint, else detection's entrypoint when it is of
// one of kinds.
func (p *project) entryValue(kinds ...detect.EntryKind) string {
	if p.entry != "" {
		return p.entry
	}
	if e := p.facts.Entrypoint; e != nil && slices.Contains(kinds, e.Kind) {
		return e.Value
	}
	return ""
}

// pinVersion sets Version: --version, else detection's version of the
// runtime, else harden's default (with a note saying where to pin one).
func (a *App) pinVersion(facts *detect.Result, flag string) error {
	switch {
	case flag != "":
		a.Version = flag
	case facts.Versions[runtimeKey(a.Ecosystem)].Version != "":
		v := facts.Versions[runtimeKey(a.Ecosystem)]
		a.Version = v.Version
		if d := runtimeDefaults()[a.Ecosystem]; v.Constraint != "" && olderRelease(v.Version, d.version) {
			a.note("%s %s is the lowest version %s allows (%s), and the image pins it; harden's default is %s: pin a newer version there, or pass --version",
				d.name, v.Version, v.File, v.Constraint, d.version)
		}
	default:
		d := runtimeDefaults()[a.Ecosystem]
		a.Version = d.version
		if d.version != "" {
			a.note("%s %s is harden's default; pin the version you test with in %s", d.name, d.version, d.pinIn)
		}
	}
	if a.Version != "" && !versionWord().MatchString(a.Version) {
		return fmt.Errorf("version %q is not an image tag version (digits, letters, dots and dashes)", a.Version)
	}
	return nil
}

// olderRelease reports whether version a's major.minor is below b's;
// false when either cannot be read.
func olderRelease(a, b string) bool {
	var amaj, amin, bmaj, bmin int
	if _, err := fmt.Sscanf(a, "%d.%d", &amaj, &amin); err != nil {
		if _, err := fmt.Sscanf(a, "%d", &amaj); err != nil {
			return false
		}
	}
	if _, err := fmt.Sscanf(b, "%d.%d", &bmaj, &bmin); err != nil {
		if _, err := fmt.Sscanf(b, "%d", &bmaj); err != nil {
			return false
		}
	}
	return amaj < bmaj || amaj == bmaj && amin < bmin
}

// runtimeKey is the key of an ecosystem's runtime in detection's Versions.
func runtimeKey(e detect.Ecosystem) string {
	if e == detect.Static {
		return "nginx"
	}
	return string(e)
}

func (a *App) note(format string, args ...any) {
	a.Notes = append(a.Notes, fmt.Sprintf(format, args...))
}

var (
	versionWord = lazyre.New(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)
	// plainPath is a relative path or word that needs no quoting in a
	// Dockerfile or a shell command: no spaces, quotes, variables or line
	// breaks, and no leading dash that a command would read as an option.
	plainPath = lazyre.New(`^[A-Za-z0-9_.][A-Za-z0-9_.@+/-]*$`)
	// nameChars are what an image name may not contain, collapsed to "-".
	nameChars = lazyre.New(`[^a-z0-9._-]+`)
)

// check refuses values that would break the Dockerfile or a shell command
// when written outside a JSON array.
func (a *App) check() error {
	words := map[string]string{"framework": a.Framework, "package manager": a.PackageManager, "user": a.User.Name}
	for what, v := range words {
		if v != "" && !plainPath().MatchString(v) || strings.Contains(v, "/") {
			return fmt.Errorf("%s %q has characters harden does not write into a Dockerfile", what, v)
		}
	}
	for k, v := range a.Versions {
		if !versionWord().MatchString(v) {
			return fmt.Errorf("%s version %q is not a plain version", k, v)
		}
	}
	paths := append(append([]string{a.HealthPath}, a.Manifests...), a.Writable...)
	paths = append(paths, a.ecosystemPaths()...)
	for _, p := range paths {
		if p != "" && !plainPath().MatchString(strings.TrimPrefix(p, "/")) && p != "/" {
			return fmt.Errorf("path %q has characters harden does not write into a Dockerfile; rename it or pass --entrypoint", p)
		}
	}
	if len(a.Command) == 0 && a.Variant != "node/static" && a.Variant != "static" && a.Ecosystem != detect.PHP {
		return fmt.Errorf("harden cannot tell how %s starts: pass --entrypoint", a.Name)
	}
	return nil
}

// ecosystemPaths lists the ecosystem fields that templates write as paths.
func (a *App) ecosystemPaths() []string {
	var out []string
	if a.Python != nil {
		out = append(out, a.Python.Requirements)
	}
	if a.Node != nil {
		out = append(out, a.Node.BuildScript)
	}
	if a.Go != nil {
		out = append(append(out, a.Go.Package, a.Go.Binary), a.Go.Assets...)
	}
	if a.Java != nil {
		// The archive may be a glob, which COPY expands.
		out = append(out, strings.NewReplacer("*", "x", "?", "x").Replace(a.Java.Artifact))
	}
	if a.Rust != nil {
		out = append(out, a.Rust.Binary)
	}
	if a.Ruby != nil {
		out = append(out, a.Ruby.Packages...)
	}
	if a.PHP != nil {
		out = append(append(append(out, a.PHP.DocumentRoot), a.PHP.Extensions...), a.PHP.Writable...)
	}
	if a.DotNet != nil {
		out = append(out, a.DotNet.Project, a.DotNet.Assembly)
	}
	if a.Static != nil {
		out = append(out, a.Static.Root)
	}
	return out
}

// imageName turns a folder name into an image and service name.
func imageName(folder string) string {
	n := strings.Trim(nameChars().ReplaceAllString(strings.ToLower(folder), "-"), "-._")
	if n == "" {
		return "app"
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func firstOf[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}

// cleanRel makes a detected or given path relative to the app and
// slash-separated; ok is false for paths outside it.
func cleanRel(p string) (string, bool) {
	p = path.Clean(strings.ReplaceAll(p, `\`, "/"))
	p = strings.TrimPrefix(p, "./")
	if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return "", false
	}
	return p, true
}

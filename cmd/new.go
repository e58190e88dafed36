package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/internal/lazyre"
	"github.com/harden-dev/harden/internal/safewrite"
	"github.com/harden-dev/harden/templates"
	"github.com/harden-dev/harden/transform"
)

// NewOptions are the flags and arguments of `harden new`.
type NewOptions struct {
	Streams *Streams

	Dir            string
	Lang           string
	Framework      string
	PackageManager string
	Port           int
	Entrypoint     string
	Version        string
	Variant        string
	Templates      string
	Compose        bool
	Force          bool
	DryRun         bool
}

// NewCmdNew builds `harden new`. runF replaces the run function in tests.
func NewCmdNew(s *Streams, runF func(*NewOptions) error) *cobra.Command {
	opts := &NewOptions{Streams: s}
	c := &cobra.Command{
		Use:   "new [flags] [DIR]",
		Short: "Write a hardened Dockerfile and .dockerignore for a new service",
		Long: `new detects the language of the app in DIR (default: the current folder; a folder that
does not exist yet is created) and writes a hardened Dockerfile and .dockerignore from
harden's templates, and with --compose a compose.yaml that runs the service with a
read-only root file system, no-new-privileges, every capability dropped and memory and
CPU limits. It then runs harden check on the result and prints the commands to build
and run the image.

The templates use a builder stage where it helps, a slim or distroless runtime, a
non-root user, versions pinned from the project (or a documented default, never
latest), BuildKit cache mounts, exec-form commands and a HEALTHCHECK where the runtime
has a tool to run one.

Flags override what detection finds. --entrypoint is what starts the app, in the
ecosystem's terms: a Python module:app or script, a Node.js script, a Go package, a
Rust binary, a Java archive, a .NET project file, or the folder a static site or PHP
app publishes. --variant picks a template folder (e.g. php/fpm, node/static).

--templates DIR renders from your own templates, laid out like harden's
(<language>/<variant>/Dockerfile.tmpl, <language>/.dockerignore.tmpl,
compose.yaml.tmpl, shared _*.tmpl blocks): a file there wins over harden's, which
fill in the rest. Templates are Go text/template files.

` + wrapWords("harden's templates: "+variantList()+".", 88) + `

new never overwrites a file: when any of them exists it writes nothing. --force replaces
the Dockerfile and compose.yaml and merges harden's entries into an existing
.dockerignore, keeping its lines. A file that is a symbolic link stays a link, and the
file it leads to is written only when it is inside the repository (the git checkout,
else DIR). new never prompts.

Exit codes: 0 success, 2 usage error, unknown language, or a file in the way.`,
		Example: `  harden new                                  # the current folder
  harden new --compose services/api          # also write compose.yaml
  harden new --lang go --port 9000 worker    # a new folder, no detection needed
  harden new --variant php/fpm --force .     # replace the files with the PHP-FPM template
  harden new --templates ~/our-templates .   # your organisation's templates first
  harden new --dry-run                       # print the files instead of writing them`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Dir = folderArg(args)
			if runF != nil {
				return runF(opts)
			}
			return newRun(opts)
		},
	}
	fl := c.Flags()
	fl.StringVar(&opts.Lang, "lang", "", "language: python, node, go, java, ruby, rust, php, dotnet or static (default: detected)")
	fl.StringVar(&opts.Framework, "framework", "", "framework, e.g. flask, django, fastapi, next, rails, laravel, spring-boot (default: detected)")
	fl.StringVar(&opts.PackageManager, "package-manager", "", "package manager: pip, poetry, uv, npm, yarn, pnpm, maven or gradle (default: detected)")
	fl.IntVar(&opts.Port, "port", 0, "port the app listens on (default: detected, else the framework's usual one)")
	fl.StringVar(&opts.Entrypoint, "entrypoint", "", "what starts the app: module:app, a script, a package, a binary, an archive or a folder")
	fl.StringVar(&opts.Version, "version", "", "runtime version to pin, e.g. 3.12 or 22 (default: from the project, else harden's default)")
	fl.StringVar(&opts.Variant, "variant", "", "template folder to render, e.g. python/uv, node/static, php/fpm (default: chosen from detection)")
	fl.StringVar(&opts.Templates, "templates", "", "folder of your own templates, searched before harden's")
	fl.BoolVar(&opts.Compose, "compose", false, "also write compose.yaml with a hardened runtime configuration")
	fl.BoolVarP(&opts.Force, "force", "f", false, "replace an existing Dockerfile and compose.yaml, merge into an existing .dockerignore")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the files on standard output and write nothing")
	return c
}

func newRun(opts *NewOptions) error {
	s := opts.Streams
	p, err := planNew(opts)
	if err != nil {
		return err
	}
	// Messages go to standard error when standard output carries the files.
	if opts.DryRun {
		for _, f := range p.files {
			fmt.Fprintf(s.Out, "# ---- %s ----\n", filepath.Join(p.dir, f.Name))
			if _, err := s.Out.Write(f.Data); err != nil {
				return err
			}
		}
		printNotes(s.ErrOut, p.app)
		return nil
	}
	if !opts.Force {
		var inTheWay []string
		for _, f := range p.files {
			if _, err := os.Lstat(filepath.Join(p.dir, f.Name)); err == nil {
				inTheWay = append(inTheWay, filepath.Join(p.dir, f.Name))
			}
		}
		if len(inTheWay) > 0 {
			return usageError("%s already %s; nothing was written (--force replaces the Dockerfile and compose.yaml and merges into the .dockerignore)", joinAnd(inTheWay), plural(len(inTheWay), "exists", "exist"))
		}
	}
	if err := writeFiles(p.dir, p.files); err != nil {
		return &exitError{code: ExitFailure, err: err}
	}
	written := make([]string, len(p.files))
	for i, f := range p.files {
		written[i] = filepath.Join(p.dir, f.Name)
	}
	fmt.Fprintf(s.Out, "%s\nwrote %s from the %s template\n", describe(p.app), joinAnd(written), p.app.Variant)
	if p.mergedIgnore {
		fmt.Fprintf(s.Out, "kept the lines of the existing %s and added harden's entries below them\n", filepath.Join(p.dir, templates.DockerIgnore))
	}
	printNotes(s.Out, p.app)
	if err := checkWritten(s.Out, p.dir, p.files, p.cfg); err != nil {
		return &exitError{code: ExitFailure, err: err}
	}
	printNextSteps(s.Out, p.dir, p.app, opts.Compose)
	return nil
}

// newPlan is what harden new will write, before anything is written.
type newPlan struct {
	dir   string
	app   *templates.App
	files []templates.File
	cfg   *config.Config
	// mergedIgnore is set when the .dockerignore is an existing one with
	// harden's entries merged in.
	mergedIgnore bool
}

// planNew detects the app, applies the flags and .harden.yaml, and renders
// the files.
func planNew(opts *NewOptions) (*newPlan, error) {
	p := &newPlan{dir: opts.Dir}
	exists, err := folderExists(p.dir)
	if err != nil {
		return nil, usageError("%v", err)
	}
	var ctx *buildctx.Context
	var facts *detect.Result
	if exists {
		if ctx, err = buildctx.Open(p.dir, ""); err != nil {
			return nil, &exitError{code: ExitFailure, err: err}
		}
		facts = detect.Detect(ctx, nil)
	}
	if p.cfg, err = (&config.Cache{}).ForDir(nearestFolder(p.dir)); err != nil {
		return nil, &exitError{code: ExitFailure, err: err}
	}
	p.app, err = templates.NewApp(ctx, facts, overrides(opts, p.cfg), folderName(p.dir))
	if errors.Is(err, templates.ErrUnknownEcosystem) {
		return nil, usageError("%s: %v; pass --lang (one of python, node, go, java, ruby, rust, php, dotnet, static)", p.dir, err)
	}
	if err != nil {
		return nil, usageError("%s: %v", p.dir, err)
	}
	source := templates.Embedded()
	if opts.Templates != "" {
		if source, err = templates.WithDir(opts.Templates); err != nil {
			return nil, usageError("%v", err)
		}
	}
	names := []string{templates.Dockerfile, templates.DockerIgnore}
	if opts.Compose {
		names = append(names, templates.Compose)
	}
	if p.files, err = source.RenderApp(ctx, p.app, names...); err != nil {
		return nil, &exitError{code: ExitFailure, err: err}
	}
	if p.mergedIgnore, err = settleIgnore(p.dir, exists, p.files, p.app, facts); err != nil {
		return nil, &exitError{code: ExitFailure, err: err}
	}
	return p, nil
}

// variantList names harden's template folders for the help text.
func variantList() string {
	variants, err := templates.Embedded().Variants()
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return joinAnd(variants)
}

// wrapWords breaks text into lines of at most width characters.
func wrapWords(text string, width int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && line+1+len(w) > width {
			b.WriteByte('\n')
			line = 0
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// overrides turns the flags, and the runtime user of .harden.yaml, into
// template overrides.
func overrides(opts *NewOptions, cfg *config.Config) templates.Overrides {
	over := templates.Overrides{
		Ecosystem:      opts.Lang,
		Framework:      opts.Framework,
		PackageManager: opts.PackageManager,
		Port:           opts.Port,
		Entrypoint:     opts.Entrypoint,
		Version:        opts.Version,
		Variant:        opts.Variant,
	}
	if cfg != nil && cfg.User != nil {
		over.User = templates.User{Name: cfg.User.Name, UID: cfg.User.UID, GID: cfg.User.GID}
	}
	return over
}

// folderExists reports whether dir exists; a path that is not a folder is
// an error.
func folderExists(dir string) (bool, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case !st.IsDir():
		return false, fmt.Errorf("%s is not a folder", dir)
	}
	return true, nil
}

// nearestFolder is dir, or the closest folder above it that exists, where
// the search for .harden.yaml starts.
func nearestFolder(dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if ok, _ := folderExists(d); ok || d == filepath.Dir(d) {
			return d
		}
	}
}

// folderName is the name of the app's folder, which names the image.
func folderName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(dir)
}

// writeFiles creates dir if needed and writes each file atomically, through
// a symbolic link only to a file inside the repository (see safewrite):
// every file is checked before the first is written. When a write fails,
// the files this call created are removed again, so that a failed run
// leaves the folder as it was (files it replaced under --force keep their
// new content: each replacement is whole).
func writeFiles(dir string, files []templates.File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if _, err := safewrite.Target(filepath.Join(dir, f.Name), dir); err != nil {
			return err
		}
	}
	var created []string
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		_, statErr := os.Lstat(p)
		if err := safewrite.File(p, f.Data, dir); err != nil {
			for _, c := range created {
				os.Remove(c)
			}
			return err
		}
		if errors.Is(statErr, fs.ErrNotExist) {
			created = append(created, p)
		}
	}
	return nil
}

// settleIgnore plans the .dockerignore the way harden fix does, so that
// harden fix has nothing to add afterwards whatever the template (a user's
// own may list less) and no entry hides a file the Dockerfile copies.
// harden's own templates already list everything, which the templates
// tests prove. An existing .dockerignore (replaced only under --force) is
// never clobbered: it is the base harden's entries are merged into, so
// merged reports whether that happened.
func settleIgnore(dir string, exists bool, files []templates.File, app *templates.App, facts *detect.Result) (merged bool, err error) {
	var df *dockerfile.File
	var ign *templates.File
	for i, f := range files {
		switch f.Name {
		case templates.Dockerfile:
			if df, err = dockerfile.Parse(filepath.Join(dir, f.Name), f.Data); err != nil {
				return false, err
			}
		case templates.DockerIgnore:
			ign = &files[i]
		}
	}
	// A folder that does not exist yet has nothing to plan for: the
	// planner's choices depend on the files the context holds.
	if df == nil || ign == nil || !exists {
		return false, nil
	}
	file, err := ignore.Locate(filepath.Join(dir, templates.Dockerfile), dir)
	if err != nil {
		return false, err
	}
	if file.Data == nil || file.Path != filepath.Join(dir, templates.DockerIgnore) {
		file = &ignore.File{Path: filepath.Join(dir, templates.DockerIgnore), Data: ign.Data, Shared: true}
	} else {
		merged = true
	}
	ecosystems := []string{string(app.Ecosystem)}
	if facts != nil {
		for _, e := range facts.Also {
			ecosystems = append(ecosystems, string(e))
		}
	}
	res, err := ignore.Generate(os.DirFS(dir), df, file, ignore.Options{Ecosystems: ecosystems})
	if err != nil {
		return false, fmt.Errorf("%s: planning the .dockerignore: %w", dir, err)
	}
	ign.Data = res.New
	return merged, nil
}

// checkWritten runs harden check on the written Dockerfile with the folder
// as build context (and the new .dockerignore in force), so the user sees
// what is left to decide: a missing lockfile, a rule .harden.yaml turns up.
func checkWritten(w io.Writer, dir string, files []templates.File, cfg *config.Config) error {
	var src []byte
	for _, f := range files {
		if f.Name == templates.Dockerfile {
			src = f.Data
		}
	}
	ctx, err := buildctx.Open(dir, templates.Dockerfile)
	if err != nil {
		return err
	}
	name := filepath.Join(dir, templates.Dockerfile)
	df, err := dockerfile.Parse(name, src)
	if err != nil {
		return err
	}
	opts := transform.Options{Level: transform.LevelStructural, Context: ctx, Facts: detect.Detect(ctx, df)}
	cfg.Apply(&opts, nil)
	findings := transform.CheckFile(df, opts)
	if len(findings) == 0 {
		fmt.Fprintf(w, "harden check finds nothing to fix in %s\n", name)
		return nil
	}
	fmt.Fprintf(w, "harden check leaves %d %s for you:\n", len(findings), plural(len(findings), "finding", "findings"))
	for _, f := range findings {
		fmt.Fprintf(w, "  %s:%d: %s: %s (%s): %s\n", name, f.Line, f.Severity, f.Rule.Name, f.Rule.ID, f.Message)
	}
	return nil
}

// describe says in one line what harden new concluded about the app.
func describe(app *templates.App) string {
	var facts []string
	for _, f := range []string{app.Framework, app.PackageManager} {
		if f != "" && f != string(app.Ecosystem) {
			facts = append(facts, f)
		}
	}
	s := app.Name + ": " + string(app.Ecosystem)
	if app.Version != "" {
		s += " " + app.Version
	}
	if len(facts) > 0 {
		s += " (" + strings.Join(facts, ", ") + ")"
	}
	if app.Port != 0 {
		s += fmt.Sprintf(", port %d", app.Port)
	}
	if len(app.Command) > 0 {
		s += ", runs " + shellJoin(app.Command...)
	}
	return s
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func printNotes(w io.Writer, app *templates.App) {
	for _, n := range app.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// printNextSteps prints the commands that build the image and run it
// locked down: read-only, no new privileges, no capabilities, bounded.
func printNextSteps(w io.Writer, dir string, app *templates.App, compose bool) {
	run := []string{"docker", "run", "--rm", "--init", "--read-only", "--tmpfs", "/tmp"}
	for _, p := range app.Writable {
		run = append(run, "--tmpfs", p)
	}
	run = append(run, "--security-opt", "no-new-privileges", "--cap-drop", "ALL",
		"--memory", app.Limits.Memory, "--cpus", app.Limits.CPUs)
	if app.Port != 0 {
		run = append(run, "-p", fmt.Sprintf("%d:%d", app.Port, app.Port))
	}
	run = append(run, app.Name)
	fmt.Fprintf(w, "\nNext steps:\n")
	fmt.Fprintf(w, "  %s\n", shellJoin("docker", "build", "-t", app.Name, dir))
	fmt.Fprintf(w, "  %s\n", shellJoin(run...))
	if compose {
		if filepath.Clean(dir) == "." {
			fmt.Fprintf(w, "  docker compose up --build\n")
		} else {
			fmt.Fprintf(w, "  %s\n", shellJoin("docker", "compose", "-f", filepath.Join(dir, templates.Compose), "up", "--build"))
		}
	}
}

// shellSafe are words a POSIX shell reads as themselves.
var shellSafe = lazyre.New(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin quotes each word that needs it, so the line can be pasted.
func shellJoin(words ...string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if shellSafe().MatchString(w) {
			out[i] = w
		} else {
			out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

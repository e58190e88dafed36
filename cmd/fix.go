package cmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/internal/safewrite"
	"github.com/harden-dev/harden/output"
	"github.com/harden-dev/harden/transform"
	"github.com/harden-dev/harden/unidiff"
)

// FixOptions are the flags and arguments of `harden fix`.
type FixOptions struct {
	Streams *Streams

	Paths      []string
	Diff       bool
	Write      bool
	Check      bool
	ContextDir string
	Only, Skip []string
	Level      string
	All        bool
	Recursive  bool
	Quiet      bool
	Jobs       int
	ConfigFile string
	// Dockerignore is "auto" (plan the ignore file and write or diff it
	// with the Dockerfile) or "skip".
	Dockerignore string
	// PRBody is a file to write a pull-request description to.
	PRBody string
	// Build adds a size report of each changed file to PRBody: both
	// versions built with BuildKit at BuildKitHost, as harden report does.
	Build        bool
	BuildKitHost string
	// Format is "text" (the file, a diff or a list) or "json" for bots.
	Format string
	// TLS authenticates to a BuildKit on tcp:// (--build, --verify).
	TLS buildjob.TLS

	// Verify builds and starts the original and the rewrite and keeps only
	// the changes that work (see package verify).
	Verify bool
	// Smoke is a command run inside each started image that must exit 0
	// (--build, --verify); empty means .harden.yaml's smoke settings, else
	// the default check.
	Smoke string
	// BuildTimeout bounds each build and SmokeTimeout each wait for a
	// started image to answer; zero means the defaults.
	BuildTimeout, SmokeTimeout time.Duration
	// BuildArgs and Target apply to every --verify build.
	BuildArgs []string
	Target    string
}

// NewCmdFix builds `harden fix`. runF replaces the run function in tests.
func NewCmdFix(s *Streams, runF func(*FixOptions) error) *cobra.Command {
	opts := &FixOptions{Streams: s}
	c := &cobra.Command{
		Use:   "fix [flags] PATH...",
		Short: "Rewrite Dockerfiles into hardened ones",
		Long: `fix applies harden's rules to each Dockerfile and prints the hardened file (like gofmt),
a unified diff (--diff), writes it in place (--write) or reports what would change (--check).

PATH is a Dockerfile, a folder (its Dockerfile; with --all also *.Dockerfile and
Dockerfile.*; with --recursive every subfolder too) or - for standard input.
--recursive skips test fixtures (folders named testdata, fixtures or __fixtures__, as
the go command skips testdata) unless such a folder is named on the command line.
Every change is listed on standard error with its rule and reason.

--write replaces files atomically. A symbolic link stays a link and the file it leads to
is written, but only inside the repository (the git checkout, else the folder named on
the command line): a link that leads outside, dangles or loops is refused, and nothing is
written for that Dockerfile.

--verify proves the rewrite instead of trusting it: harden-build builds the original and
the rewrite with BuildKit (same context, the ignore file each would have) and starts each
with the smoke check (its port answers, or it keeps running, or --smoke CMD exits 0 in it;
.harden.yaml's smoke: sets the check per repository). When the rewrite fails, harden
leaves out each structural change in turn (the split, the user, the dependency order,
the base swap), then narrows down from the safe changes, and proposes the largest set of
changes that builds and starts; the summary, --format json and --pr-body say what was
left out and why. When the original itself does not build or start, nothing is proposed
(exit 3). BuildKit is found as harden report finds it; --tls* or BUILDKIT_TLS_* reach a
daemon on tcp:// with mutual TLS, and kube-pod:// reaches one in Kubernetes.

Exit codes: 0 success, 1 --check found changes, 2 usage or input error (also: BuildKit
unreachable with --verify; nothing is then written), 3 --verify: an original image does
not build or start (nothing proposed for it).`,
		Example: `  harden fix Dockerfile                 # print the hardened Dockerfile
  harden fix --diff Dockerfile          # review as a unified diff (applies with git apply -p1)
  harden fix --write --recursive .      # fix every Dockerfile in a repository
  harden fix --check --all services/    # CI gate
  harden fix --verify --write .         # keep only the changes whose image builds and starts
  cat Dockerfile | harden fix --context . -   # read standard input`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return fixRun(opts)
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&opts.Diff, "diff", "d", false, "print a unified diff instead of the fixed file")
	fl.BoolVarP(&opts.Write, "write", "w", false, "write the fixed file in place (atomically)")
	fl.BoolVar(&opts.Check, "check", false, "change nothing; exit 1 and list the files that would change")
	fl.StringVar(&opts.ContextDir, "context", "", "build context folder (default: each Dockerfile's folder)")
	fl.StringSliceVar(&opts.Only, "only", nil, "run only these rules (IDs or names, comma-separated)")
	fl.StringSliceVar(&opts.Skip, "skip", nil, "skip these rules (IDs or names, comma-separated)")
	fl.StringVar(&opts.Level, "level", "structural", "fix level: safe (flags and cleanup only) or structural (also stages, bases, users)")
	fl.BoolVar(&opts.All, "all", false, "in folders, also fix *.Dockerfile and Dockerfile.* files")
	fl.BoolVarP(&opts.Recursive, "recursive", "r", false, "in folders, also look in subfolders (skipping .git, node_modules, vendor and test fixtures: testdata, fixtures, __fixtures__)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not list changes on standard error")
	fl.IntVarP(&opts.Jobs, "jobs", "j", runtime.GOMAXPROCS(0), "files to process in parallel (with --verify: to build and start at once)")
	fl.StringVar(&opts.ConfigFile, "config", "", "settings file (default: .harden.yaml found by walking up from each Dockerfile)")
	fl.StringVar(&opts.Dockerignore, "dockerignore", "auto", "auto: also generate the .dockerignore (written with --write, shown with --diff); skip: leave it alone")
	fl.StringVar(&opts.PRBody, "pr-body", "", "write a Markdown pull-request description of the changes to this file")
	fl.BoolVar(&opts.Build, "build", false, "with --pr-body: build each changed file before and after with BuildKit and add the size report (as harden report does)")
	fl.StringVar(&opts.BuildKitHost, "buildkit-host", "", "BuildKit `address` for --build and --verify, e.g. tcp://buildkitd:1234 or kube-pod://buildkitd-0 (default: $BUILDKIT_HOST, then the usual sockets)")
	fl.StringVar(&opts.Format, "format", "text", "text, or json: describe each file's changes and findings on standard output (for bots)")
	fl.BoolVar(&opts.Verify, "verify", false, "build and start the original and the rewrite with BuildKit, and propose only the changes that still build and start")
	fl.StringVar(&opts.Smoke, "smoke", "", "with --verify or --build: a `command` run inside each started image that must exit 0, instead of waiting for its port (shell quoting, no expansion)")
	fl.DurationVar(&opts.BuildTimeout, "build-timeout", buildjob.DefaultBuildTimeout, "with --verify: cut off each build after this long")
	fl.DurationVar(&opts.SmokeTimeout, "smoke-timeout", 0, "with --verify: how long a started image gets to answer (default: smoke.timeout in .harden.yaml, else 30s)")
	fl.StringArrayVar(&opts.BuildArgs, "build-arg", nil, "with --verify: build argument `KEY=VALUE` for every build (KEY alone takes the value from the environment); repeatable")
	fl.StringVar(&opts.Target, "target", "", "with --verify: the `stage` to build in every file")
	addTLSFlags(fl, &opts.TLS)
	c.MarkFlagsMutuallyExclusive("diff", "write", "check")
	return c
}

// fileResult is the outcome for one target.
type fileResult struct {
	target target
	res    *transform.Result
	err    error
	// prep is what the run knew about the file, for the ignore file.
	prep *prepared
	// ignore is the planned ignore file, nil when none is planned.
	ignore *ignore.Result
	// verification is what --verify proved; nil without it.
	verification *output.Verification
	// dropIgnore is set when --verify did not keep the ignore file.
	dropIgnore bool
	// broken is set when --verify found the original failing.
	broken bool
}

func fixRun(opts *FixOptions) error {
	s := opts.Streams
	level, err := transform.ParseLevel(opts.Level)
	if err != nil {
		return usageError("%v", err)
	}
	rules, err := transform.Select(opts.Only, opts.Skip)
	if err != nil {
		return usageError("%v", err)
	}
	if opts.Dockerignore != "auto" && opts.Dockerignore != "skip" {
		return usageError("--dockerignore: unknown value %q (want auto or skip)", opts.Dockerignore)
	}
	if opts.Format != "text" && opts.Format != "json" {
		return usageError("--format: unknown value %q (want text or json)", opts.Format)
	}
	if opts.Build && opts.PRBody == "" {
		return usageError("--build adds a size report to --pr-body; give --pr-body FILE, or run harden report")
	}
	if opts.Smoke != "" && !opts.Verify && !opts.Build {
		return usageError("--smoke is the check of --verify and --build; give one of them")
	}
	if opts.Build {
		// Before anything is written: --write with a missing companion
		// would otherwise change the files and then fail.
		if _, err := buildjob.Find(); err != nil {
			return &exitError{code: ExitFailure, err: err}
		}
		if err := checkTLSFlags(opts.TLS); err != nil {
			return err
		}
	}
	var configs config.Cache
	var explicit *config.Config
	if opts.ConfigFile != "" {
		if explicit, err = configs.Load(opts.ConfigFile); err != nil {
			return usageError("%v", err)
		}
	}
	targets, errs := findTargets(opts.Paths, opts.All, opts.Recursive)
	if n := countStdin(targets); n > 0 && opts.Write {
		return usageError("--write cannot write to standard input; use --diff or redirect the output")
	} else if n > 1 {
		return usageError("standard input (-) can be read only once")
	} else if n > 0 && opts.Verify && opts.ContextDir == "" {
		return usageError("--verify builds the images from a context folder: give --context for standard input")
	}
	var verifying *verifySetup
	if opts.Verify {
		// Before anything is fixed: without BuildKit nothing is written.
		if verifying, err = prepareVerify(opts, os.LookupEnv); err != nil {
			return err
		}
		s = &Streams{In: s.In, Out: s.Out, ErrOut: verifying.errOut, OutTTY: s.OutTTY}
		o := *opts
		o.Streams = s
		opts = &o
	}
	failed := false
	var report []output.FixFile
	for _, e := range errs {
		fmt.Fprintf(s.ErrOut, "harden: %v\n", e)
		report = append(report, output.FixFile{Path: errorPath(e), Err: e})
		failed = true
	}

	var lookup digestLookup
	if opts.Build || opts.Verify {
		// They reach a BuildKit anyway: it looks up the digests a rewrite
		// needs to keep a base image's pin on another runtime image.
		lookup = buildKitLookup(opts.BuildKitHost, opts.TLS, "")
	}
	results := runParallel(targets, opts.Jobs, func(t target) fileResult {
		cfg, err := configFor(t, opts.ContextDir, explicit, &configs)
		if err != nil {
			return fileResult{target: t, err: err}
		}
		r := fixTarget(t, opts, cfg, rules, level, lookup)
		if verifying != nil {
			r = verifyFix(r, opts, cfg, verifying)
		}
		return r
	})

	changedFiles := 0
	broken := false
	planned := map[string]bool{} // ignore files already planned in this run
	for r := range results {
		if r.err == nil && opts.Dockerignore == "auto" && !r.target.stdin && !r.dropIgnore {
			r.ignore, r.err = planIgnoreFor(r, opts, planned)
		}
		entry := output.FixFile{Path: displayName(r.target), Result: r.res, Err: r.err, Verification: r.verification}
		if r.err != nil {
			fmt.Fprintf(s.ErrOut, "harden: %v\n", r.err)
			report = append(report, entry)
			failed = true
			continue
		}
		if r.res.Changed() || r.ignore != nil && r.ignore.Changed() {
			changedFiles++
		}
		written, err := emitFix(opts, r)
		entry.Written = written
		if err != nil {
			fmt.Fprintf(s.ErrOut, "harden: %v\n", err)
			entry.Err = err
			failed = true
		}
		report = append(report, entry)
		broken = broken || r.broken
		if !opts.Quiet && err == nil {
			summarize(s.ErrOut, r)
		}
		if r.verification != nil && err == nil && (!opts.Quiet || r.broken) {
			summarizeVerification(s.ErrOut, displayName(r.target), r.verification)
		}
	}
	if opts.Format == "json" {
		if err := output.FixJSON(s.Out, output.DefaultTool(Version()), report); err != nil {
			return err
		}
	}
	if opts.PRBody != "" {
		sizes := ""
		if opts.Build {
			var built bool
			if sizes, built, err = prSizeReports(opts, report); err != nil {
				return err // harden-build has said why
			}
			failed = failed || !built
		}
		var body bytes.Buffer
		if err := output.PRBody(&body, report, sizes); err != nil {
			return err
		}
		if err := safewrite.File(opts.PRBody, body.Bytes(), ""); err != nil {
			fmt.Fprintf(s.ErrOut, "harden: %v\n", err)
			failed = true
		}
	}
	switch {
	case failed:
		return exitCode(ExitFailure)
	case broken:
		return exitCode(ExitBroken)
	case opts.Check && changedFiles > 0:
		return exitCode(ExitFound)
	}
	return nil
}

// planIgnoreFor plans the ignore file for a fixed Dockerfile. The plan is
// made while results are emitted in order, so that a shared .dockerignore
// written for one Dockerfile is the base for the next; in the other modes
// it is shown once.
func planIgnoreFor(r fileResult, opts *FixOptions, planned map[string]bool) (*ignore.Result, error) {
	res, err := ignore.ForDockerfile(r.target.path, opts.ContextDir, r.res.File, ignore.Options{Ecosystems: r.prep.facts.Ecosystems(), Context: r.prep.ctx})
	if err != nil {
		return nil, fmt.Errorf("%s: planning the ignore file: %w", r.target.path, err)
	}
	if planned[res.Path] && !opts.Write {
		return nil, nil
	}
	planned[res.Path] = true
	return res, nil
}

// runParallel processes targets on jobs goroutines and yields the results
// in input order, each as soon as it and all before it are done.
func runParallel[R any](targets []target, jobs int, work func(target) R) <-chan R {
	jobs = max(1, jobs)
	slots := make([]chan R, len(targets))
	for i := range slots {
		slots[i] = make(chan R, 1)
	}
	sem := make(chan struct{}, jobs)
	go func() {
		for i, t := range targets {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				slots[i] <- work(t)
			}()
		}
	}()
	out := make(chan R)
	go func() {
		defer close(out)
		for _, slot := range slots {
			out <- <-slot
		}
	}()
	return out
}

// fixTarget reads, parses and fixes one file, looking up the digests of
// runtime images that lost their base's pin when lookup is not nil.
// Nothing is written here.
func fixTarget(t target, opts *FixOptions, cfg *config.Config, rules []*transform.Rule, level transform.Level, lookup digestLookup) fileResult {
	p, err := prepareTarget(t, opts.Streams.In, opts.ContextDir, cfg, rules, opts.Only, level)
	if err != nil {
		return fileResult{target: t, err: err}
	}
	res, err := transform.FixFile(p.file, p.options)
	if err == nil {
		res, err = pinAgain(p, res, lookup)
	}
	return fileResult{target: t, res: res, err: err, prep: p}
}

// readTarget reads a Dockerfile, refusing oversized files before reading
// them into memory.
func readTarget(t target, stdin io.Reader) ([]byte, string, error) {
	if t.stdin {
		src, err := io.ReadAll(io.LimitReader(stdin, dockerfile.MaxSize+1))
		if err != nil {
			return nil, "<stdin>", fmt.Errorf("<stdin>: %w", err)
		}
		return src, "<stdin>", nil
	}
	st, err := os.Stat(t.path)
	if err != nil {
		if broken := safewrite.BrokenLink(t.path); broken != nil {
			return nil, t.path, broken
		}
		return nil, t.path, err
	}
	if st.Size() > dockerfile.MaxSize {
		return nil, t.path, &dockerfile.Error{File: t.path, Msg: fmt.Sprintf("file is %d bytes, over the %d MiB limit for a Dockerfile", st.Size(), dockerfile.MaxSize>>20)}
	}
	src, err := os.ReadFile(t.path)
	return src, t.path, err
}

// openContext opens the build context for a target: --context, else the
// Dockerfile's folder; standard input has none unless --context is given.
func openContext(t target, contextDir string) (*buildctx.Context, error) {
	name := ""
	if !t.stdin {
		name = t.path
	}
	switch {
	case contextDir != "":
		return buildctx.Open(contextDir, name)
	case t.stdin:
		return nil, nil
	}
	return buildctx.Open(filepath.Dir(t.path), name)
}

// emitFix prints or writes one result according to the mode, and returns
// the companion files it wrote.
func emitFix(opts *FixOptions, r fileResult) ([]output.WrittenFile, error) {
	s := opts.Streams
	res, ig := r.res, r.ignore
	igChanged := ig != nil && ig.Changed()
	text := opts.Format == "text"
	switch {
	case opts.Check:
		if res.Changed() && text {
			fmt.Fprintln(s.Out, displayName(r.target))
		}
		if igChanged && text {
			fmt.Fprintln(s.Out, ig.Path)
		}
	case opts.Diff:
		if !text {
			return nil, nil
		}
		name := diffName(r.target.path, r.target.stdin)
		if _, err := io.WriteString(s.Out, unidiff.Diff("a/"+name, "b/"+name, res.Input, res.Output)); err != nil {
			return nil, err
		}
		if igChanged {
			igName := diffName(ig.Path, false)
			from := "a/" + igName
			if ig.Old == nil {
				from = "/dev/null"
			}
			_, err := io.WriteString(s.Out, unidiff.Diff(from, "b/"+igName, ig.Old, ig.New))
			return nil, err
		}
	case opts.Write:
		// Both files are checked before either is written: a link that
		// leads out of the repository stops the whole write.
		var writes []safewrite.Write
		if res.Changed() {
			writes = append(writes, safewrite.Write{Path: r.target.path, Data: res.Output})
		}
		if igChanged {
			writes = append(writes, safewrite.Write{Path: ig.Path, Data: ig.New})
		}
		if err := safewrite.Files(writes, r.target.root); err != nil {
			return nil, err
		}
		if igChanged {
			what := "updated"
			if ig.Old == nil {
				what = "created"
			}
			return []output.WrittenFile{{Path: ig.Path, Description: fmt.Sprintf("%s: %d %s keep secrets and bulk out of the build context", what, len(ig.Added), plural(len(ig.Added), "entry", "entries"))}}, nil
		}
	default:
		if text {
			_, err := s.Out.Write(res.Output)
			return nil, err
		}
	}
	return nil, nil
}

func displayName(t target) string {
	if t.stdin {
		return "<stdin>"
	}
	return t.path
}

// diffName is the path shown after a/ and b/: slash-separated and
// relative, so that `git apply` from the same folder finds the file.
func diffName(path string, stdin bool) string {
	if stdin {
		return "Dockerfile"
	}
	p := filepath.ToSlash(filepath.Clean(path))
	return strings.TrimLeft(strings.TrimPrefix(p, "./"), "/")
}

// summarize lists each applied change with its rule and reason, then the
// warnings and errors left for a person to decide; info findings are only
// counted (harden check shows them). The counts come from the same lists
// that are printed, so "N findings left" always matches the lines above.
func summarize(w io.Writer, r fileResult) {
	name := displayName(r.target)
	for _, c := range r.res.Changes {
		fmt.Fprintf(w, "%s:%d: %s (%s): %s\n", name, c.Line, c.Rule.Name, c.Rule.ID, c.Description)
	}
	listed, infos := 0, 0
	for _, f := range r.res.Findings {
		if f.Severity < transform.Warning {
			infos++
			continue
		}
		listed++
		fmt.Fprintf(w, "%s:%d: %s: %s (%s): %s\n", name, f.Line, f.Severity, f.Rule.Name, f.Rule.ID, f.Message)
	}
	if ig := r.ignore; ig != nil && ig.Changed() {
		fmt.Fprintf(w, "%s: %d %s to keep secrets and bulk out of the build context (%s)\n", ig.Path, len(ig.Added), plural(len(ig.Added), "entry", "entries"), ig.SizeLine())
	}
	changes := len(r.res.Changes)
	if changes > 0 && listed == 0 && infos == 0 {
		return // the changes say it all
	}
	line := "nothing to change"
	if changes > 0 {
		line = fmt.Sprintf("%d %s", changes, plural(changes, "change", "changes"))
	}
	if listed > 0 {
		line += fmt.Sprintf("; %d %s left for you", listed, plural(listed, "finding", "findings"))
	}
	if infos > 0 {
		line += fmt.Sprintf("; %d info %s", infos, plural(infos, "finding", "findings"))
	}
	if listed+infos > 0 {
		line += fmt.Sprintf(" (harden check %s)", name)
	}
	fmt.Fprintf(w, "%s: %s\n", name, line)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

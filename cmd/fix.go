package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
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
Every change is listed on standard error with its rule and reason.

Exit codes: 0 success, 1 --check found changes, 2 usage or input error.`,
		Example: `  harden fix Dockerfile                 # print the hardened Dockerfile
  harden fix --diff Dockerfile          # review as a unified diff (applies with git apply -p1)
  harden fix --write --recursive .      # fix every Dockerfile in a repository
  harden fix --check --all services/    # CI gate
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
	fl.BoolVarP(&opts.Recursive, "recursive", "r", false, "in folders, also look in subfolders (skipping .git, node_modules, vendor)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not list changes on standard error")
	fl.IntVarP(&opts.Jobs, "jobs", "j", runtime.GOMAXPROCS(0), "files to process in parallel")
	c.MarkFlagsMutuallyExclusive("diff", "write", "check")
	return c
}

// fileResult is the outcome for one target.
type fileResult struct {
	target target
	res    *transform.Result
	err    error
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
	targets, errs := findTargets(opts.Paths, opts.All, opts.Recursive)
	stdinCount := 0
	for _, t := range targets {
		if t.stdin {
			stdinCount++
		}
	}
	if stdinCount > 0 && opts.Write {
		return usageError("--write cannot write to standard input; use --diff or redirect the output")
	}
	if stdinCount > 1 {
		return usageError("standard input (-) can be read only once")
	}
	failed := false
	for _, e := range errs {
		fmt.Fprintf(s.ErrOut, "harden: %v\n", e)
		failed = true
	}

	results := runParallel(targets, opts.Jobs, func(t target) fileResult {
		return fixTarget(t, opts, rules, level)
	})

	changedFiles := 0
	for r := range results {
		if r.err != nil {
			fmt.Fprintf(s.ErrOut, "harden: %v\n", r.err)
			failed = true
			continue
		}
		if r.res.Changed() {
			changedFiles++
		}
		if err := emitFix(opts, r); err != nil {
			fmt.Fprintf(s.ErrOut, "harden: %v\n", err)
			failed = true
			continue
		}
		if !opts.Quiet {
			summarize(s.ErrOut, r)
		}
	}
	switch {
	case failed:
		return exitCode(ExitFailure)
	case opts.Check && changedFiles > 0:
		return exitCode(ExitFound)
	}
	return nil
}

// runParallel processes targets on jobs goroutines and yields the results
// in input order, each as soon as it and all before it are done.
func runParallel(targets []target, jobs int, work func(target) fileResult) <-chan fileResult {
	jobs = max(1, jobs)
	slots := make([]chan fileResult, len(targets))
	for i := range slots {
		slots[i] = make(chan fileResult, 1)
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
	out := make(chan fileResult)
	go func() {
		defer close(out)
		for _, slot := range slots {
			out <- <-slot
		}
	}()
	return out
}

// fixTarget reads, parses and fixes one file. Nothing is written here.
func fixTarget(t target, opts *FixOptions, rules []*transform.Rule, level transform.Level) fileResult {
	src, name, err := readTarget(t, opts.Streams.In)
	if err != nil {
		return fileResult{target: t, err: err}
	}
	ctx, err := openContext(t, opts.ContextDir)
	if err != nil {
		return fileResult{target: t, err: fmt.Errorf("%s: build context: %w", name, err)}
	}
	res, err := transform.Fix(name, src, transform.Options{Rules: rules, Level: level, Context: ctx})
	return fileResult{target: t, res: res, err: err}
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
		name = filepath.Base(t.path)
	}
	switch {
	case contextDir != "":
		return buildctx.Open(contextDir, name)
	case t.stdin:
		return nil, nil
	}
	return buildctx.Open(filepath.Dir(t.path), name)
}

// emitFix prints or writes one result according to the mode.
func emitFix(opts *FixOptions, r fileResult) error {
	s := opts.Streams
	res := r.res
	switch {
	case opts.Check:
		if res.Changed() {
			fmt.Fprintln(s.Out, displayName(r.target))
		}
	case opts.Diff:
		name := diffName(r.target)
		_, err := io.WriteString(s.Out, unidiff.Diff("a/"+name, "b/"+name, res.Input, res.Output))
		return err
	case opts.Write:
		if res.Changed() {
			return writeAtomic(r.target.path, res.Output)
		}
	default:
		_, err := s.Out.Write(res.Output)
		return err
	}
	return nil
}

func displayName(t target) string {
	if t.stdin {
		return "<stdin>"
	}
	return t.path
}

// diffName is the path shown after a/ and b/: slash-separated and
// relative, so that `git apply` from the same folder finds the file.
func diffName(t target) string {
	if t.stdin {
		return "Dockerfile"
	}
	p := filepath.ToSlash(filepath.Clean(t.path))
	return strings.TrimLeft(strings.TrimPrefix(p, "./"), "/")
}

// summarize lists each applied change with its rule and reason, then the
// warnings and errors left for a person to decide; info findings are only
// counted (harden check shows them).
func summarize(w io.Writer, r fileResult) {
	name := displayName(r.target)
	for _, c := range r.res.Changes {
		fmt.Fprintf(w, "%s:%d: %s (%s): %s\n", name, c.Line, c.Rule.Name, c.Rule.ID, c.Description)
	}
	for _, f := range r.res.Findings {
		if f.Severity >= transform.Warning {
			fmt.Fprintf(w, "%s:%d: %s: %s (%s): %s\n", name, f.Line, f.Severity, f.Rule.Name, f.Rule.ID, f.Message)
		}
	}
	changes, open := len(r.res.Changes), len(r.res.Findings)
	switch {
	case changes == 0 && open == 0:
		fmt.Fprintf(w, "%s: nothing to change\n", name)
	case open == 0:
	case changes == 0:
		fmt.Fprintf(w, "%s: nothing to change; %d %s left for you (harden check %s)\n", name, open, plural(open, "finding", "findings"), name)
	default:
		fmt.Fprintf(w, "%s: %d %s; %d %s left for you (harden check %s)\n", name, changes, plural(changes, "change", "changes"), open, plural(open, "finding", "findings"), name)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeAtomic replaces path with data through a temporary file in the same
// folder and a rename, so a crash or a full disk never leaves a half-written
// Dockerfile. The file keeps its mode (and owner, when running as root).
func writeAtomic(path string, data []byte) (err error) {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".harden-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(st.Mode().Perm()); err != nil {
		return err
	}
	chownLike(tmp, st)
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}

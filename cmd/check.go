package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/output"
	"github.com/harden-dev/harden/transform"
)

// CheckOptions are the flags and arguments of `harden check`.
type CheckOptions struct {
	Streams *Streams

	Paths      []string
	Format     string
	FailOn     string
	ContextDir string
	Only, Skip []string
	ConfigFile string
	All        bool
	Recursive  bool
	Jobs       int
}

// NewCmdCheck builds `harden check`. runF replaces the run function in
// tests.
func NewCmdCheck(s *Streams, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{Streams: s}
	c := &cobra.Command{
		Use:   "check [flags] PATH...",
		Short: "Report findings without changing anything (CI gate)",
		Long: `check runs every rule on each Dockerfile and reports what it finds, fixable or not:
severity, file:line:column, rule ID and name, message, a link to the rule's documentation
and the hadolint code where one maps. Nothing is written.

PATH is a Dockerfile, a folder (its Dockerfile; with --all also *.Dockerfile and
Dockerfile.*; with --recursive every subfolder too) or - for standard input.
--recursive skips test fixtures (folders named testdata, fixtures or __fixtures__, as
the go command skips testdata) unless such a folder is named on the command line.

Formats: text (default), json, sarif (2.1.0, for GitHub code scanning), markdown (a table
for pull request comments and job summaries) and github (workflow commands that annotate
the pull request).

Settings come from .harden.yaml, found by walking up from each Dockerfile to the
repository root, or from --config. Suppress a finding with "# harden:ignore=RULE" (or
"# hadolint ignore=DLxxxx") on the line above the instruction, or for a whole file with
"# harden:ignore-file=RULE".

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or
input error (including a file that does not parse).`,
		Example: `  harden check Dockerfile                        # findings, with links to the rule docs
  harden check --recursive --all .               # every Dockerfile in a repository
  harden check --format sarif . > harden.sarif   # upload to GitHub code scanning
  harden check --format github --fail-on error . # annotate a pull request, fail on errors only
  harden check --skip missing-healthcheck,HD419 Dockerfile`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return checkRun(opts)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&opts.Format, "format", "f", "text", "output format: text, json, sarif, markdown or github")
	fl.StringVar(&opts.FailOn, "fail-on", "warning", "exit 1 when a finding has this severity or higher: error, warning, info or none")
	fl.StringVar(&opts.ContextDir, "context", "", "build context folder (default: each Dockerfile's folder)")
	fl.StringSliceVar(&opts.Only, "only", nil, "run only these rules (IDs, names or hadolint codes, comma-separated)")
	fl.StringSliceVar(&opts.Skip, "skip", nil, "skip these rules (IDs, names or hadolint codes, comma-separated)")
	fl.StringVar(&opts.ConfigFile, "config", "", "settings file (default: .harden.yaml found by walking up from each Dockerfile)")
	fl.BoolVar(&opts.All, "all", false, "in folders, also check *.Dockerfile and Dockerfile.* files")
	fl.BoolVarP(&opts.Recursive, "recursive", "r", false, "in folders, also look in subfolders (skipping .git, node_modules, vendor and test fixtures: testdata, fixtures, __fixtures__)")
	fl.IntVarP(&opts.Jobs, "jobs", "j", runtime.GOMAXPROCS(0), "files to check in parallel")
	return c
}

// failOnNone is the --fail-on value that never fails on findings.
const failOnNone = "none"

func checkRun(opts *CheckOptions) error {
	s := opts.Streams
	format, err := output.ParseFormat(opts.Format)
	if err != nil {
		return usageError("%v", err)
	}
	gate, gateOn, err := parseFailOn(opts.FailOn)
	if err != nil {
		return usageError("%v", err)
	}
	rules, err := transform.Select(opts.Only, opts.Skip)
	if err != nil {
		return usageError("%v", err)
	}
	var configs config.Cache
	var explicit *config.Config
	if opts.ConfigFile != "" {
		if explicit, err = configs.Load(opts.ConfigFile); err != nil {
			return usageError("%v", err)
		}
	}
	targets, missing := findTargets(opts.Paths, opts.All, opts.Recursive)
	if n := countStdin(targets); n > 1 {
		return usageError("standard input (-) can be read only once")
	}

	report := &output.Report{Tool: output.DefaultTool(Version()), Rules: rules}
	if wd, err := os.Getwd(); err == nil {
		report.SrcRoot = wd
	}
	for _, e := range missing {
		report.Files = append(report.Files, output.File{Path: errorPath(e), Err: e})
	}
	results := runParallel(targets, opts.Jobs, func(t target) output.File {
		cfg, err := configFor(t, opts.ContextDir, explicit, &configs)
		if err != nil {
			return output.File{Path: displayName(t), Err: err}
		}
		return checkTarget(t, opts, cfg, rules)
	})
	for f := range results {
		report.Files = append(report.Files, f)
	}

	failed := printErrors(s, report.Files)
	if err := output.WriteFindings(s.Out, format, report); err != nil {
		return err
	}
	switch {
	case failed:
		return exitCode(ExitFailure)
	case gateOn && output.AtOrAbove(report.Files, gate) > 0:
		return exitCode(ExitFound)
	}
	return nil
}

// parseFailOn reads --fail-on; on is false for "none".
func parseFailOn(s string) (sev transform.Severity, on bool, err error) {
	if strings.EqualFold(s, failOnNone) {
		return 0, false, nil
	}
	sev, err = transform.ParseSeverity(s)
	if err != nil {
		return 0, false, fmt.Errorf("--fail-on: unknown value %q (want error, warning, info or none)", s)
	}
	return sev, true, nil
}

// checkTarget reads, parses and checks one file.
func checkTarget(t target, opts *CheckOptions, cfg *config.Config, rules []*transform.Rule) output.File {
	p, err := prepareTarget(t, opts.Streams.In, opts.ContextDir, cfg, rules, opts.Only, transform.LevelStructural)
	if err != nil {
		return output.File{Path: displayName(t), Err: err}
	}
	return output.File{Path: displayName(t), Src: p.src, Findings: transform.CheckFile(p.file, p.options)}
}

// printErrors reports every file that could not be checked on standard
// error, each message once (a broken .harden.yaml would otherwise be
// repeated for every Dockerfile under it), and says whether there were any.
func printErrors(s *Streams, files []output.File) bool {
	seen := map[string]bool{}
	for _, f := range files {
		if f.Err == nil {
			continue
		}
		msg := f.Err.Error()
		if !seen[msg] {
			seen[msg] = true
			fmt.Fprintf(s.ErrOut, "harden: %s\n", msg)
		}
	}
	return len(seen) > 0
}

// errorPath is the path an error from findTargets is about.
func errorPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	path, _, _ := strings.Cut(err.Error(), ": ")
	return path
}

func countStdin(targets []target) int {
	n := 0
	for _, t := range targets {
		if t.stdin {
			n++
		}
	}
	return n
}

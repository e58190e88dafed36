package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/output"
	"github.com/harden-dev/harden/transform"
)

// ReportOptions are the flags and argument of `harden report`.
type ReportOptions struct {
	Streams *Streams

	Path         string
	ContextDir   string
	BuildKitHost string
	BuildArgs    []string
	Target       string
	Platform     string
	NoCache      bool
	Progress     string
	Format       string
	// Smoke is a command run inside the hardened container that must exit 0;
	// empty means the default check (its port answers, or it keeps running).
	Smoke   string
	NoSmoke bool
	// LayoutDir keeps both images as OCI layouts.
	LayoutDir  string
	Level      string
	Only, Skip []string
	ConfigFile string
	Quiet      bool
	// TLS authenticates to a BuildKit on tcp://.
	TLS buildjob.TLS
}

// NewCmdReport builds `harden report`. runF replaces the run function in tests.
func NewCmdReport(s *Streams, runF func(*ReportOptions) error) *cobra.Command {
	opts := &ReportOptions{Streams: s}
	c := &cobra.Command{
		Use:   "report [flags] PATH",
		Short: "Build the original and the hardened Dockerfile with BuildKit and compare them",
		Long: `report hardens a Dockerfile in memory (as fix would, without writing anything), builds the
original and the hardened file with BuildKit from the same context, and compares the images:
compressed and uncompressed size, layers, user and build time, with the delta and ratio
of each. Then it starts the hardened image with runc, as docker run would, and checks that
it still works: its exposed port answers, or it keeps running for a few seconds, or the
--smoke command exits 0 inside it. It reports the uid the process ran as and whether it
stops on SIGTERM.

PATH is a Dockerfile or a folder holding one, or - for standard input (with --context).
BuildKit is found through --buildkit-host, then $BUILDKIT_HOST, then buildkitd's socket,
the rootless socket and a Docker engine's socket; docker-container://, kube-pod://, tcp://
and the other BuildKit connection helpers work. A daemon on tcp:// with mutual TLS takes
buildctl's --tlscacert, --tlscert, --tlskey, --tlsservername or --tlsdir, or the same
settings from BUILDKIT_TLS_CACERT, _CERT, _KEY, _SERVERNAME or _DIR. BuildKit's own progress goes to standard error,
the report to standard output. The smoke check needs root and runc on this machine;
without them it is reported as not run. .harden.yaml's smoke: (command, or port,
http_path and timeout) sets the check for a repository; --smoke wins. The builds run in harden-build, harden's BuildKit
companion, found through $HARDEN_BUILD, beside harden, or on PATH.

Exit codes: 0 both images built and the hardened one passed its smoke check (or it was
not run); 1 a build failed (the other is still reported) or the hardened image failed its
smoke check; 2 usage or input error, BuildKit unreachable, or --smoke given and the check
could not run.`,
		Example: `  harden report .                                   # the Dockerfile in this folder
  harden report --format markdown Dockerfile >> "$GITHUB_STEP_SUMMARY"
  harden report --smoke 'python -c "import app"' services/api
  harden report --buildkit-host docker-container://buildx_buildkit_default .
  harden report --build-arg PY=3.12 --target runtime --progress plain .`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Path = args[0]
			if runF != nil {
				return runF(opts)
			}
			return reportRun(opts)
		},
	}
	fl := c.Flags()
	fl.StringVar(&opts.ContextDir, "context", "", "build context folder (default: the Dockerfile's folder)")
	fl.StringVar(&opts.BuildKitHost, "buildkit-host", "", "BuildKit `address`, e.g. unix:///run/buildkit/buildkitd.sock, tcp://host:1234 or docker-container://NAME (default: $BUILDKIT_HOST, then the usual sockets)")
	fl.StringArrayVar(&opts.BuildArgs, "build-arg", nil, "build argument `KEY=VALUE` for both builds (KEY alone takes the value from the environment); repeatable")
	fl.StringVar(&opts.Target, "target", "", "stage to build in both files")
	fl.StringVar(&opts.Platform, "platform", "", "platform to build for, e.g. linux/arm64 (default: the daemon's)")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "build without BuildKit's cache, for comparable build times")
	fl.StringVar(&opts.Progress, "progress", "auto", "BuildKit progress on standard error: auto, plain, tty or quiet")
	fl.StringVarP(&opts.Format, "format", "f", "text", "report format: text, markdown (a table and a chart for pull requests) or json")
	fl.StringVar(&opts.Smoke, "smoke", "", "smoke check: a `command` run inside the hardened container that must exit 0 (shell quoting, no expansion)")
	fl.BoolVar(&opts.NoSmoke, "no-smoke", false, "do not start the hardened image")
	fl.StringVar(&opts.LayoutDir, "oci-layout", "", "keep both images as OCI layouts in `DIR`/original and DIR/hardened")
	fl.StringVar(&opts.Level, "level", "structural", "fix level: safe (flags and cleanup only) or structural (also stages, bases, users)")
	fl.StringSliceVar(&opts.Only, "only", nil, "apply only these rules (IDs or names, comma-separated)")
	fl.StringSliceVar(&opts.Skip, "skip", nil, "skip these rules (IDs or names, comma-separated)")
	fl.StringVar(&opts.ConfigFile, "config", "", "settings file (default: .harden.yaml found by walking up from the Dockerfile)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not list harden's changes on standard error")
	addTLSFlags(fl, &opts.TLS)
	c.MarkFlagsMutuallyExclusive("smoke", "no-smoke")
	return c
}

func reportRun(opts *ReportOptions) error {
	format, err := buildjob.ParseFormat(opts.Format)
	if err != nil {
		return usageError("--format: %v", err)
	}
	progress, err := buildjob.ParseProgress(opts.Progress)
	if err != nil {
		return usageError("--progress: %v", err)
	}
	buildArgs, err := parseBuildArgs(opts.BuildArgs, os.LookupEnv)
	if err != nil {
		return usageError("%v", err)
	}
	if opts.Smoke != "" {
		if _, err := buildjob.ParseSmokeCommand(opts.Smoke); err != nil {
			return usageError("--smoke: %v", err)
		}
	}
	if err := checkTLSFlags(opts.TLS); err != nil {
		return err
	}
	level, err := transform.ParseLevel(opts.Level)
	if err != nil {
		return usageError("%v", err)
	}
	rules, err := transform.Select(opts.Only, opts.Skip)
	if err != nil {
		return usageError("%v", err)
	}
	// Finding the companion before hardening spares the user a list of
	// changes followed by "cannot build".
	if _, err := buildjob.Find(); err != nil {
		return &exitError{code: ExitFailure, err: err}
	}

	hardened, cfg, err := hardenForReport(opts, rules, level)
	if err != nil {
		return err
	}
	var smokeCheck *buildjob.Smoke
	if !opts.NoSmoke {
		smokeCheck = smokeFor(&FixOptions{Smoke: opts.Smoke}, cfg)
	}
	return runBuildJob(opts.Streams, opts.Streams.Out, buildjob.Job{
		Kind: buildjob.KindReport, BuildKitHost: opts.BuildKitHost, TLS: opts.TLS, Inputs: []buildjob.Input{hardened},
		BuildArgs: buildArgs, Target: opts.Target, Platform: opts.Platform, NoCache: opts.NoCache,
		Progress: progress, Format: format, LayoutDir: opts.LayoutDir, Smoke: smokeCheck,
	})
}

// runBuildJob runs harden-build and passes its exit code on. It has said
// what went wrong itself, so a failure returns a silent exit code.
func runBuildJob(s *Streams, out io.Writer, job buildjob.Job) error {
	code, err := buildjob.Run(job, out, s.ErrOut)
	switch {
	case err != nil:
		return &exitError{code: ExitFailure, err: err}
	case code != buildjob.ExitOK:
		return exitCode(code)
	}
	return nil
}

// hardenForReport runs the fix pipeline on the one target, in memory, and
// lists the changes as fix does. It returns the file's settings too.
func hardenForReport(opts *ReportOptions, rules []*transform.Rule, level transform.Level) (buildjob.Input, *config.Config, error) {
	targets, errs := findTargets([]string{opts.Path}, false, false)
	if len(errs) > 0 {
		return buildjob.Input{}, nil, errs[0]
	}
	t := targets[0]
	contextDir := contextDirOf(t, opts.ContextDir)
	if contextDir == "" {
		return buildjob.Input{}, nil, usageError("standard input needs --context: the images are built from a context folder")
	}
	var configs config.Cache
	var cfg *config.Config
	var err error
	if opts.ConfigFile != "" {
		if cfg, err = configs.Load(opts.ConfigFile); err != nil {
			return buildjob.Input{}, nil, usageError("%v", err)
		}
	} else if cfg, err = configFor(t, opts.ContextDir, nil, &configs); err != nil {
		return buildjob.Input{}, nil, err
	}
	p, err := prepareTarget(t, opts.Streams.In, opts.ContextDir, cfg, rules, opts.Only, level)
	if err != nil {
		return buildjob.Input{}, nil, err
	}
	res, err := transform.FixFile(p.file, p.options)
	if err == nil {
		res, err = pinAgain(p, res, buildKitLookup(opts.BuildKitHost, opts.TLS, opts.Platform))
	}
	if err != nil {
		return buildjob.Input{}, nil, err
	}
	if !opts.Quiet {
		summarize(opts.Streams.ErrOut, fileResult{target: t, res: res})
	}
	in := buildjob.Input{Dockerfile: displayName(t), ContextDir: contextDir, Original: res.Input, Hardened: res.Output, Changes: len(res.Changes)}
	if !t.stdin {
		// Each build gets the ignore file it would really have: the user's
		// for the original, the one harden fix writes for the hardened file.
		planned, err := ignore.ForDockerfile(t.path, opts.ContextDir, res.File, ignore.Options{Ecosystems: p.facts.Ecosystems(), Context: p.ctx})
		if err != nil {
			return buildjob.Input{}, nil, err
		}
		in.OriginalIgnore, in.HardenedIgnore = planned.Old, planned.New
	}
	return in, cfg, nil
}

// parseBuildArgs reads --build-arg values. KEY alone takes its value from
// the environment, as docker build does, but an unset KEY is an error
// rather than silently dropped.
func parseBuildArgs(args []string, lookup func(string) (string, bool)) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return nil, fmt.Errorf("--build-arg %q: want KEY=VALUE", a)
		}
		if !ok {
			if v, ok = lookup(k); !ok {
				return nil, fmt.Errorf("--build-arg %s: no value given and %s is not set in the environment", k, k)
			}
		}
		out[k] = v
	}
	return out, nil
}

// prSizeReports is fix --build: harden-build builds the original and the
// hardened version of every file fix changed, smoke-checks the hardened
// image, and returns the reports' Markdown for the pull-request body. ok is
// false when a build or a smoke check failed, so that a bot does not open
// the request blindly; the Markdown says what failed.
func prSizeReports(opts *FixOptions, files []output.FixFile) (markdown string, ok bool, err error) {
	var inputs []buildjob.Input
	for _, f := range files {
		if f.Err != nil || f.Result == nil || !f.Result.Changed() || f.Path == "<stdin>" && opts.ContextDir == "" {
			continue
		}
		inputs = append(inputs, buildjob.Input{
			Dockerfile: f.Path, ContextDir: contextDirOf(target{path: f.Path, stdin: f.Path == "<stdin>"}, opts.ContextDir),
			Original: f.Result.Input, Hardened: f.Result.Output, Changes: len(f.Result.Changes),
		})
	}
	if len(inputs) == 0 {
		return "", true, nil
	}
	var b strings.Builder
	err = runBuildJob(opts.Streams, &b, buildjob.Job{
		Kind: buildjob.KindPullRequest, BuildKitHost: opts.BuildKitHost, TLS: opts.TLS, Inputs: inputs,
		Progress: buildjob.ProgressQuiet, Smoke: &buildjob.Smoke{Command: opts.Smoke, Required: opts.Smoke != ""},
	})
	var exit *exitError
	if errors.As(err, &exit) && exit.code == ExitFound {
		return b.String(), false, nil
	}
	return b.String(), err == nil, err
}

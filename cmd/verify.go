package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/output"
	"github.com/harden-dev/harden/transform"
	"github.com/harden-dev/harden/verify"
)

// ExitBroken is fix --verify's exit code when the original image of a file
// does not build or start: nothing is proposed for it, and a bot must not
// open a pull request against an image that is broken already.
const ExitBroken = 3

// verifySetup is what fix --verify learns once, before any file: BuildKit
// answers, and whether containers can be started here.
type verifySetup struct {
	// smokeUnavailable says why the smoke check cannot run on this
	// machine; the builds are then all that is verified.
	smokeUnavailable string
	// errOut is standard error, safe for the files verified at once.
	errOut io.Writer
	// buildArgs are --build-arg, read once.
	buildArgs map[string]string
}

// prepareVerify checks the flags and asks harden-build whether BuildKit
// can be reached, before anything is fixed or written: without it, fix
// --verify stops with exit 2 and leaves every file alone.
func prepareVerify(opts *FixOptions, lookup func(string) (string, bool)) (*verifySetup, error) {
	if opts.Smoke != "" {
		if _, err := buildjob.ParseSmokeCommand(opts.Smoke); err != nil {
			return nil, usageError("--smoke: %v", err)
		}
	}
	if opts.BuildTimeout < 0 || opts.SmokeTimeout < 0 {
		return nil, usageError("--build-timeout and --smoke-timeout cannot be negative")
	}
	if err := checkTLSFlags(opts.TLS); err != nil {
		return nil, err
	}
	buildArgs, err := parseBuildArgs(opts.BuildArgs, lookup)
	if err != nil {
		return nil, usageError("%v", err)
	}
	if _, err := buildjob.Find(); err != nil {
		return nil, &exitError{code: ExitFailure, err: err}
	}
	var probe buildjob.ProbeResult
	code, err := buildjob.RunJSON(buildjob.Job{Kind: buildjob.KindProbe, BuildKitHost: opts.BuildKitHost, TLS: opts.TLS}, &probe, opts.Streams.ErrOut)
	switch {
	case err != nil:
		return nil, &exitError{code: ExitFailure, err: err}
	case code != buildjob.ExitOK:
		return nil, exitCode(ExitFailure) // harden-build said why: BuildKit is out of reach
	}
	setup := &verifySetup{smokeUnavailable: probe.SmokeUnavailable, errOut: &syncWriter{w: opts.Streams.ErrOut}, buildArgs: buildArgs}
	if setup.smokeUnavailable != "" {
		if opts.Smoke != "" {
			return nil, &exitError{code: ExitFailure, err: fmt.Errorf("--smoke: the check cannot run here (%s)", setup.smokeUnavailable)}
		}
		fmt.Fprintf(setup.errOut, "harden: the images cannot be started on this machine (%s): --verify proves that they build, not that they start\n", setup.smokeUnavailable)
	}
	return setup, nil
}

// syncWriter serialises writes from the files verified at once and from
// harden-build's standard error.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// verifier builds and starts the variants of one Dockerfile.
type verifier struct {
	opts  *FixOptions
	setup *verifySetup
	r     fileResult
	name  string
	// contextDir is the build context of both builds.
	contextDir string
	// oldIgnore is the ignore file in force today (nil: none).
	oldIgnore []byte
	smoke     *buildjob.Smoke
	// units are what the full rewrite changed.
	units []verify.Unit
}

// verifyFix is fix --verify for one fixed file: it replaces the result with
// the largest set of changes that builds and starts, or with no change
// when the original itself fails. Nothing is built when nothing changed.
func verifyFix(r fileResult, opts *FixOptions, cfg *config.Config, setup *verifySetup) fileResult {
	if r.err != nil {
		return r
	}
	v := &verifier{opts: opts, setup: setup, r: r, name: displayName(r.target), contextDir: contextDirOf(r.target, opts.ContextDir)}
	v.smoke = smokeFor(opts, cfg)
	if opts.Dockerignore == "auto" && !r.target.stdin {
		plan, err := v.ignorePlan(r.res)
		if err != nil {
			r.err = err
			return r
		}
		v.oldIgnore = plan.Old
		if plan.Changed() {
			v.units = append(v.units, verify.IgnoreFile)
		}
	}
	for _, rule := range r.prep.options.Rules {
		if slices.ContainsFunc(r.res.Changes, func(c transform.Change) bool { return c.Rule == rule }) {
			v.units = append(v.units, verify.Unit{Rule: rule})
		}
	}
	if len(v.units) == 0 {
		return r
	}
	outcome, err := verify.Search(verify.Plan{Units: v.units, Make: v.make, Run: v.run})
	if err != nil {
		r.err = fmt.Errorf("%s: verifying with BuildKit: %w", v.name, err)
		return r
	}
	full := r.res
	if outcome.Status == verify.OriginalFailed {
		orig, err := v.make(nil)
		if err != nil {
			r.err = err
			return r
		}
		r.res = orig.Result
	} else {
		r.res = outcome.Chosen.Result
	}
	// An ignore file that was not verified with the proposal is not
	// written: the user's stays.
	r.dropIgnore = !outcome.Kept(verify.IgnoreFile)
	r.broken = outcome.Status == verify.OriginalFailed
	r.verification = v.describe(outcome, full)
	return r
}

func (v *verifier) ignorePlan(res *transform.Result) (*ignore.Result, error) {
	plan, err := ignore.ForDockerfile(v.r.target.path, v.opts.ContextDir, res.File, ignore.Options{Ecosystems: v.r.prep.facts.Ecosystems(), Context: v.r.prep.ctx})
	if err != nil {
		return nil, fmt.Errorf("%s: planning the ignore file: %w", v.name, err)
	}
	return plan, nil
}

// make computes the variant with exactly the changes of keep: the engine
// run without the other units' rules. Their findings stay open on the
// variant, so that a reviewer sees what was left out. The original and
// the full rewrite are the files themselves.
func (v *verifier) make(keep []verify.Unit) (*verify.Candidate, error) {
	full, prep := v.r.res, v.r.prep
	c := &verify.Candidate{Keep: keep, Ignore: v.oldIgnore}
	var left []*transform.Rule
	for _, u := range v.units {
		if u.Rule != nil && !slices.Contains(keep, u) {
			left = append(left, u.Rule)
		}
	}
	switch {
	case len(keep) == 0:
		c.Result = &transform.Result{Name: full.Name, Input: full.Input, Output: full.Input, File: prep.file, Findings: transform.CheckFile(prep.file, prep.options)}
	case len(left) == 0:
		c.Result = full
	default:
		o := prep.options
		o.Rules = slices.DeleteFunc(slices.Clone(o.Rules), func(r *transform.Rule) bool { return slices.Contains(left, r) })
		res, err := transform.FixFile(prep.file, o)
		if err != nil {
			return nil, err
		}
		o.Rules = left
		res.Findings = append(res.Findings, transform.CheckFile(res.File, o)...)
		slices.SortStableFunc(res.Findings, func(a, b transform.Finding) int { return a.Line - b.Line })
		c.Result = res
	}
	if slices.Contains(keep, verify.IgnoreFile) {
		plan, err := v.ignorePlan(c.Result)
		if err != nil {
			return nil, err
		}
		c.Ignore = plan.New
	}
	return c, nil
}

// run is one round in harden-build.
func (v *verifier) run(round []verify.Round, stop buildjob.StopAt) ([]buildjob.Verdict, error) {
	names := make([]string, len(round))
	job := buildjob.Job{
		Kind: buildjob.KindVerify, BuildKitHost: v.opts.BuildKitHost, TLS: v.opts.TLS, StopAt: stop,
		BuildArgs: v.setup.buildArgs, Target: v.opts.Target, Smoke: v.smoke, BuildTimeout: v.opts.BuildTimeout,
	}
	for i, r := range round {
		names[i] = r.Name
		job.Candidates = append(job.Candidates, buildjob.Candidate{Name: r.Name, ContextDir: v.contextDir, Dockerfile: r.Candidate.Result.Output, Ignore: r.Candidate.Ignore})
	}
	if !v.opts.Quiet {
		what := joinAnd(names)
		switch {
		case len(names) > 1 && stop == buildjob.StopAtWorking:
			what = "in turn, until one works: " + strings.Join(names, "; ")
		case len(names) > 1 && stop == buildjob.StopAtFailing:
			what += ", until one fails"
		}
		fmt.Fprintf(v.setup.errOut, "%s: verify: building and starting %s\n", v.name, what)
	}
	var res buildjob.VerifyResult
	code, err := buildjob.RunJSON(job, &res, v.setup.errOut)
	switch {
	case err != nil:
		return nil, err
	case code != buildjob.ExitOK:
		return nil, fmt.Errorf("%s stopped with exit code %d (its message is above)", buildjob.Program, code)
	}
	return res.Verdicts, nil
}

// smokeFor is the smoke check for a file: --smoke and --smoke-timeout,
// else the smoke settings of its .harden.yaml, else the default check (its
// port answers, or it keeps running).
func smokeFor(opts *FixOptions, cfg *config.Config) *buildjob.Smoke {
	s := &buildjob.Smoke{}
	if cfg != nil && cfg.Smoke != nil {
		s.Command, s.Port, s.HTTPPath, s.Timeout = cfg.Smoke.Command, cfg.Smoke.Port, cfg.Smoke.HTTPPath, cfg.Smoke.Timeout
	}
	if opts.Smoke != "" {
		*s = buildjob.Smoke{Command: opts.Smoke, Required: true, Timeout: s.Timeout}
	}
	if opts.SmokeTimeout > 0 {
		s.Timeout = opts.SmokeTimeout
	}
	return s
}

// describe turns an outcome into what the summary, the JSON and the
// pull-request body say.
func (v *verifier) describe(o *verify.Outcome, full *transform.Result) *output.Verification {
	out := &output.Verification{Status: string(o.Status), Builds: o.Builds, Rounds: o.Rounds}
	if v.setup.smokeUnavailable != "" {
		out.Note = "The images could not be started on the machine that ran harden (" + v.setup.smokeUnavailable + "): only the builds were verified."
	}
	if o.Status == verify.OriginalFailed {
		out.Original = "the original image " + failedText(o.Original)
		out.OriginalLog = logOf(o.Original)
		return out
	}
	out.Original = passedText(o.Original)
	out.Checks = []string{"builds"}
	if o.Proposed.Smoke.Status == buildjob.SmokePassed {
		out.Checks = append(out.Checks, "starts ("+smokeText(o.Proposed.Smoke)+")")
	}
	for _, d := range o.Dropped {
		dc := output.DroppedChange{Rule: d.Unit.Rule, Tried: d.Tried, Reason: failedText(d.Verdict)}
		if d.Unit.Rule == nil {
			dc.Changes = []string{"the .dockerignore harden would write"}
		}
		for _, c := range full.Changes {
			if d.Unit.Rule != nil && c.Rule == d.Unit.Rule {
				dc.Changes = append(dc.Changes, fmt.Sprintf("line %d: %s", c.Line, c.Description))
			}
		}
		if f := d.Verdict.Failure; f != nil {
			dc.Step = f.Step
		}
		dc.Log = logOf(d.Verdict)
		out.Dropped = append(out.Dropped, dc)
	}
	return out
}

// logOf is what shows why an image failed: the failing step's log, or
// the container's last lines.
func logOf(v buildjob.Verdict) []string {
	if v.Failure != nil {
		return v.Failure.Log
	}
	return v.Smoke.Output
}

// passedText says what a working image passed: "builds and starts (...)".
func passedText(v buildjob.Verdict) string {
	if v.Smoke.Status == buildjob.SmokePassed {
		return "builds and starts (" + smokeText(v.Smoke) + ")"
	}
	return "builds"
}

func smokeText(s buildjob.SmokeVerdict) string {
	if s.UID >= 0 {
		return fmt.Sprintf("%s, as uid %d", s.Reason, s.UID)
	}
	return s.Reason
}

// failedText says how an image failed, as a verb phrase: "failed to build
// at STEP: ...", "built but failed the smoke check (CHECK): ...".
func failedText(v buildjob.Verdict) string {
	switch f := v.Failure; {
	case f != nil && f.Step != "" && !strings.Contains(f.Message, f.Step):
		return fmt.Sprintf("failed to build at %s: %s", f.Step, f.Message)
	case f != nil:
		return "failed to build: " + f.Message
	case !v.Built:
		return "failed to build"
	case v.Smoke.Check != "":
		return fmt.Sprintf("built but failed the smoke check (%s): %s", v.Smoke.Check, v.Smoke.Reason)
	}
	return "built but failed the smoke check: " + v.Smoke.Reason
}

// summarizeVerification lists on standard error what --verify proved and
// what it left out, with the lines that show why.
func summarizeVerification(w io.Writer, name string, v *output.Verification) {
	rounds := fmt.Sprintf("%d %s in %d %s", v.Builds, plural(v.Builds, "build", "builds"), v.Rounds, plural(v.Rounds, "round", "rounds"))
	switch v.Status {
	case string(verify.OriginalFailed):
		fmt.Fprintf(w, "%s: not changed: %s, so no change can be shown to keep it working (%s)\n", name, v.Original, rounds)
		for _, l := range v.OriginalLog {
			fmt.Fprintf(w, "    %s\n", l)
		}
	default:
		fmt.Fprintf(w, "%s: verified with BuildKit: the proposed file %s; the original %s (%s)\n", name, strings.Join(v.Checks, " and "), v.Original, rounds)
	}
	for _, d := range v.Dropped {
		fmt.Fprintf(w, "%s: left out %s: %s %s\n", name, d.What(), d.Tried, d.Reason)
		for _, l := range d.Log {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	if v.Note != "" {
		fmt.Fprintf(w, "%s: %s\n", name, v.Note)
	}
}

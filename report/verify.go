package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/smoke"
)

// smokeAllowance is what a smoke run may take on top of its check's own
// timeout: unpacking the image into a root file system and removing it.
const smokeAllowance = time.Minute

// serveProbe answers a KindProbe job: BuildKit answered (Connect has
// probed it), and whether containers can be started here.
func serveProbe(client *build.Client, out io.Writer) error {
	res := buildjob.ProbeResult{Protocol: buildjob.Protocol, BuildKit: client.Addr.URL}
	if _, err := smoke.CheckPrereqs(""); err != nil {
		res.SmokeUnavailable = err.Error()
	}
	return json.NewEncoder(out).Encode(res)
}

// serveVerify answers a KindVerify job: every candidate is built, all at
// once so that BuildKit shares the steps they have in common, and each one
// that built is started with the smoke check, one at a time and in the
// job's order, since the candidates of one Dockerfile listen on the same
// host port.
func serveVerify(ctx context.Context, client *build.Client, job buildjob.Job, out, errOut io.Writer) error {
	verdicts, err := verifyCandidates(ctx, client, job, smoke.Run)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(buildjob.VerifyResult{Protocol: buildjob.Protocol, Verdicts: verdicts})
}

// built is one candidate's build: its verdict so far, and the image to
// start.
type builtCandidate struct {
	verdict buildjob.Verdict
	result  *build.Result
}

// verifyCandidates builds and starts each candidate. An error means the
// job as a whole could not go on (cancelled, or a bad --smoke); a failed
// build or start is a verdict. With job.StopAt, the first candidate that
// works (or fails) ends the job: the builds still running are cancelled.
func verifyCandidates(ctx context.Context, b Builder, job buildjob.Job, run SmokeFunc) ([]buildjob.Verdict, error) {
	smokeOpts, err := smokeOptions(job.Smoke)
	if err != nil {
		return nil, err
	}
	if smokeOpts != nil {
		// Whether the process stops on SIGTERM is report's business, not
		// a reason to keep or drop a change: do not wait for it.
		smokeOpts.Grace = time.Millisecond
	}
	buildTimeout := job.BuildTimeout
	if buildTimeout <= 0 {
		buildTimeout = buildjob.DefaultBuildTimeout
	}
	rest, cancelRest := context.WithCancel(ctx)
	defer cancelRest()
	builds := make([]chan builtCandidate, len(job.Candidates))
	for i, c := range job.Candidates {
		builds[i] = make(chan builtCandidate, 1)
		go func() { builds[i] <- buildCandidate(rest, b, job, c, buildTimeout) }()
	}
	verdicts := make([]buildjob.Verdict, len(job.Candidates))
	settled := false
	for i, c := range job.Candidates {
		bc := <-builds[i]
		switch {
		case settled:
			verdicts[i] = buildjob.Verdict{Name: c.Name, Skipped: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokeSkipped, UID: -1, Reason: "not needed: an earlier candidate settled it"}}
		case ctx.Err() != nil:
		default:
			verdicts[i] = bc.verdict
			if bc.result != nil && smokeOpts != nil {
				verdicts[i].Smoke = startCandidate(ctx, bc.result, smokeOpts, run)
			}
		}
		if bc.result != nil {
			bc.result.Cleanup()
		}
		if !settled && ctx.Err() == nil && (job.StopAt == buildjob.StopAtWorking && verdicts[i].Works() || job.StopAt == buildjob.StopAtFailing && !verdicts[i].Works()) {
			settled = true
			cancelRest()
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return verdicts, nil
}

// buildCandidate builds one candidate within the build timeout.
func buildCandidate(ctx context.Context, b Builder, job buildjob.Job, c buildjob.Candidate, timeout time.Duration) builtCandidate {
	v := buildjob.Verdict{Name: c.Name, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokeSkipped, UID: -1, Reason: "not requested"}}
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := b.Build(bctx, build.Request{
		Name: c.Name, Dockerfile: c.Dockerfile, IgnoreFile: c.Ignore, ContextDir: c.ContextDir,
		BuildArgs: job.BuildArgs, Target: job.Target, Platform: job.Platform, NoCache: job.NoCache,
		NoUncompressedSize: true,
	})
	if err != nil {
		f := failure(err)
		v.Failure = &buildjob.BuildFailure{Message: f.Message, Step: f.Step, Log: f.Log}
		if ctx.Err() == nil && bctx.Err() == context.DeadlineExceeded {
			v.Failure.TimedOut = true
			v.Failure.Message = fmt.Sprintf("the build did not finish within %s (%s)", timeout, f.Message)
		}
		v.Smoke.Reason = "the image did not build"
		return builtCandidate{verdict: v}
	}
	v.Built, v.BuildTime, v.User = true, res.Stats.BuildTime, res.Stats.User
	return builtCandidate{verdict: v, result: res}
}

// startCandidate runs the smoke check on a built candidate, within the
// check's own timeout plus the time to unpack and remove the image.
func startCandidate(ctx context.Context, res *build.Result, opts *smoke.Options, run SmokeFunc) buildjob.SmokeVerdict {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = smoke.DefaultTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout+smokeAllowance)
	defer cancel()
	s, err := smokeCheck(sctx, res, Options{Smoke: opts, RunSmoke: run})
	if err != nil {
		// smokeCheck errs only when its context ended: the job's (the
		// caller sees ctx.Err()) or the allowance.
		return buildjob.SmokeVerdict{Status: buildjob.SmokeFailed, UID: -1,
			Reason: fmt.Sprintf("the smoke check did not finish within %s", timeout+smokeAllowance)}
	}
	return smokeVerdict(s)
}

// smokeVerdict turns report's smoke outcome into the job's answer.
func smokeVerdict(s Smoke) buildjob.SmokeVerdict {
	v := buildjob.SmokeVerdict{Status: buildjob.SmokeStatus(s.Status), Reason: s.Reason, UID: -1}
	if s.Status == SmokeUnavailable {
		v.Machine = errors.Is(s.Err, smoke.ErrPrereq) || errors.Is(s.Err, ErrForeignPlatform)
	}
	if r := s.Result; r != nil {
		v.Check, v.Reason, v.Output, v.UID = r.Check, r.Reason, r.Output, r.UID
	}
	return v
}

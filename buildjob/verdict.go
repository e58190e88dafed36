package buildjob

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ProbeResult is harden-build's answer to a KindProbe job.
type ProbeResult struct {
	Protocol int `json:"protocol"`
	// BuildKit is the address it reached.
	BuildKit string `json:"buildkit"`
	// SmokeUnavailable says why containers cannot be started here (not
	// root, no runc); empty when they can.
	SmokeUnavailable string `json:"smoke_unavailable,omitempty"`
}

// ResolveResult is harden-build's answer to a KindResolve job: an answer
// per image, in the job's order.
type ResolveResult struct {
	Protocol int             `json:"protocol"`
	Images   []ResolvedImage `json:"images"`
}

// ResolvedImage is the lookup of one image reference.
type ResolvedImage struct {
	// Ref is the reference as the job named it.
	Ref string `json:"ref"`
	// Digest is the digest its tag points to: the manifest's, or for a
	// multi-platform image the index's (what `docker buildx imagetools
	// inspect` prints), once BuildKit has checked that the index has the
	// platform being built. Empty when the lookup failed.
	Digest string `json:"digest,omitempty"`
	// Error says why the lookup failed: no such tag, a registry out of
	// reach, no image for the platform.
	Error string `json:"error,omitempty"`
}

// VerifyResult is harden-build's answer to a KindVerify job: a Verdict per
// candidate, in the job's order.
type VerifyResult struct {
	Protocol int       `json:"protocol"`
	Verdicts []Verdict `json:"verdicts"`
}

// Verdict is how one candidate fared: did it build, and did it start.
type Verdict struct {
	Name  string `json:"name"`
	Built bool   `json:"built"`
	// BuildTime is the build's wall time, BuildKit's cache as it stood.
	BuildTime time.Duration `json:"build_time_ns"`
	// Failure is the failed build; nil when it built.
	Failure *BuildFailure `json:"failure,omitempty"`
	// User is the image's configured USER ("" is root).
	User  string       `json:"user,omitempty"`
	Smoke SmokeVerdict `json:"smoke"`
	// Skipped is set when the candidate was not tried to the end, because
	// an earlier one settled the job (Job.StopAt); nothing else is known.
	Skipped bool `json:"skipped,omitempty"`
}

// Works reports whether the candidate counts as working: it built and its
// smoke check passed, or could not run on this machine at all (then the
// builds are all that is verified, and harden says so).
func (v Verdict) Works() bool {
	return !v.Skipped && v.Built && (v.Smoke.Status == SmokePassed || v.Smoke.Status == SmokeUnavailable && v.Smoke.Machine)
}

// BuildFailure is a failed build: the step and the tail of its log.
type BuildFailure struct {
	Message string   `json:"message"`
	Step    string   `json:"step,omitempty"`
	Log     []string `json:"log,omitempty"`
	// TimedOut is set when the build was cut off at the build timeout.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Smoke check outcomes.
const (
	SmokePassed SmokeStatus = "passed"
	SmokeFailed SmokeStatus = "failed"
	// SmokeSkipped: not asked for, or the image did not build.
	SmokeSkipped SmokeStatus = "skipped"
	// SmokeUnavailable: the check could not be carried out (see
	// SmokeVerdict.Machine).
	SmokeUnavailable SmokeStatus = "unavailable"
)

// SmokeStatus is the outcome of a smoke check.
type SmokeStatus string

// SmokeVerdict is the smoke check of one candidate.
type SmokeVerdict struct {
	Status SmokeStatus `json:"status"`
	// Check is what was checked, e.g. "tcp port 8080".
	Check string `json:"check,omitempty"`
	// Reason says why it passed, failed or could not run.
	Reason string `json:"reason,omitempty"`
	// Output is the last lines the container printed.
	Output []string `json:"output,omitempty"`
	// UID is the uid the process ran as; -1 when unknown.
	UID int `json:"uid"`
	// Machine is set when the check was unavailable because of this
	// machine (not root, no runc, an image for another platform), which
	// holds for every candidate alike; otherwise an unavailable check is
	// about this run (a port already taken on the host).
	Machine bool `json:"machine,omitempty"`
}

// RunJSON hands job to harden-build and decodes its standard output, a
// JSON document, into v. stderr gets harden-build's own messages. The code
// is harden-build's exit code; an error means it could not be run or
// answered with something that is not v.
func RunJSON(job Job, v any, stderr io.Writer) (int, error) {
	var out bytes.Buffer
	code, err := Run(job, &out, stderr)
	if err != nil || code == ExitError {
		return code, err
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		return ExitError, fmt.Errorf("reading %s's answer: %w (are harden and harden-build from the same release?)", Program, err)
	}
	return code, nil
}

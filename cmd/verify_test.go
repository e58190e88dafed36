package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/transform"
	"github.com/harden-dev/harden/verify"
)

func TestVerificationIsDescribedFromTheVerdicts(t *testing.T) {
	started := buildjob.Verdict{Built: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokePassed, Check: "tcp port 8080", Reason: "port 8080/tcp accepted a connection", UID: 0}}
	crashed := buildjob.Verdict{Built: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokeFailed, Check: "tcp port 8080",
		Reason: "the process exited before port 8080 answered", UID: -1, Output: []string{"PermissionError: [Errno 13] Permission denied: '/var/lib/tally'"}}}
	broken := buildjob.Verdict{Failure: &buildjob.BuildFailure{Step: "[builder 4/5] RUN pip install -r requirements.txt", Message: "exit code: 1", Log: []string{"ERROR: No matching distribution found for flask"}}}
	full := &transform.Result{Changes: []transform.Change{
		{Rule: transform.MultiStageBuild, Line: 1, Description: "split into a builder and a slim runtime"},
		{Rule: transform.NonRootUser, Line: 1, Description: "the app now runs as app (uid 10001)"},
	}}
	v := &verifier{setup: &verifySetup{}}

	reduced := v.describe(&verify.Outcome{Status: verify.Reduced, Original: started, Proposed: started, Builds: 3, Rounds: 2,
		Dropped: []verify.Drop{{Unit: verify.Unit{Rule: transform.NonRootUser}, Tried: "the full rewrite", Verdict: crashed}}}, full)
	if reduced.Status != "reduced" || len(reduced.Checks) != 2 || reduced.Checks[1] != "starts (port 8080/tcp accepted a connection, as uid 0)" {
		t.Errorf("checks: %+v", reduced)
	}
	d := reduced.Dropped[0]
	if d.Rule != transform.NonRootUser || len(d.Changes) != 1 || d.Changes[0] != "line 1: the app now runs as app (uid 10001)" ||
		d.Reason != "built but failed the smoke check (tcp port 8080): the process exited before port 8080 answered" || len(d.Log) != 1 {
		t.Errorf("dropped: %+v", d)
	}
	var w bytes.Buffer
	summarizeVerification(&w, "app/Dockerfile", reduced)
	want := `app/Dockerfile: verified with BuildKit: the proposed file builds and starts (port 8080/tcp accepted a connection, as uid 0); the original builds and starts (port 8080/tcp accepted a connection, as uid 0) (3 builds in 2 rounds)
app/Dockerfile: left out non-root-user (HD409): the full rewrite built but failed the smoke check (tcp port 8080): the process exited before port 8080 answered
    PermissionError: [Errno 13] Permission denied: '/var/lib/tally'
`
	if w.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", w.String(), want)
	}

	v.setup.smokeUnavailable = "smoke check unavailable: must run as root to start containers with runc"
	failed := v.describe(&verify.Outcome{Status: verify.OriginalFailed, Original: broken, Builds: 1, Rounds: 1}, full)
	w.Reset()
	summarizeVerification(&w, "app/Dockerfile", failed)
	for _, line := range []string{
		"app/Dockerfile: not changed: the original image failed to build at [builder 4/5] RUN pip install -r requirements.txt: exit code: 1, so no change can be shown to keep it working (1 build in 1 round)",
		"    ERROR: No matching distribution found for flask",
		"app/Dockerfile: The images could not be started on the machine that ran harden (smoke check unavailable: must run as root to start containers with runc): only the builds were verified.",
	} {
		if !strings.Contains(w.String(), line+"\n") {
			t.Errorf("summary lacks %q:\n%s", line, w.String())
		}
	}
	if len(failed.Checks) != 0 {
		t.Errorf("a broken original passed no check: %+v", failed.Checks)
	}
}

func TestSmokeForPrefersTheCommandLine(t *testing.T) {
	cfg := smokeConfig(t, "smoke:\n  port: 8080\n  http_path: /healthz\n  timeout: 90s\n")
	if s := smokeFor(&FixOptions{}, cfg); *s != (buildjob.Smoke{Port: 8080, HTTPPath: "/healthz", Timeout: 90e9}) {
		t.Errorf(".harden.yaml alone: %+v", s)
	}
	if s := smokeFor(&FixOptions{Smoke: "id -u"}, cfg); *s != (buildjob.Smoke{Command: "id -u", Required: true, Timeout: 90e9}) {
		t.Errorf("--smoke replaces the port check: %+v", s)
	}
	if s := smokeFor(&FixOptions{SmokeTimeout: 5e9}, cfg); s.Timeout != 5e9 || s.Port != 8080 {
		t.Errorf("--smoke-timeout: %+v", s)
	}
	if s := smokeFor(&FixOptions{}, nil); *s != (buildjob.Smoke{}) {
		t.Errorf("no settings: the default check, got %+v", s)
	}
}

func smokeConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(".harden.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

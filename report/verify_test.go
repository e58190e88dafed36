package report

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/smoke"
)

// lockedBuilder lets fakeBuilder serve concurrent builds; a Dockerfile
// named in hang blocks until its context ends.
type lockedBuilder struct {
	mu   sync.Mutex
	fake *fakeBuilder
	hang string
}

func (l *lockedBuilder) Build(ctx context.Context, req build.Request) (*build.Result, error) {
	if string(req.Dockerfile) == l.hang {
		<-ctx.Done()
		return nil, &build.BuildError{Name: req.Name, Step: "[2/2] RUN sleep 1d", Err: ctx.Err()}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fake.Build(ctx, req)
}

// oneAtATime is a smoke check that fails when two run at once, and passes
// or fails by the image's user.
type oneAtATime struct {
	running, overlapped atomic.Int32
	opts                smoke.Options
}

func (o *oneAtATime) run(_ context.Context, img v1.Image, opts smoke.Options) (*smoke.Report, error) {
	if o.running.Add(1) > 1 {
		o.overlapped.Add(1)
	}
	defer o.running.Add(-1)
	time.Sleep(20 * time.Millisecond)
	o.opts = opts
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if cf.Config.User == "prereq" {
		return nil, &smoke.PrereqError{Missing: "must run as root to start containers with runc"}
	}
	if cf.Config.User == "10001" {
		return &smoke.Report{Check: "tcp port 8080", Reason: "the process exited before port 8080 answered", UID: 10001,
			Output: []string{"PermissionError: [Errno 13] Permission denied: '/var/lib/tally'"}}, nil
	}
	return &smoke.Report{Passed: true, Check: "tcp port 8080", Reason: "port 8080/tcp accepted a connection", UID: 0}, nil
}

func TestVerifyCandidatesBuildsAllAndStartsOneAtATime(t *testing.T) {
	const (
		orig    = "FROM python:3.11\n"
		nonroot = "FROM python:3.11\nUSER 10001\n"
		broken  = "FROM python:3.11\nRUN false\n"
		noRunc  = "FROM python:3.11\nUSER prereq\n"
	)
	fake := &fakeBuilder{t: t, images: map[string]v1.Image{
		orig: image(t, v1.Config{}, 100), nonroot: image(t, v1.Config{User: "10001"}, 100), noRunc: image(t, v1.Config{User: "prereq"}, 100),
	}, failures: map[string]error{broken: &build.BuildError{Name: "broken", Step: "[2/2] RUN false", Log: []string{"exit code: 1"}, Err: errors.New(`process "/bin/sh -c false" did not complete successfully: exit code: 1`)}}}
	sm := &oneAtATime{}
	job := buildjob.Job{Kind: buildjob.KindVerify, Smoke: &buildjob.Smoke{Port: 8080, HTTPPath: "/health", Timeout: 7 * time.Second}, Candidates: []buildjob.Candidate{
		{Name: "original", Dockerfile: []byte(orig)}, {Name: "rewrite", Dockerfile: []byte(nonroot)},
		{Name: "broken", Dockerfile: []byte(broken)}, {Name: "no runc", Dockerfile: []byte(noRunc)},
	}}
	got, err := verifyCandidates(context.Background(), &lockedBuilder{fake: fake}, job, sm.run)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Name != "original" || got[3].Name != "no runc" {
		t.Fatalf("verdicts out of order: %+v", got)
	}
	if v := got[0]; !v.Built || v.Smoke.Status != buildjob.SmokePassed || v.Smoke.UID != 0 || v.BuildTime != time.Second {
		t.Errorf("original: %+v", v)
	}
	if v := got[1]; !v.Built || v.User != "10001" || v.Smoke.Status != buildjob.SmokeFailed || !strings.Contains(v.Smoke.Reason, "exited before port 8080") ||
		len(v.Smoke.Output) != 1 || !strings.Contains(v.Smoke.Output[0], "Permission denied") {
		t.Errorf("rewrite: %+v", v)
	}
	if v := got[2]; v.Built || v.Failure == nil || v.Failure.Step != "[2/2] RUN false" || len(v.Failure.Log) != 1 || v.Smoke.Status != buildjob.SmokeSkipped {
		t.Errorf("broken: %+v", v)
	}
	if v := got[3]; v.Smoke.Status != buildjob.SmokeUnavailable || !v.Smoke.Machine {
		t.Errorf("no runc: %+v", v.Smoke)
	}
	if n := sm.overlapped.Load(); n != 0 {
		t.Errorf("%d smoke checks ran beside another: candidates of one file share a host port", n)
	}
	if sm.opts.Timeout != 7*time.Second || sm.opts.HTTPPath != "/health" || len(sm.opts.Ports) != 1 || sm.opts.Ports[0] != "8080" || sm.opts.Grace > time.Millisecond {
		t.Errorf("smoke options: %+v", sm.opts)
	}
}

func TestVerifyCandidatesCutsOffABuildAtTheTimeout(t *testing.T) {
	const hang = "FROM python:3.11\nRUN sleep 1d\n"
	job := buildjob.Job{Kind: buildjob.KindVerify, BuildTimeout: 50 * time.Millisecond, Candidates: []buildjob.Candidate{{Name: "slow", Dockerfile: []byte(hang)}}}
	start := time.Now()
	got, err := verifyCandidates(context.Background(), &lockedBuilder{fake: &fakeBuilder{t: t}, hang: hang}, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := got[0].Failure; f == nil || !f.TimedOut || !strings.Contains(f.Message, "did not finish within 50ms") || f.Step != "[2/2] RUN sleep 1d" {
		t.Errorf("verdict: %+v", got[0])
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestVerifyCandidatesStopsWhenCancelled(t *testing.T) {
	const hang = "FROM python:3.11\nRUN sleep 1d\n"
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	job := buildjob.Job{Kind: buildjob.KindVerify, Candidates: []buildjob.Candidate{{Name: "slow", Dockerfile: []byte(hang)}}}
	if _, err := verifyCandidates(ctx, &lockedBuilder{fake: &fakeBuilder{t: t}, hang: hang}, job, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestVerifyCandidatesStopsAtTheFirstThatWorks(t *testing.T) {
	const (
		nonroot = "FROM python:3.11\nUSER 10001\n"
		works   = "FROM python:3.11\n"
		hang    = "FROM python:3.11\nRUN sleep 1d\n"
		never   = "FROM python:3.11\nUSER 10001\nRUN true\n"
	)
	fake := &fakeBuilder{t: t, images: map[string]v1.Image{nonroot: image(t, v1.Config{User: "10001"}, 100), works: image(t, v1.Config{}, 100), never: image(t, v1.Config{User: "10001"}, 100)}}
	sm := &oneAtATime{}
	job := buildjob.Job{Kind: buildjob.KindVerify, StopAt: buildjob.StopAtWorking, Smoke: &buildjob.Smoke{}, Candidates: []buildjob.Candidate{
		{Name: "without split", Dockerfile: []byte(nonroot)}, {Name: "without user", Dockerfile: []byte(works)},
		{Name: "without deps", Dockerfile: []byte(hang)}, {Name: "without nginx", Dockerfile: []byte(never)},
	}}
	got, err := verifyCandidates(context.Background(), &lockedBuilder{fake: fake, hang: hang}, job, sm.run)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Works() || got[0].Skipped || !got[1].Works() || !got[2].Skipped || !got[3].Skipped || got[3].Works() {
		t.Errorf("verdicts: %+v", got)
	}
	if got[2].Name != "without deps" || got[2].Smoke.Reason != "not needed: an earlier candidate settled it" {
		t.Errorf("a skipped verdict still names its candidate and says why: %+v", got[2])
	}
}

func TestVerifyCandidatesStopsAtTheFirstFailure(t *testing.T) {
	const (
		broken = "FROM python:3.11\nRUN false\n"
		hang   = "FROM python:3.11\nRUN sleep 1d\n"
	)
	fake := &fakeBuilder{t: t, failures: map[string]error{broken: &build.BuildError{Name: "original", Err: errors.New("exit code: 1")}}}
	job := buildjob.Job{Kind: buildjob.KindVerify, StopAt: buildjob.StopAtFailing, Smoke: &buildjob.Smoke{}, Candidates: []buildjob.Candidate{
		{Name: "the original", Dockerfile: []byte(broken)}, {Name: "the full rewrite", Dockerfile: []byte(hang)},
	}}
	got, err := verifyCandidates(context.Background(), &lockedBuilder{fake: fake, hang: hang}, job, (&oneAtATime{}).run)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Built || got[0].Failure == nil || got[0].Skipped || !got[1].Skipped {
		t.Errorf("verdicts: %+v", got)
	}
}

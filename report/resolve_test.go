package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/buildjob"
)

type fakeResolver struct {
	platform string
	answers  map[string]build.Resolved
	err      error
}

func (f *fakeResolver) ResolveDigests(_ context.Context, refs []string, platform string) ([]build.Resolved, error) {
	f.platform = platform
	if f.err != nil {
		return nil, f.err
	}
	out := make([]build.Resolved, len(refs))
	for i, r := range refs {
		out[i] = f.answers[r]
		out[i].Ref = r
	}
	return out, nil
}

// TestServeResolveAnswersEachImage: a reference that does not resolve is
// an answer with its reason, in the job's order; only a session that could
// not run fails the job.
func TestServeResolveAnswersEachImage(t *testing.T) {
	f := &fakeResolver{answers: map[string]build.Resolved{
		"python:3.12-slim": {Digest: "sha256:abc"},
		"python:3.99-slim": {Err: errors.New("docker.io/library/python:3.99-slim: not found")},
	}}
	job := buildjob.Job{Kind: buildjob.KindResolve, Platform: "linux/arm64", Images: []string{"python:3.99-slim", "python:3.12-slim"}}
	var out bytes.Buffer
	if err := serveResolve(context.Background(), f, job, &out); err != nil {
		t.Fatal(err)
	}
	var got buildjob.ResolveResult
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := buildjob.ResolveResult{Protocol: buildjob.Protocol, Images: []buildjob.ResolvedImage{
		{Ref: "python:3.99-slim", Error: "docker.io/library/python:3.99-slim: not found"},
		{Ref: "python:3.12-slim", Digest: "sha256:abc"},
	}}
	if !reflect.DeepEqual(got, want) || f.platform != "linux/arm64" {
		t.Errorf("got %+v for platform %q, want %+v for linux/arm64", got, f.platform, want)
	}
	f.err = errors.New("session closed")
	if err := serveResolve(context.Background(), f, job, &out); err == nil {
		t.Error("a lookup that could not run must fail the job")
	}
}

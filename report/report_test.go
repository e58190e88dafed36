package report

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// fakeBuilder "builds" by writing a prepared image to an OCI layout, so Run
// can be tested without a daemon. Images are keyed by Dockerfile content.
type fakeBuilder struct {
	t        *testing.T
	images   map[string]v1.Image
	failures map[string]error
	requests []build.Request
}

func (f *fakeBuilder) Build(ctx context.Context, req build.Request) (*build.Result, error) {
	f.requests = append(f.requests, req)
	if err := ctx.Err(); err != nil {
		return nil, &build.BuildError{Name: req.Name, Err: err}
	}
	if err, ok := f.failures[string(req.Dockerfile)]; ok {
		return nil, err
	}
	img, ok := f.images[string(req.Dockerfile)]
	if !ok {
		f.t.Fatalf("fake builder: no image for %q", req.Dockerfile)
	}
	dir := req.OutputDir
	if dir == "" {
		dir = f.t.TempDir()
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, err
	}
	if err := p.AppendImage(img); err != nil {
		return nil, err
	}
	stats, err := build.Measure(img)
	if err != nil {
		return nil, err
	}
	stats.BuildTime = time.Second
	return &build.Result{Name: req.Name, LayoutDir: dir, Stats: stats}, nil
}

// image makes an image with size bytes of random data in one layer.
func image(t *testing.T, cfg v1.Config, size int) v1.Image {
	t.Helper()
	l, err := bktest.Layer(bktest.File{Path: "/data.bin", Data: bktest.RandomBytes(size)})
	if err != nil {
		t.Fatal(err)
	}
	img, err := bktest.Image(cfg, l)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

const (
	naive    = "FROM python:3.11\nRUN pip install flask\n"
	hardened = "FROM python:3.11-slim\nUSER 10001\n"
)

// smokeRecorder stands in for smoke.Run and remembers what it was asked.
type smokeRecorder struct {
	users []string
	opts  smoke.Options
	rep   *smoke.Report
	err   error
}

func (s *smokeRecorder) run(_ context.Context, img v1.Image, opts smoke.Options) (*smoke.Report, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	s.users = append(s.users, cf.Config.User)
	s.opts = opts
	return s.rep, s.err
}

func passing() *smoke.Report {
	yes := true
	return &smoke.Report{Passed: true, Check: "running for 3s", Reason: "the process kept running for 3s", UID: 10001, GID: 10001, StopsOnSIGTERM: &yes, StopTime: 40 * time.Millisecond}
}

func TestRunBuildsBothThenSmokesTheHardenedImage(t *testing.T) {
	b := &fakeBuilder{t: t, images: map[string]v1.Image{
		naive:    image(t, v1.Config{}, 300_000),
		hardened: image(t, v1.Config{User: "10001"}, 100_000),
	}}
	sm := &smokeRecorder{rep: passing()}
	in := Input{Dockerfile: "app/Dockerfile", ContextDir: "app", Original: []byte(naive), Hardened: []byte(hardened), Changes: 4}
	opts := Options{BuildArgs: map[string]string{"V": "1"}, Target: "prod", Platform: "linux/amd64", NoCache: true,
		Smoke: &smoke.Options{Run: time.Second}, RunSmoke: sm.run}
	r, err := Run(context.Background(), b, in, opts)
	if err != nil {
		t.Fatal(err)
	}

	if len(b.requests) != 2 || b.requests[0].Name != Original || b.requests[1].Name != Hardened {
		t.Fatalf("want the original built first, then the hardened file: %+v", b.requests)
	}
	for _, req := range b.requests {
		if req.ContextDir != "app" || req.BuildArgs["V"] != "1" || req.Target != "prod" || req.Platform != "linux/amd64" || !req.NoCache {
			t.Errorf("request %s does not carry the options: %+v", req.Name, req)
		}
	}
	if !slices.Equal(sm.users, []string{"10001"}) || sm.opts.Run != time.Second {
		t.Errorf("smoke check ran on users %q with %+v; want the hardened image only, with the options given", sm.users, sm.opts)
	}
	if r.Failed() || r.Smoke.Status != SmokePassed || r.Changes != 4 || r.Unchanged {
		t.Errorf("report: %+v", r)
	}
	cmp, ok := r.Compare()
	if !ok {
		t.Fatal("no comparison although both built")
	}
	if cmp.CompressedSize.Original != r.Original.Stats.CompressedSize || cmp.CompressedSize.Delta >= -150_000 ||
		cmp.CompressedSize.Ratio <= 0.2 || cmp.CompressedSize.Ratio >= 0.5 {
		t.Errorf("300 kB against 100 kB of random data: %+v", cmp.CompressedSize)
	}
	if cmp.Layers.Delta != 0 || cmp.Layers.Ratio != 1 {
		t.Errorf("layers: %+v", cmp.Layers)
	}
}

func TestRunReportsAFailedOriginalAndStillBuildsTheHardenedFile(t *testing.T) {
	b := &fakeBuilder{t: t,
		images: map[string]v1.Image{hardened: image(t, v1.Config{User: "10001"}, 1000)},
		failures: map[string]error{naive: &build.BuildError{Name: Original, Step: "[2/2] RUN pip install flask",
			Log: []string{"ERROR: No matching distribution found for flask"}, Err: errors.New("process did not complete successfully: exit code: 1")}},
	}
	sm := &smokeRecorder{rep: passing()}
	r, err := Run(context.Background(), b, Input{Original: []byte(naive), Hardened: []byte(hardened)}, Options{Smoke: &smoke.Options{}, RunSmoke: sm.run})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Original.Error
	if r.Original.Built || f == nil || f.Step != "[2/2] RUN pip install flask" || len(f.Log) != 1 || f.Message != "process did not complete successfully: exit code: 1" {
		t.Errorf("original: %+v", r.Original)
	}
	if !r.Hardened.Built || r.Smoke.Status != SmokePassed || !r.Failed() {
		t.Errorf("the hardened side should be built and checked, and the report failed: %+v", r)
	}
	if _, ok := r.Compare(); ok {
		t.Error("a comparison with a failed build")
	}
}

func TestRunWithAFailedHardenedBuildHasNoSmokeCheck(t *testing.T) {
	b := &fakeBuilder{t: t,
		images:   map[string]v1.Image{naive: image(t, v1.Config{}, 1000)},
		failures: map[string]error{hardened: &build.BuildError{Name: Hardened, Err: errors.New("failed to solve")}},
	}
	sm := &smokeRecorder{rep: passing()}
	r, err := Run(context.Background(), b, Input{Original: []byte(naive), Hardened: []byte(hardened)}, Options{Smoke: &smoke.Options{}, RunSmoke: sm.run})
	if err != nil {
		t.Fatal(err)
	}
	if r.Hardened.Built || r.Smoke.Status != SmokeUnavailable || len(sm.users) != 0 || !r.Failed() {
		t.Errorf("report: %+v, smoke ran on %q", r, sm.users)
	}
}

func TestRunBuildsAnUnchangedFileOnce(t *testing.T) {
	b := &fakeBuilder{t: t, images: map[string]v1.Image{hardened: image(t, v1.Config{User: "10001"}, 1000)}}
	r, err := Run(context.Background(), b, Input{Original: []byte(hardened), Hardened: []byte(hardened)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.requests) != 1 || !r.Unchanged || r.Original.Stats != r.Hardened.Stats {
		t.Errorf("%d builds, report %+v", len(b.requests), r)
	}
	if r.Smoke.Status != SmokeSkipped || r.Failed() {
		t.Errorf("without smoke options the check is skipped and the report fine: %+v", r)
	}
}

func TestRunSmokeCheckThatCannotRunIsUnavailable(t *testing.T) {
	b := &fakeBuilder{t: t, images: map[string]v1.Image{naive: image(t, v1.Config{}, 1000), hardened: image(t, v1.Config{User: "1"}, 1000)}}
	sm := &smokeRecorder{err: &smoke.PrereqError{Missing: "must run as root"}}
	r, err := Run(context.Background(), b, Input{Original: []byte(naive), Hardened: []byte(hardened)}, Options{Smoke: &smoke.Options{}, RunSmoke: sm.run})
	if err != nil {
		t.Fatal(err)
	}
	if r.Smoke.Status != SmokeUnavailable || !errors.Is(r.Smoke.Err, smoke.ErrPrereq) || r.Failed() {
		t.Errorf("smoke: %+v", r.Smoke)
	}
}

func TestRunDoesNotStartAnImageForAnotherArchitecture(t *testing.T) {
	other := "arm64"
	if runtime.GOARCH == other {
		other = "amd64"
	}
	foreign, err := mutate.ConfigFile(image(t, v1.Config{User: "1"}, 1000), &v1.ConfigFile{OS: "linux", Architecture: other, Config: v1.Config{User: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBuilder{t: t, images: map[string]v1.Image{naive: image(t, v1.Config{}, 1000), hardened: foreign}}
	sm := &smokeRecorder{rep: passing()}
	r, err := Run(context.Background(), b, Input{Original: []byte(naive), Hardened: []byte(hardened)}, Options{Smoke: &smoke.Options{}, RunSmoke: sm.run})
	if err != nil {
		t.Fatal(err)
	}
	if r.Smoke.Status != SmokeUnavailable || !errors.Is(r.Smoke.Err, ErrForeignPlatform) || len(sm.users) != 0 {
		t.Errorf("smoke: %+v, ran on %q", r.Smoke, sm.users)
	}
}

func TestRunKeepsLayoutsWhenAsked(t *testing.T) {
	b := &fakeBuilder{t: t, images: map[string]v1.Image{naive: image(t, v1.Config{}, 1000), hardened: image(t, v1.Config{User: "1"}, 1000)}}
	dir := t.TempDir()
	stale := filepath.Join(dir, Original, "stale")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), b, Input{Original: []byte(naive), Hardened: []byte(hardened)}, Options{LayoutDir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Original, Hardened} {
		if _, err := build.OpenImage(filepath.Join(dir, name), ""); err != nil {
			t.Errorf("%s layout: %v", name, err)
		}
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stale file from an earlier run survived: %v", err)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	b := &fakeBuilder{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, b, Input{Original: []byte(naive), Hardened: []byte(hardened)}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// Package report proves a hardening: it builds the original and the hardened
// Dockerfile with BuildKit, measures both images, starts the hardened one to
// show it still works, and renders the comparison as a terminal table,
// Markdown for a pull request (with a chart), or JSON.
package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/smoke"

	"github.com/harden-dev/harden/buildjob"
)

// Builder builds one image; *build.Client is the real one.
type Builder interface {
	Build(ctx context.Context, req build.Request) (*build.Result, error)
}

// SmokeFunc starts an image and checks it; smoke.Run is the real one.
type SmokeFunc func(ctx context.Context, img v1.Image, opts smoke.Options) (*smoke.Report, error)

// Input is one Dockerfile to build before and after hardening; harden
// fills it in and hands it over in a buildjob.Job.
type Input = buildjob.Input

// Options tune Run; the zero value builds both images quietly and skips the
// smoke check.
type Options struct {
	BuildArgs map[string]string
	Target    string
	// Platform is "os/arch[/variant]"; empty builds for the daemon's platform.
	Platform string
	NoCache  bool
	// Progress and ProgressOut show BuildKit's own progress; a nil
	// ProgressOut is quiet.
	Progress    build.ProgressMode
	ProgressOut io.Writer
	// LayoutDir, when set, keeps both images as OCI layouts in
	// LayoutDir/original and LayoutDir/hardened; otherwise they are removed
	// once measured.
	LayoutDir string
	// Smoke is the check run on the hardened image; nil skips it.
	Smoke *smoke.Options
	// RunSmoke replaces smoke.Run (tests).
	RunSmoke SmokeFunc
}

// Names of the two builds, as progress, errors and the report show them.
const (
	Original = "original"
	Hardened = "hardened"
)

// Report is the outcome of one comparison.
type Report struct {
	Dockerfile string `json:"dockerfile"`
	Context    string `json:"context"`
	Changes    int    `json:"changes"`
	// Unchanged is set when harden changed nothing: the file was built once
	// and both sides are that build.
	Unchanged bool  `json:"unchanged,omitempty"`
	Original  Image `json:"original"`
	Hardened  Image `json:"hardened"`
	Smoke     Smoke `json:"smoke"`
}

// Image is one side of the comparison: its measures, or why it did not build.
type Image struct {
	Built bool         `json:"built"`
	Stats *build.Stats `json:"stats,omitempty"`
	Error *Failure     `json:"error,omitempty"`
}

// Failure is a build that failed: the step and the tail of its log.
type Failure struct {
	Message string   `json:"message"`
	Step    string   `json:"step,omitempty"`
	Log     []string `json:"log,omitempty"`
}

// SmokeStatus is the outcome of the smoke check.
type SmokeStatus string

const (
	SmokePassed SmokeStatus = "passed"
	SmokeFailed SmokeStatus = "failed"
	// SmokeSkipped means nobody asked for it (--no-smoke).
	SmokeSkipped SmokeStatus = "skipped"
	// SmokeUnavailable means the check could not be carried out: no hardened
	// image, no root or runc here, a foreign platform, a busy port.
	SmokeUnavailable SmokeStatus = "unavailable"
)

// Smoke is the smoke check of the hardened image.
type Smoke struct {
	Status SmokeStatus `json:"status"`
	// Reason says why it was skipped or unavailable; for a check that ran,
	// Result.Reason says why it passed or failed.
	Reason string        `json:"reason,omitempty"`
	Result *smoke.Report `json:"result,omitempty"`
	// Err is what made the check unavailable, for errors.Is(err, smoke.ErrPrereq).
	Err error `json:"-"`
}

// Failed reports whether the comparison found a problem: a build that
// failed, or a hardened image that failed its smoke check.
func (r *Report) Failed() bool {
	return !r.Original.Built || !r.Hardened.Built || r.Smoke.Status == SmokeFailed
}

// Run builds both files one after the other, the original first, so that
// neither build time includes work done for the other on the same daemon;
// then it smoke-checks the hardened image. A build that fails is recorded in the report and the other still
// runs; an error means no report could be made at all (the context was
// cancelled, or the layout directory could not be created).
func Run(ctx context.Context, b Builder, in Input, opts Options) (*Report, error) {
	r := &Report{Dockerfile: in.Dockerfile, Context: in.ContextDir, Changes: in.Changes, Unchanged: bytes.Equal(in.Original, in.Hardened)}

	orig, err := buildOne(ctx, b, Original, in.Original, in.OriginalIgnore, in.ContextDir, opts)
	if err != nil {
		return nil, err
	}
	defer orig.cleanup()
	r.Original = orig.image

	hard := orig
	if !r.Unchanged {
		if hard, err = buildOne(ctx, b, Hardened, in.Hardened, in.HardenedIgnore, in.ContextDir, opts); err != nil {
			return nil, err
		}
		defer hard.cleanup()
	}
	r.Hardened = hard.image

	if r.Smoke, err = smokeCheck(ctx, hard.result, opts); err != nil {
		return nil, err
	}
	return r, nil
}

type built struct {
	image  Image
	result *build.Result
	keep   bool
}

func (b built) cleanup() {
	if b.result != nil && !b.keep {
		b.result.Cleanup()
	}
}

func buildOne(ctx context.Context, b Builder, name string, dockerfile, ignoreFile []byte, contextDir string, opts Options) (built, error) {
	req := build.Request{
		Name: name, Dockerfile: dockerfile, IgnoreFile: ignoreFile, ContextDir: contextDir,
		BuildArgs: opts.BuildArgs, Target: opts.Target, Platform: opts.Platform, NoCache: opts.NoCache,
		Progress: opts.Progress, ProgressOut: opts.ProgressOut,
	}
	keep := opts.LayoutDir != ""
	if keep {
		req.OutputDir = filepath.Join(opts.LayoutDir, name)
		// A stale layout from an earlier run would be merged with this one.
		if err := os.RemoveAll(req.OutputDir); err != nil {
			return built{}, err
		}
		if err := os.MkdirAll(req.OutputDir, 0o755); err != nil {
			return built{}, err
		}
	}
	res, err := b.Build(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return built{}, ctx.Err()
		}
		return built{image: Image{Error: failure(err)}}, nil
	}
	stats := res.Stats
	return built{image: Image{Built: true, Stats: &stats}, result: res, keep: keep}, nil
}

func failure(err error) *Failure {
	if be, ok := build.IsBuildError(err); ok {
		return &Failure{Message: be.Err.Error(), Step: be.Step, Log: be.Log}
	}
	return &Failure{Message: err.Error()}
}

// smokeCheck starts the hardened image. It returns an error only when ctx
// was cancelled: every other problem is part of the report.
func smokeCheck(ctx context.Context, res *build.Result, opts Options) (Smoke, error) {
	switch {
	case opts.Smoke == nil:
		return Smoke{Status: SmokeSkipped, Reason: "not requested"}, nil
	case res == nil:
		return Smoke{Status: SmokeUnavailable, Reason: "the hardened image did not build"}, nil
	}
	img, err := res.Image()
	if err != nil {
		return Smoke{Status: SmokeUnavailable, Reason: err.Error(), Err: err}, nil
	}
	if err := runnableHere(img); err != nil {
		return Smoke{Status: SmokeUnavailable, Reason: err.Error(), Err: err}, nil
	}
	run := opts.RunSmoke
	if run == nil {
		run = smoke.Run
	}
	rep, err := run(ctx, img, *opts.Smoke)
	if err != nil {
		if ctx.Err() != nil {
			return Smoke{}, ctx.Err()
		}
		return Smoke{Status: SmokeUnavailable, Reason: err.Error(), Err: err}, nil
	}
	s := Smoke{Status: SmokeFailed, Result: rep}
	if rep.Passed {
		s.Status = SmokePassed
	}
	return s, nil
}

// ErrForeignPlatform is matched by the smoke check's error for an image this
// machine cannot run without emulation.
var ErrForeignPlatform = errors.New("image built for another platform")

// runnableHere refuses images for another OS or architecture: runc would
// only fail with "exec format error", which reads like a broken image.
func runnableHere(img v1.Image) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	if (cf.OS != "" && cf.OS != runtime.GOOS) || (cf.Architecture != "" && cf.Architecture != runtime.GOARCH) {
		return fmt.Errorf("%w: the image is %s/%s and this machine %s/%s", ErrForeignPlatform, cf.OS, cf.Architecture, runtime.GOOS, runtime.GOARCH)
	}
	return nil
}

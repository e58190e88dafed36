package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/cli/cli/config"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
)

// Request describes one build.
type Request struct {
	// Name labels the build in progress output and errors, e.g. "original"
	// or "hardened".
	Name string
	// Dockerfile is the file's content. It is handed to BuildKit from a
	// private temporary directory, never written next to the user's files.
	Dockerfile []byte
	// IgnoreFile, when not nil, is the ignore file for this build. It goes
	// beside the temporary Dockerfile as Dockerfile.dockerignore, which
	// BuildKit prefers to the context's .dockerignore; nil leaves the
	// context's own .dockerignore in force.
	IgnoreFile []byte
	// ContextDir is the build context sent to BuildKit (its .dockerignore applies).
	ContextDir string
	BuildArgs  map[string]string
	Target     string
	// Platform is "os/arch[/variant]"; empty builds for the daemon's platform.
	Platform string
	NoCache  bool
	// Progress and ProgressOut choose how BuildKit's progress is shown; a nil
	// ProgressOut means quiet.
	Progress    ProgressMode
	ProgressOut io.Writer
	// OutputDir receives the OCI layout. Empty means a new temporary directory
	// that Result.Cleanup removes.
	OutputDir string
	// NoUncompressedSize leaves Stats.UncompressedSize at 0 instead of
	// decompressing every layer to count it: fix --verify starts the image
	// and needs no size, and decompressing a large base costs seconds.
	NoUncompressedSize bool
}

// Result is a successful build.
type Result struct {
	Name string
	// LayoutDir is the OCI image layout the image was exported to.
	LayoutDir string
	Stats     Stats
	// Warnings are the build checks BuildKit reported (e.g. lint rules).
	Warnings []string

	platform string
	ownsDir  bool
}

// Image opens the built image from LayoutDir (for the smoke check).
func (r *Result) Image() (v1.Image, error) { return OpenImage(r.LayoutDir, r.platform) }

// Cleanup removes the OCI layout when Build created it.
func (r *Result) Cleanup() error {
	if !r.ownsDir {
		return nil
	}
	return os.RemoveAll(r.LayoutDir)
}

// BuildError is a failed build: which one, the step that failed and the tail
// of its log, so the user can act without re-running with plain progress.
type BuildError struct {
	Name string
	// Step is the name of the BuildKit vertex that failed, when one did.
	Step string
	// Log holds the last DefaultLogTail lines the failing step printed.
	Log []string
	Err error
}

func (e *BuildError) Error() string {
	var b strings.Builder
	name := e.Name
	if name == "" {
		name = "image"
	}
	fmt.Fprintf(&b, "build %s failed: %v", name, e.Err)
	if e.Step != "" && !strings.Contains(e.Err.Error(), e.Step) {
		fmt.Fprintf(&b, "\n  failing step: %s", e.Step)
	}
	if len(e.Log) > 0 {
		fmt.Fprintf(&b, "\n  last %d log lines:", len(e.Log))
		for _, l := range e.Log {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

func (e *BuildError) Unwrap() error { return e.Err }

// Build solves req with the dockerfile.v0 frontend, exports the image as an
// OCI layout and measures it.
func (c *Client) Build(ctx context.Context, req Request) (*Result, error) {
	fail := func(err error) (*Result, error) { return nil, &BuildError{Name: req.Name, Err: err} }

	if fi, err := os.Stat(req.ContextDir); err != nil {
		return fail(fmt.Errorf("build context: %w", err))
	} else if !fi.IsDir() {
		return fail(fmt.Errorf("build context %s is not a directory", req.ContextDir))
	}
	contextFS, err := fsutil.NewFS(req.ContextDir)
	if err != nil {
		return fail(fmt.Errorf("build context %s: %w", req.ContextDir, err))
	}

	dfDir, err := os.MkdirTemp("", "harden-dockerfile-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dfDir)
	if err := os.WriteFile(filepath.Join(dfDir, "Dockerfile"), req.Dockerfile, 0o644); err != nil {
		return fail(err)
	}
	if req.IgnoreFile != nil {
		if err := os.WriteFile(filepath.Join(dfDir, "Dockerfile.dockerignore"), req.IgnoreFile, 0o644); err != nil {
			return fail(err)
		}
	}
	dfFS, err := fsutil.NewFS(dfDir)
	if err != nil {
		return fail(err)
	}

	res := &Result{Name: req.Name, LayoutDir: req.OutputDir, platform: req.Platform}
	if res.LayoutDir == "" {
		if res.LayoutDir, err = os.MkdirTemp("", "harden-oci-"); err != nil {
			return fail(err)
		}
		res.ownsDir = true
	}
	ok := false
	defer func() {
		if !ok {
			res.Cleanup()
		}
	}()

	out, mode := req.ProgressOut, req.Progress
	if out == nil {
		out, mode = io.Discard, ProgressQuiet
	}
	var dopts []progressui.DisplayOpt
	if req.Name != "" {
		dopts = append(dopts, progressui.WithPhase("Building "+req.Name), progressui.WithDesc(req.Name, req.Name))
	}
	display, err := progressui.NewDisplay(out, displayMode(mode), dopts...)
	if err != nil {
		return fail(fmt.Errorf("progress %s: %w", mode, err))
	}

	layout := &layoutWriter{dir: res.LayoutDir}
	attrs := map[string]string{
		"filename": "Dockerfile",
		// Present-but-empty tells the dockerfile frontend not to follow a
		// "# syntax=" line, which would pull a frontend image from a registry.
		"cmdline": "",
	}
	for k, v := range req.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	if req.Target != "" {
		attrs["target"] = req.Target
	}
	if req.Platform != "" {
		attrs["platform"] = req.Platform
	}
	if req.NoCache {
		attrs["no-cache"] = ""
	}

	opt := bkclient.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": dfFS},
		// The layout arrives as a tar stream unpacked by this process: the
		// store-based export (OutputDir) logs a containerd warning about
		// fsverity on every build straight to stderr.
		Exports: []bkclient.ExportEntry{{Type: bkclient.ExporterOCI, Output: layout.open}},
		Session: []session.Attachable{registryAuth(out)},
	}

	// Tee BuildKit's status stream: one copy feeds the display, the other
	// keeps the log tail for the error message.
	statusCh := make(chan *bkclient.SolveStatus)
	displayCh := make(chan *bkclient.SolveStatus)
	tail := newLogTail(DefaultLogTail)
	var wg sync.WaitGroup
	var warnings []bkclient.VertexWarning
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(displayCh)
		for s := range statusCh {
			tail.add(s)
			displayCh <- s
		}
	}()
	go func() {
		defer wg.Done()
		// The display must drain the channel even after ctx is cancelled, or
		// the tee above blocks; it stops when displayCh closes.
		warnings, _ = display.UpdateFrom(context.WithoutCancel(ctx), displayCh)
	}()

	start := time.Now()
	_, err = c.bk.Solve(ctx, nil, opt, statusCh) // closes statusCh
	elapsed := time.Since(start)
	wg.Wait()
	if err != nil {
		step, lines := tail.tail()
		return nil, &BuildError{Name: req.Name, Step: step, Log: lines, Err: err}
	}
	if err := layout.wait(); err != nil {
		return fail(fmt.Errorf("export OCI layout to %s: %w", res.LayoutDir, err))
	}

	img, err := res.Image()
	if err != nil {
		return fail(err)
	}
	if res.Stats, err = measure(img, !req.NoUncompressedSize); err != nil {
		return fail(fmt.Errorf("measure: %w", err))
	}
	res.Stats.BuildTime = elapsed
	for _, w := range warnings {
		res.Warnings = append(res.Warnings, string(w.Short))
	}
	ok = true
	return res, nil
}

// registryAuth hands BuildKit the user's registry credentials from the
// Docker config, as buildctl does, so private base images resolve.
func registryAuth(warn io.Writer) session.Attachable {
	cfg := config.LoadDefaultConfigFile(warn)
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(cfg),
	})
}

// IsBuildError reports whether err is a failed build (as opposed to, say, an
// unreachable daemon) and returns it.
func IsBuildError(err error) (*BuildError, bool) {
	var be *BuildError
	ok := errors.As(err, &be)
	return be, ok
}

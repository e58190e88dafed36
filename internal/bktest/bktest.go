// Package bktest gives end-to-end tests a real BuildKit: buildkitd built at
// go.mod's BuildKit version (cached), running on a temporary root with the
// OCI worker on runc, and an in-process registry on 127.0.0.1 that stands in
// for Docker Hub and the other public registries, pre-filled with small
// stand-in base images (busybox, python, node, golang, distroless, ...).
//
// Use it from any package's tests:
//
//	func TestMain(m *testing.M) { bktest.Main(m) } // one daemon for the package
//
//	func TestBuild(t *testing.T) {
//		env := bktest.Start(t) // skips when the machine cannot run BuildKit
//		c, err := build.Connect(ctx, env.Addr, build.ConnectOptions{})
//		...
//	}
//
// Without TestMain, Start gives each test its own daemon.
// Set HARDEN_E2E=1 (as CI does) to turn every skip into a failure.
//
// Stand-ins are fast but fake: their python3 serves a folder, their apt-get
// writes random bytes. For tests that must see whether an app really runs
// (a non-root user that cannot write the app's SQLite file, a HOME that does
// not exist), StartReal gives an environment of its own whose registry
// serves realistic bases instead, and only those: Debian bookworm made with
// debootstrap and apt like the official images, with Debian's python3,
// nodejs and npm (RealBase, DefaultRealNames: python:3.11-slim, node:20,
// debian:bookworm-slim, ...). The two kinds never mix: Env.Real is set only
// in a realistic environment, which resolves no stand-in name unless a test
// pushes one explicitly (PushStandIn).
//
//	env := bktest.StartReal(t) // skips without root or debootstrap
//	c, err := build.Connect(ctx, env.Addr, build.ConnectOptions{})
//	res, err := c.Build(ctx, build.Request{Dockerfile: []byte("FROM python:3.11-slim\n..."), ContextDir: dir})
//	img, err := res.Image()
//	rep, err := smoke.Run(ctx, img, smoke.Options{HTTPPath: "/"}) // rep.Passed
//
// The bases are built once per recipe (minutes; scripts/e2e-setup.sh or
// `go run ./internal/bktest/realbases` does it ahead) and cached under
// ~/.cache/harden-bk/realbases; see EnsureRealBases.
package bktest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// EnvRequire, set to 1, makes missing prerequisites fail tests instead of
// skipping them, so a CI machine cannot silently skip the e2e suite.
const EnvRequire = "HARDEN_E2E"

// Env is a running BuildKit environment.
type Env struct {
	// Addr is the daemon's address, for --buildkit-host or BUILDKIT_HOST.
	Addr string
	// Registry is the loopback registry every mirrored registry resolves to.
	Registry *Registry
	// Bin holds the buildkitd and buildctl in use (buildctl for comparisons).
	Bin Binaries
	// Real holds the realistic bases the registry serves in an environment
	// from StartReal; it is nil in one from Start, which serves stand-ins.
	Real   *RealBases
	daemon *Daemon
}

// Prereqs returns why BuildKit cannot run here, or "" when it can. It does
// not build anything.
func Prereqs() string {
	if os.Geteuid() != 0 {
		return "e2e tests need root to run containers (buildkitd's OCI worker, runc)"
	}
	if _, err := lookRunc(); err != nil {
		return "e2e tests need runc: apt-get install runc (or run scripts/e2e-setup.sh)"
	}
	if err := requireStatic(BusyboxPath); err != nil {
		return "e2e tests need a static busybox for base images: apt-get install busybox-static (" + err.Error() + ")"
	}
	return ""
}

func lookRunc() (string, error) {
	if p, err := exec.LookPath("runc"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/runc", "/usr/local/sbin/runc", "/sbin/runc"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// RequireRunc skips (or, with HARDEN_E2E=1, fails) t unless containers can
// run here: root, runc and a static busybox. For tests that need runc but
// not buildkitd, such as smoke checks on images made in memory.
func RequireRunc(t testing.TB) {
	t.Helper()
	if reason := Prereqs(); reason != "" {
		skipOrFail(t, reason)
	}
}

func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s (and %s=1 requires e2e tests to run)", reason, EnvRequire)
	}
	t.Skip("skipping: " + reason)
}

var shared struct {
	sync.Mutex
	inMain bool
	done   bool
	env    *Env
	skip   string
	err    error
}

// Main runs a package's tests sharing one BuildKit environment, started by
// the first Start and stopped after the last test (and likewise one from
// StartReal). Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that hands m to something else, such as
// testscript.Main: it runs m's tests with shared environments and returns
// the exit code instead of exiting.
func Run(m interface{ Run() int }) int {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	if shared.env != nil {
		if err := shared.env.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "bktest:", err)
		}
	}
	shared.Unlock()
	closeSharedReal()
	return code
}

// Start returns a running environment, skipping t when this machine cannot
// run one (not root, no runc, no busybox-static, buildkitd not cached and no
// way to build it) and failing it when start-up itself fails. In -short mode
// it skips, since a first run builds buildkitd.
func Start(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping BuildKit e2e test in -short mode")
	}
	RequireRunc(t)
	env, skip, err := sharedOrNew(t)
	if skip != "" {
		skipOrFail(t, skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func sharedOrNew(t testing.TB) (*Env, string, error) {
	shared.Lock()
	defer shared.Unlock()
	if !shared.inMain {
		env, skip, err := setup()
		if env != nil {
			t.Cleanup(func() {
				if err := env.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		return env, skip, err
	}
	if !shared.done {
		shared.env, shared.skip, shared.err = setup()
		shared.done = true
	}
	return shared.env, shared.skip, shared.err
}

// setup fetches the binaries, then starts the registry, the stand-ins and
// the daemon. A buildkitd that is not cached and cannot be built is a
// reason to skip, not an error.
func setup() (env *Env, skip string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	version, err := BuildKitVersion()
	if err != nil {
		return nil, "", err
	}
	bins, err := EnsureBinaries(ctx, version, os.Stderr)
	if err != nil {
		return nil, err.Error() + " (run scripts/e2e-setup.sh)", nil
	}
	env, err = NewEnv(ctx, bins)
	return env, "", err
}

// NewEnv starts a registry serving DefaultStandIns and a buildkitd that uses
// it as mirror. It is what Start runs; the dev environment uses it directly.
func NewEnv(ctx context.Context, bins Binaries) (*Env, error) {
	return newEnv(ctx, bins, (*Env).pushDefaults)
}

// newEnv starts a registry, lets fill publish the base images, and starts
// a buildkitd that uses the registry as mirror.
func newEnv(ctx context.Context, bins Binaries, fill func(*Env) error) (*Env, error) {
	reg, err := StartRegistry()
	if err != nil {
		return nil, err
	}
	env := &Env{Registry: reg, Bin: bins}
	if err := fill(env); err != nil {
		reg.Close()
		return nil, err
	}
	// Not t.TempDir: its long names overflow the 108-byte socket path limit.
	dir, err := os.MkdirTemp("", "harden-bk-")
	if err != nil {
		reg.Close()
		return nil, err
	}
	env.daemon, err = StartDaemon(ctx, DaemonConfig{Buildkitd: bins.Buildkitd, Dir: dir, Mirror: reg.Addr})
	if err != nil {
		reg.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	env.Addr = env.daemon.Addr
	return env, nil
}

// pushDefaults registers DefaultStandIns to be made on first pull: making
// them all costs seconds (and, for golang, compiling a server).
func (e *Env) pushDefaults() error {
	for _, s := range DefaultStandIns {
		s := s
		if err := e.Registry.Lazy(s.Ref, func() (v1.Image, error) { return NewStandIn(s.Kind, s.Version) }); err != nil {
			return err
		}
	}
	return nil
}

// DaemonLog is the path of buildkitd's log, for failure messages.
func (e *Env) DaemonLog() string { return e.daemon.Log }

// Close stops the daemon and the registry and removes the daemon's state.
func (e *Env) Close() error {
	err := e.daemon.Stop()
	e.Registry.Close()
	return err
}

// PushImage publishes img under the name Dockerfiles use for it (e.g.
// "myorg/base:1" or "gcr.io/x/y:z") and returns its digest.
func (e *Env) PushImage(t testing.TB, name string, img v1.Image) v1.Hash {
	t.Helper()
	h, err := e.Registry.Push(name, img)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// PushLayers publishes an image made of a stand-in of kind plus extra
// layers (see Layer), with cfg as its config, under name.
func (e *Env) PushLayers(t testing.TB, name string, kind Kind, cfg v1.Config, layers ...v1.Layer) v1.Hash {
	t.Helper()
	base, err := NewStandIn(kind, "")
	if err != nil {
		t.Fatal(err)
	}
	baseLayers, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	img, err := Image(cfg, append(baseLayers, layers...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e.PushImage(t, name, img)
}

// PushStandIn publishes the stand-in of kind under another name, e.g.
// PushStandIn(t, "python:3.10-slim", bktest.PythonSlim, "3.10.14").
func (e *Env) PushStandIn(t testing.TB, name string, kind Kind, version string) v1.Hash {
	t.Helper()
	img, err := NewStandIn(kind, version)
	if err != nil {
		t.Fatal(err)
	}
	return e.PushImage(t, name, img)
}

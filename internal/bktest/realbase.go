package bktest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var sharedReal struct {
	sync.Mutex
	done bool
	env  *Env
	skip string
	err  error
}

// StartReal returns a running BuildKit environment whose registry serves
// the realistic bases (RealBase) under DefaultRealNames: python:3.11-slim,
// node:20, debian:bookworm-slim, ... It serves no stand-in: a Dockerfile
// naming an image that has no realistic base (alpine:3.20, say) fails with
// "not found" instead of quietly getting a busybox imitation. Publish a
// stand-in explicitly with PushStandIn when a test wants one beside the
// realistic bases.
//
// The first call on a machine builds the bases (minutes; scripts/e2e-setup.sh
// does it ahead). It skips t when they cannot be had here (not root, no
// debootstrap or runc, the build failing) unless HARDEN_E2E=1, which makes
// that a failure. Under Main the environment is shared by the package's
// tests, separately from Start's.
func StartReal(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping BuildKit e2e test on realistic bases in -short mode")
	}
	if reason := RealPrereqs(); reason != "" {
		skipOrFail(t, reason)
	}
	shared.Lock()
	inMain := shared.inMain
	shared.Unlock()
	var env *Env
	var skip string
	var err error
	if inMain {
		sharedReal.Lock()
		if !sharedReal.done {
			sharedReal.env, sharedReal.skip, sharedReal.err = setupReal()
			sharedReal.done = true
		}
		env, skip, err = sharedReal.env, sharedReal.skip, sharedReal.err
		sharedReal.Unlock()
	} else {
		env, skip, err = setupReal()
		if env != nil {
			t.Cleanup(func() {
				if err := env.Close(); err != nil {
					t.Error(err)
				}
			})
		}
	}
	if skip != "" {
		skipOrFail(t, skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func closeSharedReal() {
	sharedReal.Lock()
	defer sharedReal.Unlock()
	if sharedReal.env != nil {
		if err := sharedReal.env.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "bktest:", err)
		}
	}
}

// setupReal gets buildkitd and the bases, then starts the environment. Not
// being able to build either is a reason to skip; failing to start is an
// error.
func setupReal() (env *Env, skip string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	version, err := BuildKitVersion()
	if err != nil {
		return nil, "", err
	}
	bins, err := EnsureBinaries(ctx, version, os.Stderr)
	if err != nil {
		return nil, err.Error() + " (run scripts/e2e-setup.sh)", nil
	}
	bases, err := EnsureRealBases(ctx, os.Stderr)
	if err != nil {
		return nil, "cannot build the realistic base images: " + err.Error() + " (run scripts/e2e-setup.sh)", nil
	}
	env, err = NewRealEnv(ctx, bins, bases)
	return env, "", err
}

// NewRealEnv starts a registry serving bases under DefaultRealNames, and
// nothing else, and a buildkitd that uses it as mirror. It is what
// StartReal runs; the dev environment (bkdev -real) uses it directly.
func NewRealEnv(ctx context.Context, bins Binaries, bases *RealBases) (*Env, error) {
	return newEnv(ctx, bins, func(e *Env) error {
		e.Real = bases
		for _, n := range DefaultRealNames {
			if err := e.lazyReal(n.Ref, n.Base); err != nil {
				return err
			}
		}
		return nil
	})
}

// lazyReal publishes base under name on first pull. Its layers are served
// from the cache's files: nothing is copied into memory.
func (e *Env) lazyReal(name string, base RealBase) error {
	files, err := e.Real.chain(base)
	if err != nil {
		return err
	}
	for _, f := range files {
		e.Registry.files.serveFile(f.rec.Digest, f.path)
	}
	return e.Registry.Lazy(name, func() (v1.Image, error) { return e.Real.Image(base) })
}

// PushReal publishes the realistic base under another name, e.g.
// PushReal(t, "myorg/python:base", bktest.RealPythonSlim). Only in an
// environment from StartReal.
func (e *Env) PushReal(t testing.TB, name string, base RealBase) v1.Hash {
	t.Helper()
	if e.Real == nil {
		t.Fatal("PushReal needs an environment from StartReal; this one serves stand-ins")
	}
	if err := e.lazyReal(name, base); err != nil {
		t.Fatal(err)
	}
	img, err := e.Real.Image(base)
	if err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Command bkdev runs, until interrupted, the BuildKit environment the e2e
// tests use, for trying harden by hand: buildkitd at go.mod's version on a
// temporary root, and a loopback registry standing in for Docker Hub and the
// other public registries, filled with the stand-in base images, or with
// -real the realistic Debian bases instead (built first if not cached).
//
//	go run ./internal/bktest/bkdev [-real] [-env-file FILE] [-rootfs NAME=TAR]...
//
// Run it as root from the repository (scripts/buildkitd-dev.sh does).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/harden-dev/harden/internal/bktest"
)

type rootfsFlags []string

func (r *rootfsFlags) String() string     { return strings.Join(*r, ",") }
func (r *rootfsFlags) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	envFile := flag.String("env-file", "", "write BUILDKIT_HOST=... to this file once the daemon answers")
	useReal := flag.Bool("real", false, "serve the realistic Debian bases (python:3.11, python:3.11-slim, node:20, ...) instead of the stand-ins")
	var rootfs rootfsFlags
	flag.Var(&rootfs, "rootfs", "also publish NAME (e.g. python:3.11) as a one-layer image of the rootfs tar `NAME=TAR` (plain or gzip), e.g. from debootstrap; repeatable")
	flag.Parse()
	if err := run(*envFile, *useReal, rootfs); err != nil {
		fmt.Fprintln(os.Stderr, "bkdev:", err)
		os.Exit(1)
	}
}

func run(envFile string, useReal bool, rootfs []string) error {
	prereqs := bktest.Prereqs
	if useReal {
		prereqs = bktest.RealPrereqs
	}
	if reason := prereqs(); reason != "" {
		return fmt.Errorf("%s", reason)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	version, err := bktest.BuildKitVersion()
	if err != nil {
		return err
	}
	bins, err := bktest.EnsureBinaries(ctx, version, os.Stderr)
	if err != nil {
		return err
	}
	var env *bktest.Env
	var names []string
	if useReal {
		bases, err := bktest.EnsureRealBases(ctx, os.Stderr)
		if err != nil {
			return err
		}
		if env, err = bktest.NewRealEnv(ctx, bins, bases); err != nil {
			return err
		}
		for _, n := range bktest.DefaultRealNames {
			names = append(names, n.Ref)
		}
	} else {
		if env, err = bktest.NewEnv(ctx, bins); err != nil {
			return err
		}
		for _, s := range bktest.DefaultStandIns {
			names = append(names, s.Ref)
		}
	}
	defer env.Close()

	for _, spec := range rootfs {
		name, path, ok := strings.Cut(spec, "=")
		if !ok {
			return fmt.Errorf("-rootfs %q: want NAME=TAR", spec)
		}
		layer, err := tarball.LayerFromFile(path)
		if err != nil {
			return fmt.Errorf("-rootfs %s: %w", spec, err)
		}
		img, err := bktest.Image(v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"bash"}}, layer)
		if err != nil {
			return err
		}
		if _, err := env.Registry.Push(name, img); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bkdev: published %s from %s\n", name, path)
		names = append(names, name)
	}

	if envFile != "" {
		if err := os.WriteFile(envFile, []byte("BUILDKIT_HOST="+env.Addr+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf(`BuildKit %s is running (log: %s).
Base images on the loopback registry %s: %s.
Other names fail at once: the real registries are unreachable on purpose.

  export BUILDKIT_HOST=%s
  harden report path/to/project

Press Ctrl-C to stop; the daemon's state is removed.
`, version, env.DaemonLog(), env.Registry.Addr, strings.Join(names, ", "), env.Addr)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "bkdev: stopping")
	return nil
}

package build_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
)

// The same warm, cached build through this package (solve, OCI export,
// measuring) and through buildctl (solve, OCI tar export): the difference is
// what harden adds on top of BuildKit. Run with
//
//	go test -run '^$' -bench . ./build/
const benchDockerfile = "FROM busybox\nCOPY data.bin /data.bin\nRUN head -c 1000000 /dev/urandom > /gen.bin\nUSER 10001\n"

func benchContext(b *testing.B) string {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), bktest.RandomBytes(1_000_000), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(benchDockerfile), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkBuildWarm(b *testing.B) {
	env := bktest.Start(b)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dir := benchContext(b)
	for i := 0; i < b.N+1; i++ {
		if i == 1 {
			b.ResetTimer() // the first build fills the cache
		}
		res, err := c.Build(context.Background(), build.Request{Dockerfile: []byte(benchDockerfile), ContextDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		res.Cleanup()
	}
}

func BenchmarkBuildctlWarm(b *testing.B) {
	env := bktest.Start(b)
	dir := benchContext(b)
	out := filepath.Join(b.TempDir(), "image.tar")
	for i := 0; i < b.N+1; i++ {
		if i == 1 {
			b.ResetTimer()
		}
		cmd := exec.Command(env.Bin.Buildctl, "--addr", env.Addr, "build", "--frontend", "dockerfile.v0",
			"--local", "context="+dir, "--local", "dockerfile="+dir, "--output", "type=oci,dest="+out, "--progress", "quiet")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("buildctl: %v\n%s", err, msg)
		}
	}
}

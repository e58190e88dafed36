package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkProcess measures whole harden processes, as a bot or an editor
// runs them: one exec per Dockerfile, start-up included. The in-process
// benchmarks in transform cannot see start-up, which dominates for one
// small file. "version" is the floor: process start and package
// initialisation with no work. Compare the ratios, not the times, which
// depend on the machine (page faults are expensive in a VM).
func BenchmarkProcess(b *testing.B) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		b.Skipf("no go tool to build harden with: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "harden")
	build := exec.Command(goTool, "build", "-o", bin, "./harden")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build does
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	example := filepath.Join("..", "testdata", "examples", "python-flask", "Dockerfile")
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"version", []string{"version"}},
		{"fix-safe", []string{"fix", "--level", "safe", "--dockerignore", "skip", example}},
		{"fix", []string{"fix", example}},
		{"fix-diff", []string{"fix", "--diff", example}},
		{"check", []string{"check", example}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(bin, bc.args...)
				if out, err := cmd.CombinedOutput(); err != nil {
					if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != ExitFound {
						b.Fatalf("harden %v: %v\n%s", bc.args, err, out)
					}
				}
			}
		})
	}
}

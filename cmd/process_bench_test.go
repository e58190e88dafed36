package cmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkProcess measures whole processes, as a bot or an editor runs
// harden: one exec per Dockerfile, start-up included, which the in-process
// benchmarks in transform cannot see and which dominates for one small
// file. Beside harden it runs the two reference programs of
// internal/startfloor: any Go program (floor-go), and one that links only
// what harden must link and parses the file (floor-parse). Compare the
// ratios, not the times: those depend on the machine, and page faults are
// expensive in a VM.
func BenchmarkProcess(b *testing.B) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		b.Skipf("no go tool to build harden with: %v", err)
	}
	bin := b.TempDir()
	build := exec.Command(goTool, "build", "-o", bin+string(filepath.Separator),
		"./harden", "../internal/startfloor/goruntime", "../internal/startfloor/parseonly")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build does
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	example := filepath.Join("..", "testdata", "examples", "python-flask", "Dockerfile")
	for _, bc := range []struct {
		name, program string
		args          []string
	}{
		{"floor-go", "goruntime", nil},
		{"floor-parse", "parseonly", []string{example}},
		{"version", "harden", []string{"version"}},
		{"fix-safe", "harden", []string{"fix", "--level", "safe", "--dockerignore", "skip", example}},
		{"fix", "harden", []string{"fix", example}},
		{"fix-diff", "harden", []string{"fix", "--diff", example}},
		{"check", "harden", []string{"check", example}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				out, err := exec.Command(filepath.Join(bin, bc.program), bc.args...).CombinedOutput()
				var exit *exec.ExitError
				if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == ExitFound) {
					b.Fatalf("%s %v: %v\n%s", bc.program, bc.args, err, out)
				}
			}
		})
	}
}

package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harden-dev/harden/internal/bktest"
)

// TestFixBuildPinsTheRuntimeDigestE2E is fix --build --write on an app
// whose base is pinned by digest: harden splits it onto the slim image,
// looks up the slim tag's digest through BuildKit (here the loopback
// registry that mirrors Docker Hub, with the digests of the images as
// pushed), writes the runtime FROM with that digest, and the pinned file
// builds and starts. A slim tag the registry lacks keeps the rewrite by
// tag, and the summary says why.
func TestFixBuildPinsTheRuntimeDigestE2E(t *testing.T) {
	env := bktest.Start(t) // this package's TestMain is testscript's: a daemon of its own
	// Tags no other test of the package pushes, so the digests are these.
	base := env.PushStandIn(t, "python:3.10", bktest.Python, "3.10.14")
	slim := env.PushStandIn(t, "python:3.10-slim", bktest.PythonSlim, "3.10.14")
	orphan := env.PushStandIn(t, "python:3.9", bktest.Python, "3.9.19") // no python:3.9-slim
	run := func(t *testing.T, dir string) (code int, stderr, dockerfile, prBody string) {
		t.Helper()
		pr := filepath.Join(t.TempDir(), "pr.md")
		var out, errOut bytes.Buffer
		s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
		code = Run(s, []string{"fix", "--write", "--pr-body", pr, "--build", "--buildkit-host", env.Addr, dir})
		df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := os.ReadFile(pr)
		return code, errOut.String(), string(df), string(body)
	}

	t.Run("the slim runtime is pinned to its digest as pushed, and builds", func(t *testing.T) {
		dir := writeApp(t, "FROM python:3.10@"+base.String()+"\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
		code, stderr, df, body := run(t, dir)
		if code != ExitOK {
			t.Fatalf("exit %d\nstderr:\n%s\nDockerfile:\n%s\nPR body:\n%s", code, stderr, df, body)
		}
		if !strings.Contains(df, "\nFROM python:3.10-slim@"+slim.String()+"\n") || !strings.Contains(df, "FROM python:3.10@"+base.String()+" AS builder\n") {
			t.Errorf("the builder keeps its pin and the runtime gets the slim image's:\n%s", df)
		}
		if want := "python:3.10-slim is pinned to " + slim.String() + ", the digest BuildKit resolved for that tag on the day of this build"; !strings.Contains(stderr, want) {
			t.Errorf("the summary lacks %q:\n%s", want, stderr)
		}
		if strings.Contains(stderr, "pinned by tag only") || strings.Contains(stderr, "from-latest") {
			t.Errorf("nothing is left unpinned:\n%s", stderr)
		}
		if !strings.Contains(body, "**Smoke check of the hardened image: passed**") || strings.Contains(body, "did not build") {
			t.Errorf("the pinned rewrite must build and start:\n%s", body)
		}
	})

	t.Run("harden report builds the rewrite pinned alike", func(t *testing.T) {
		dir := writeApp(t, "FROM python:3.10@"+base.String()+"\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
		var out, errOut bytes.Buffer
		s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
		code := Run(s, []string{"report", "--buildkit-host", env.Addr, "--progress", "quiet", dir})
		if code != ExitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		}
		if want := "python:3.10-slim is pinned to " + slim.String() + ", the digest BuildKit resolved"; !strings.Contains(errOut.String(), want) {
			t.Errorf("the changes lack %q:\n%s", want, errOut.String())
		}
	})

	t.Run("a tag the registry lacks keeps the rewrite by tag and says why", func(t *testing.T) {
		dir := writeApp(t, "FROM python:3.9@"+orphan.String()+"\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
		code, stderr, df, _ := run(t, dir)
		if code == ExitOK {
			t.Errorf("python:3.9-slim cannot be built here, yet fix --build exited 0:\n%s", stderr)
		}
		if !strings.Contains(df, "\nFROM python:3.9-slim\n") {
			t.Errorf("the runtime keeps its tag:\n%s", df)
		}
		want := "python:3.9-slim is pinned by tag only, not by digest as python:3.9 was; looking up the digest of python:3.9-slim through BuildKit failed: docker.io/library/python:3.9-slim: not found"
		if !strings.Contains(stderr, want) {
			t.Errorf("the summary lacks %q:\n%s", want, stderr)
		}
	})
}

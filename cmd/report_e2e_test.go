package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/harden-dev/harden/internal/bktest"
)

// TestReportCommandE2E runs `harden report` in process against a real
// BuildKit with bktest's stand-in base images: the exit status, the streams
// and the project folder, as a user sees them.
func TestReportCommandE2E(t *testing.T) {
	env := bktest.Start(t) // this package's TestMain is testscript's: a daemon of its own
	env.PushStandIn(t, "python:3.13", bktest.Python, "3.13.0")
	run := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
		code := Run(s, append([]string{"report", "--buildkit-host", env.Addr}, args...))
		return code, out.String(), errOut.String()
	}

	t.Run("hardened image builds, is smaller and runs as non-root", func(t *testing.T) {
		dir := writeApp(t, "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
		before := listDir(t, dir)
		code, out, errOut := run(t, "--progress", "plain", "-f", "json", dir)
		if code != ExitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		var r struct {
			OK       bool
			Hardened struct{ Stats struct{ User string } }
			Smoke    struct {
				Status string
				Result struct{ UID int }
			}
			Comparison struct {
				CompressedSize struct{ Ratio float64 } `json:"compressed_size"`
			}
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !r.OK || r.Hardened.Stats.User == "" || r.Smoke.Status != "passed" || r.Smoke.Result.UID == 0 || r.Comparison.CompressedSize.Ratio >= 0.6 {
			t.Errorf("report: %+v\n%s", r, out)
		}
		for _, want := range []string{"multi-stage-build (HD502)", "#0 original", "#0 hardened", "RUN pip install"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q (the changes, then BuildKit's plain progress):\n%s", want, errOut)
			}
		}
		if after := listDir(t, dir); !slices.Equal(before, after) {
			t.Errorf("report wrote into the project: %v -> %v", before, after)
		}
	})

	t.Run("a hardened build that fails is named, with the original still reported", func(t *testing.T) {
		// The slim tag is missing from this registry, as it can be from a
		// private mirror: the original builds, the hardened file cannot.
		dir := writeApp(t, "FROM python:3.13\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
		code, out, errOut := run(t, "--progress", "quiet", "-q", dir)
		if code != ExitFound {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFound, out, errOut)
		}
		if !strings.Contains(out, "the hardened image did not build") || !strings.Contains(out, "python:3.13-slim: not found") ||
			!regexp.MustCompile(`compressed size +[0-9.]+ MB +build failed\n`).MatchString(out) {
			t.Errorf("the text report should show the original's measures and why the hardened build failed:\n%s", out)
		}
	})

	t.Run("a hardened image that no longer starts fails the smoke check", func(t *testing.T) {
		// The app writes a log into a folder root created, through dd,
		// whose writes harden's model of the start command does not
		// read: the rewrite adds a user that cannot write there, and only
		// the smoke check can tell.
		dir := writeApp(t, "FROM python:3.11\nRUN mkdir -p /var/log/app && echo ready > /var/log/app/.keep\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"+
			"CMD [\"sh\", \"-c\", \"echo start | dd of=/var/log/app/app.log && exec python app.py\"]\n")
		code, out, errOut := run(t, "--progress", "quiet", "-q", "-f", "markdown", dir)
		if code != ExitFound {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFound, out, errOut)
		}
		if !strings.Contains(out, "**Smoke check of the hardened image: failed**") || !strings.Contains(out, "Permission denied") {
			t.Errorf("the Markdown should show the failed check and the container's output:\n%s", out)
		}
	})

	t.Run("a smoke command runs inside the hardened container", func(t *testing.T) {
		dir := writeApp(t, "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
		code, out, errOut := run(t, "--progress", "quiet", "-q", "--smoke", `sh -c 'test "$(id -u)" = 10001 && test -d /opt/venv'`, dir)
		if code != ExitOK || !strings.Contains(out, "smoke check of the hardened image (exec") || !strings.Contains(out, ": passed: ") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		code, out, errOut = run(t, "--progress", "quiet", "-q", "--smoke", "test -d /root/.cache/pip", dir)
		if code != ExitFound || !strings.Contains(out, ": failed: ") {
			t.Errorf("a smoke command that exits 1 must fail the report: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})
}

// TestFixBuildAddsTheSizeReportToThePRBody is fix --build: the pull-request
// body a bot opens carries the size report of each changed file.
func TestFixBuildAddsTheSizeReportToThePRBody(t *testing.T) {
	env := bktest.Start(t)
	dir := writeApp(t, "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
	prBody := filepath.Join(t.TempDir(), "pr.md")
	var out, errOut bytes.Buffer
	s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
	code := Run(s, []string{"fix", "--write", "--pr-body", prBody, "--build", "--buildkit-host", env.Addr, dir})
	body, err := os.ReadFile(prBody)
	if err != nil {
		t.Fatal(err)
	}
	md := string(body)
	if code != ExitOK {
		t.Fatalf("exit %d\nstderr:\n%s\nPR body:\n%s", code, errOut.String(), md)
	}
	changes := strings.Index(md, "| Original line | Rule | Change |")
	sizes := strings.Index(md, "### Built with BuildKit: `"+filepath.Join(dir, "Dockerfile")+"`")
	if changes < 0 || sizes < changes || !strings.Contains(md, "```mermaid\nxychart-beta") || !strings.Contains(md, "**Smoke check of the hardened image: passed**") {
		t.Errorf("the PR body should list the changes, then the size report with its chart and smoke check:\n%s", md)
	}
}

// writeApp makes a Python app folder for the stand-in images. Its server
// gets a port of its own, declared with EXPOSE, so that the smoke check
// waits for it there and holds it against checks running in other packages
// (the stand-in serves on $PORT, 8000 by default).
func writeApp(t *testing.T, dockerfile string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dockerfile = strings.Replace(dockerfile, "\nCMD ", fmt.Sprintf("\nENV PORT=%d\nEXPOSE %d\nCMD ", port, port), 1)
	dir := t.TempDir()
	for name, data := range map[string]string{"Dockerfile": dockerfile, "requirements.txt": "flask\n", "app.py": "print('hi')\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		names = append(names, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
)

// fix --verify against a real BuildKit on realistic bases: real CPython on
// Debian bookworm, so that a user that cannot write a folder really fails.
// The tests share the package's one realistic environment (see TestMain).

// tallyPy keeps its state in a folder whose path only its code knows: the
// name comes from a function, joined at run time, so no model of the
// source can give it to a non-root user. It writes before it listens, so
// a start that fails to write never answers.
const tallyPy = `import os
from http.server import BaseHTTPRequestHandler, HTTPServer


def service_name():
    return "-".join(["tally", "keeper"])


STATE = os.path.join("/var", "lib", service_name())
os.makedirs(STATE, exist_ok=True)
with open(os.path.join(STATE, "started"), "a") as f:
    f.write("%d\n" % os.getpid())


class Tally(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Tally).serve_forever()
`

// greetPy writes nothing: any user can run it.
const greetPy = `import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Greet(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello\n")


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Greet).serve_forever()
`

// verifyApp is a project: its Dockerfile (%d is the port, twice) and files.
type verifyApp struct {
	dockerfile string
	files      map[string]string
}

// A fat base with a requirements file: harden splits it into a builder and
// a slim runtime, adds --no-cache-dir, and adds a user.
const pythonOnFatBase = `FROM python:3.11
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
ENV PORT=%d
EXPOSE %d
CMD ["python", "app.py"]
`

var (
	// tally fails only at run time once a user is added.
	tally = verifyApp{dockerfile: pythonOnFatBase, files: map[string]string{"app.py": tallyPy, "requirements.txt": ""}}
	// notes writes its working directory and home, which harden's model
	// gives the user: every change works.
	notes = verifyApp{dockerfile: pythonOnFatBase, files: map[string]string{"app.py": notesPy, "requirements.txt": ""}}
	// typo starts a file that is not there: the original never answers.
	typo = verifyApp{dockerfile: "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nENV PORT=%d\nEXPOSE %d\nCMD [\"python\", \"main.py\"]\n",
		files: map[string]string{"app.py": greetPy}}
	// greet runs as anyone; harden adds a user.
	greet = verifyApp{dockerfile: "FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nENV PORT=%d\nEXPOSE %d\nCMD [\"python\", \"app.py\"]\n",
		files: map[string]string{"app.py": greetPy}}
)

// write puts the app in a new folder with a port of its own.
func (a verifyApp) write(t testing.TB, port int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"Dockerfile": fmt.Sprintf(a.dockerfile, port, port)}
	for k, v := range a.files {
		files[k] = v
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// harden runs harden in process and returns its exit code and streams.
func harden(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(&Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

// fixJSON is what the tests read of --format json.
type fixJSON struct {
	Files []struct {
		Changed      bool
		Verification *struct {
			Status      string
			Checks      []string
			Original    string
			OriginalLog []string
			Dropped     []struct {
				RuleName, Tried, Reason string
				Changes, Log            []string
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestFixVerifyE2E(t *testing.T) {
	env := bktest.StartReal(t)

	t.Run("a rewrite that fails at run time keeps every change but the user", func(t *testing.T) {
		dir := tally.write(t, freeTCPPort(t))
		original := readFile(t, filepath.Join(dir, "Dockerfile"))
		// Without --verify, harden adds a user that cannot make the state
		// folder: the failure only a start shows.
		code, plain, errOut := harden("fix", dir)
		if code != ExitOK || !strings.Contains(plain, "\nUSER 10001:10001\n") || strings.Contains(errOut, "tally-keeper") {
			t.Fatalf("the plain rewrite should add a user, blind to the state folder (exit %d):\n%s\n%s", code, plain, errOut)
		}

		prBody := filepath.Join(t.TempDir(), "pr.md")
		// Every temporary folder harden and harden-build make goes here,
		// so that the test can see that none is left behind.
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		code, out, errOut := harden("fix", "--verify", "--write", "--format", "json", "--pr-body", prBody, "--buildkit-host", env.Addr, dir)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		assertNothingLeftBehind(t, tmp)
		written := readFile(t, filepath.Join(dir, "Dockerfile"))
		for _, want := range []string{"FROM python:3.11 AS builder\n", "RUN pip install --no-cache-dir -r requirements.txt\n", "FROM python:3.11-slim\n", "COPY --from=builder /opt/venv /opt/venv\n"} {
			if !strings.Contains(written, want) {
				t.Errorf("the split and the cache flag should stay (%q):\n%s", want, written)
			}
		}
		if strings.Contains(written, "USER") || strings.Contains(written, "useradd") {
			t.Errorf("the user should be left out:\n%s", written)
		}
		if _, err := os.Stat(filepath.Join(dir, ".dockerignore")); err != nil {
			t.Errorf("the ignore file, verified with the file, should be written: %v", err)
		}
		for _, want := range []string{
			"verify: building and starting the original and the full rewrite",
			"verified with BuildKit: the proposed file builds and starts (port ",
			"left out non-root-user (HD409): the full rewrite built but failed the smoke check",
			"PermissionError: [Errno 13] Permission denied: '/var/lib/tally-keeper'",
			"warning: non-root-user (HD409)",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		var doc fixJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		v := doc.Files[0].Verification
		if v == nil || v.Status != "reduced" || len(v.Dropped) != 1 || v.Dropped[0].RuleName != "non-root-user" || len(v.Checks) != 2 ||
			!strings.Contains(strings.Join(v.Dropped[0].Log, "\n"), "Permission denied") {
			t.Errorf("JSON verification: %+v", v)
		}
		md := readFile(t, prBody)
		if !strings.Contains(md, "**Verified with BuildKit:**") || !strings.Contains(md, "non-root-user.md) (1 change): the full rewrite built but failed the smoke check") {
			t.Errorf("PR body:\n%s", md)
		}

		// The written file builds and answers.
		c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if rep := buildAndSmoke(t, c, "written", []byte(written), dir); !rep.Passed {
			t.Errorf("the written file should build and answer: %s\n%s", rep.Reason, strings.Join(rep.Output, "\n"))
		}

		// A bot that runs again on its branch finds nothing to change.
		if code, _, errOut := harden("fix", "--verify", "--write", "--quiet", "--buildkit-host", env.Addr, dir); code != ExitOK {
			t.Fatalf("second run: exit %d\n%s", code, errOut)
		}
		if again := readFile(t, filepath.Join(dir, "Dockerfile")); again != written || again == original {
			t.Errorf("a second --verify run changed the file:\n%s", again)
		}
	})

	t.Run("when every change works --verify writes what fix writes", func(t *testing.T) {
		port := freeTCPPort(t)
		plain, verified := notes.write(t, port), notes.write(t, port)
		if code, _, errOut := harden("fix", "--write", plain); code != ExitOK {
			t.Fatalf("fix: exit %d\n%s", code, errOut)
		}
		code, out, errOut := harden("fix", "--verify", "--write", "--format", "json", "--buildkit-host", env.Addr, verified)
		if code != ExitOK {
			t.Fatalf("fix --verify: exit %d\n%s", code, errOut)
		}
		for _, name := range []string{"Dockerfile", ".dockerignore"} {
			if a, b := readFile(t, filepath.Join(plain, name)), readFile(t, filepath.Join(verified, name)); a != b {
				t.Errorf("%s differs:\nfix:\n%s\nfix --verify:\n%s", name, a, b)
			}
		}
		if !strings.Contains(readFile(t, filepath.Join(verified, "Dockerfile")), "\nUSER 10001:10001\n") {
			t.Error("the rewrite should run as a user")
		}
		var doc fixJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if v := doc.Files[0].Verification; v == nil || v.Status != "verified" || len(v.Dropped) != 0 || !regexp.MustCompile(`^starts \(.*as uid 10001\)$`).MatchString(v.Checks[1]) {
			t.Errorf("JSON verification: %+v", v)
		}
	})

	t.Run("a broken original gets no change and a clear note", func(t *testing.T) {
		dir := typo.write(t, freeTCPPort(t))
		original := readFile(t, filepath.Join(dir, "Dockerfile"))
		prBody := filepath.Join(t.TempDir(), "pr.md")
		code, _, errOut := harden("fix", "--verify", "--write", "--pr-body", prBody, "--buildkit-host", env.Addr, dir)
		if code != ExitBroken {
			t.Fatalf("exit %d, want %d\n%s", code, ExitBroken, errOut)
		}
		if got := readFile(t, filepath.Join(dir, "Dockerfile")); got != original {
			t.Errorf("the Dockerfile changed:\n%s", got)
		}
		if _, err := os.Stat(filepath.Join(dir, ".dockerignore")); !os.IsNotExist(err) {
			t.Errorf("an ignore file was written: %v", err)
		}
		for _, want := range []string{
			"not changed: the original image built but failed the smoke check (tcp port ",
			"so no change can be shown to keep it working (1 build in 1 round)",
			"can't open file '/app/main.py'",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		if md := readFile(t, prBody); !strings.Contains(md, "**Nothing proposed.** The original image built but failed the smoke check") || strings.Contains(md, "| Original line | Rule | Change |") {
			t.Errorf("PR body:\n%s", md)
		}
	})

	t.Run("a shared BuildKit on tcp:// with mutual TLS", func(t *testing.T) {
		addr, certs := env.StartTLSDaemon(t)
		dir := greet.write(t, freeTCPPort(t))
		original := readFile(t, filepath.Join(dir, "Dockerfile"))

		// The daemon wants a client certificate.
		code, _, errOut := harden("fix", "--verify", "--write", "--buildkit-host", addr, "--tlscacert", certs.CA, dir)
		if code != ExitFailure || !strings.Contains(errOut, "cannot reach BuildKit at "+addr) || !strings.Contains(errOut, "with TLS from the --tls flags") {
			t.Errorf("without a client certificate: exit %d\n%s", code, errOut)
		}
		if got := readFile(t, filepath.Join(dir, "Dockerfile")); got != original {
			t.Errorf("written without BuildKit:\n%s", got)
		}

		// buildctl's file names in a folder, from the environment as bots
		// set it once for every run.
		t.Setenv("BUILDKIT_TLS_DIR", certs.Dir)
		code, _, errOut = harden("fix", "--verify", "--write", "--buildkit-host", addr, dir)
		if code != ExitOK || !strings.Contains(errOut, "verified with BuildKit: the proposed file builds and starts") {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		if got := readFile(t, filepath.Join(dir, "Dockerfile")); !strings.Contains(got, "\nUSER 10001:10001\n") {
			t.Errorf("the user works here and should be written:\n%s", got)
		}
	})
}

// BenchmarkVerifyOverBuild is the time fix --verify takes against fix
// --build on the end-to-end apps, BuildKit's cache warm for both: --build
// builds both files and starts the rewrite; --verify starts the original
// too, and narrows down a rewrite that fails. Compare the ratios of one
// run: go test -run '^$' -bench VerifyOverBuild -benchtime 3x ./cmd
func BenchmarkVerifyOverBuild(b *testing.B) {
	env := bktest.StartReal(b)
	for _, app := range []struct {
		name string
		app  verifyApp
	}{{"rewrite-fails-at-run-time", tally}, {"every-change-works", notes}} {
		port := freeTCPPort(b)
		for _, mode := range []string{"build", "verify"} {
			b.Run(app.name+"/"+mode, func(b *testing.B) {
				run := func() {
					dir := app.app.write(b, port)
					args := []string{"fix", "--write", "--quiet", "--buildkit-host", env.Addr, "--" + mode}
					if mode == "build" {
						args = append(args, "--pr-body", filepath.Join(dir, "pr.md"))
					}
					code, _, errOut := harden(append(args, dir)...)
					// fix --build reports a rewrite that fails to start and
					// exits 2; --verify leaves the failing change out.
					if code != ExitOK && !(mode == "build" && code == ExitFailure && strings.Contains(errOut, "failed to build or to start")) {
						b.Fatalf("exit %d\n%s", code, errOut)
					}
				}
				run() // warm BuildKit's cache for this mode
				b.ResetTimer()
				for range b.N {
					run()
				}
			})
		}
	}
}

// assertNothingLeftBehind fails when a verify run left a temporary folder
// in tmp or a smoke-check container in runc's state.
func assertNothingLeftBehind(t *testing.T, tmp string) {
	t.Helper()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		// The port locks of the smoke check stay by design: checks in
		// other processes lock the same files, and removing one while
		// another waits on it would let two checks share a port.
		if e.Name() != "harden-smoke-ports" {
			names = append(names, e.Name())
		}
	}
	if len(names) > 0 {
		t.Errorf("temporary folders left behind in %s: %v", tmp, names)
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		runc = "/usr/sbin/runc" // where Debian installs it, off a user's PATH
	}
	out, err := exec.Command(runc, "list", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("runc list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "harden-smoke-") {
		t.Errorf("smoke-check containers left behind:\n%s", out)
	}
}

package smoke_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// busybox returns the busybox stand-in with cfg as its config: smoke checks
// need runc, not BuildKit, so these images are made in memory.
func busybox(t *testing.T, cfg v1.Config) v1.Image {
	t.Helper()
	bktest.RequireRunc(t)
	base, err := bktest.BusyboxImage()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env == nil {
		cfg.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	img, err := bktest.Image(cfg, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// fast keeps each check short; the defaults are meant for real images.
var fast = smoke.Options{Run: 1500 * time.Millisecond, Timeout: 10 * time.Second, Grace: 1500 * time.Millisecond}

func run(t *testing.T, img v1.Image, opts smoke.Options) *smoke.Report {
	t.Helper()
	rep, err := smoke.Run(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestLongRunningNonRootProcessPasses(t *testing.T) {
	t.Parallel() // each check mostly waits; containers and ports are separate
	rep := run(t, busybox(t, v1.Config{User: "10001", Cmd: []string{"sleep", "60"}}), fast)
	if !rep.Passed || rep.UID != 10001 || rep.GID != 0 {
		t.Fatalf("want a pass as uid 10001 gid 0, got %+v", rep)
	}
	// sleep installs no SIGTERM handler, and PID 1 ignores unhandled signals.
	if rep.StopsOnSIGTERM == nil || *rep.StopsOnSIGTERM {
		t.Errorf("sleep as PID 1 should not stop on SIGTERM: %+v", rep)
	}
}

func TestProcessThatHandlesSIGTERMStops(t *testing.T) {
	t.Parallel()
	cmd := []string{"sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"}
	rep := run(t, busybox(t, v1.Config{User: "www-data", Cmd: cmd}), fast)
	if !rep.Passed || rep.UID != 33 || rep.GID != 33 {
		t.Fatalf("want a pass as www-data (33:33) from /etc/passwd, got %+v", rep)
	}
	if rep.StopsOnSIGTERM == nil || !*rep.StopsOnSIGTERM || rep.StopTime > fast.Grace {
		t.Errorf("a TERM trap should stop it within the grace period: %+v", rep)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestServerAnswersOnExposedPort(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(freePort(t))
	img := busybox(t, v1.Config{
		User:         "10001:10001",
		Cmd:          []string{"httpd", "-f", "-p", port, "-h", "/tmp"},
		ExposedPorts: map[string]struct{}{port + "/tcp": {}},
	})
	opts := fast
	opts.HTTPPath = "/"
	rep := run(t, img, opts)
	if !rep.Passed || !strings.Contains(rep.Reason, "GET http://127.0.0.1:"+port+"/") || rep.UID != 10001 || rep.GID != 10001 {
		t.Fatalf("want httpd to answer on %s as 10001:10001, got %+v", port, rep)
	}
}

func TestPortThatNeverAnswersFails(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(freePort(t))
	img := busybox(t, v1.Config{Cmd: []string{"sleep", "60"}, ExposedPorts: map[string]struct{}{port + "/tcp": {}}})
	opts := fast
	opts.Timeout = 2 * time.Second
	rep := run(t, img, opts)
	if rep.Passed || !strings.Contains(rep.Reason, "no answer on port "+port) {
		t.Fatalf("want a failure naming port %s, got %+v", port, rep)
	}
}

func TestMissingEntrypointFails(t *testing.T) {
	t.Parallel()
	rep := run(t, busybox(t, v1.Config{Entrypoint: []string{"/app/server"}, Cmd: []string{"--port", "8080"}}), fast)
	if rep.Passed || !strings.Contains(rep.Reason, "did not start") || !strings.Contains(rep.Reason, "/app/server") {
		t.Fatalf("want a start failure naming /app/server, got %+v", rep)
	}
}

func TestProcessThatExitsAtOnceFails(t *testing.T) {
	t.Parallel()
	rep := run(t, busybox(t, v1.Config{Cmd: []string{"sh", "-c", "echo cannot find config >&2; exit 1"}}), fast)
	if rep.Passed || !strings.Contains(rep.Reason, "exited") || !strings.Contains(strings.Join(rep.Output, "\n"), "cannot find config") {
		t.Fatalf("want a failure with the process's output, got %+v", rep)
	}
	if rep.StopsOnSIGTERM != nil {
		t.Errorf("an exited process cannot be asked to stop: %+v", rep)
	}
}

func TestUnknownUserFails(t *testing.T) {
	t.Parallel()
	rep := run(t, busybox(t, v1.Config{User: "app", Cmd: []string{"sleep", "60"}}), fast)
	if rep.Passed || !strings.Contains(rep.Reason, "unable to find user app") {
		t.Fatalf("want docker's unknown-user failure, got %+v", rep)
	}
}

func TestSmokeCommandRunsInsideTheContainer(t *testing.T) {
	t.Parallel()
	img := busybox(t, v1.Config{User: "10001", WorkingDir: "/srv/app", Env: []string{"PATH=/bin:/usr/bin", "APP_ENV=prod"}, Cmd: []string{"sleep", "60"}})
	opts := fast
	// The command sees the container's user, environment, working directory and processes.
	opts.Exec = []string{"sh", "-c", `test "$(id -u)" = 10001 && test "$APP_ENV" = prod && test "$(pwd)" = /srv/app && test -n "$HOME" && pidof sleep`}
	if rep := run(t, img, opts); !rep.Passed {
		t.Fatalf("smoke command failed: %+v", rep)
	}
	opts.Exec = []string{"sh", "-c", "echo no health >&2; exit 4"}
	rep := run(t, img, opts)
	if rep.Passed || !strings.Contains(rep.Reason, "exited 4") || !strings.Contains(rep.Reason, "no health") {
		t.Fatalf("want a failure with exit code and output, got %+v", rep)
	}
}

func TestPortAlreadyTakenOnHostIsAnError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	img := busybox(t, v1.Config{Cmd: []string{"sleep", "60"}, ExposedPorts: map[string]struct{}{port + "/tcp": {}}})
	if _, err := smoke.Run(context.Background(), img, fast); err == nil || !strings.Contains(err.Error(), port) {
		t.Fatalf("a port the host already serves must not count as the container answering; got %v", err)
	}
}

package smoke

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcessArgsAreEntrypointThenCmd(t *testing.T) {
	args, err := processArgs(v1.Config{Entrypoint: []string{"/entry.sh"}, Cmd: []string{"serve", "--port", "80"}})
	if err != nil || !slices.Equal(args, []string{"/entry.sh", "serve", "--port", "80"}) {
		t.Errorf("got %q, %v", args, err)
	}
	if _, err := processArgs(v1.Config{}); err == nil {
		t.Error("an image with nothing to run must fail")
	}
}

func TestProcessEnvAddsDockerDefaults(t *testing.T) {
	env := processEnv(v1.Config{Env: []string{"APP=1"}}, User{Home: "/srv"}, "box")
	want := []string{"APP=1", "PATH=" + defaultPath, "HOSTNAME=box", "HOME=/srv"}
	if !slices.Equal(env, want) {
		t.Errorf("got %q, want %q", env, want)
	}
	env = processEnv(v1.Config{Env: []string{"PATH=/opt/bin", "HOME=/data"}}, User{Home: "/srv"}, "box")
	if !slices.Equal(env, []string{"PATH=/opt/bin", "HOME=/data", "HOSTNAME=box"}) {
		t.Errorf("image values must win: %q", env)
	}
}

func TestRuntimeSpecMirrorsDockerRun(t *testing.T) {
	in := specInput{
		Args: []string{"sleep", "60"}, Env: []string{"A=1"}, Cwd: "/app",
		User:     User{UID: 10001, GID: 10001, AdditionalGids: []uint32{33}},
		Hostname: "h", EtcFiles: map[string]string{"/etc/hosts": "/b/hosts", "/etc/resolv.conf": "/b/resolv"},
	}
	s := runtimeSpec(in)
	p := s.Process
	if !slices.Equal(p.Args, in.Args) || p.Cwd != "/app" || p.User.UID != 10001 || p.User.GID != 10001 || !slices.Equal(p.User.AdditionalGids, []uint32{33}) {
		t.Errorf("process: %+v", p)
	}
	if s.Root.Path != "rootfs" || s.Hostname != "h" {
		t.Errorf("root %+v hostname %q", s.Root, s.Hostname)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			t.Error("the container must share the host network (no CNI here)")
		}
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	for _, d := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", "/etc/hosts", "/etc/resolv.conf"} {
		if !slices.Contains(dests, d) {
			t.Errorf("no %s mount in %v", d, dests)
		}
	}
	// Non-root: no capabilities but binding low ports, like docker run.
	if c := p.Capabilities; !slices.Equal(c.Effective, []string{"CAP_NET_BIND_SERVICE"}) || !slices.Equal(c.Ambient, c.Effective) || len(c.Bounding) != len(defaultCaps) {
		t.Errorf("non-root capabilities: %+v", c)
	}
	root := runtimeSpec(specInput{Args: []string{"sh"}})
	if c := root.Process.Capabilities; !slices.Equal(c.Effective, defaultCaps) || len(c.Ambient) != 0 || root.Process.Cwd != "/" {
		t.Errorf("root: capabilities %+v, cwd %q", c, root.Process.Cwd)
	}
}

func TestParseStatusIDsReadsEffectiveIDs(t *testing.T) {
	status := "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t10001\t10001\t10001\nGid:\t0\t20\t20\t20\nGroups:\t33\n"
	uid, gid, err := parseStatusIDs(status)
	if err != nil || uid != 10001 || gid != 20 {
		t.Errorf("got %d:%d, %v; want the effective 10001:20", uid, gid, err)
	}
	if _, _, err := parseStatusIDs("Name:\tx\n"); err == nil || !strings.Contains(err.Error(), "Uid") {
		t.Errorf("want an error for a status without ids, got %v", err)
	}
}

func TestLogMessageUnwrapsLogrusLines(t *testing.T) {
	line := `time="2026-11-27T14:53:57Z" level=error msg="runc run failed: exec: \"/app/server\": stat /app/server: no such file or directory"`
	if got := logMessage(line); got != `runc run failed: exec: "/app/server": stat /app/server: no such file or directory` {
		t.Errorf("got %q", got)
	}
	if got := logMessage("plain output"); got != "plain output" {
		t.Errorf("got %q", got)
	}
}

func TestPortsToProbeAndToLock(t *testing.T) {
	cfg := v1.Config{ExposedPorts: map[string]struct{}{"8080/tcp": {}, "53/udp": {}, "9000": {}}}
	if got, err := probePorts(cfg, Options{}); err != nil || !slices.Equal(got, []int{8080, 9000}) {
		t.Errorf("probe %v, %v", got, err)
	}
	if got, _ := probePorts(cfg, Options{Ports: []string{"7000"}}); !slices.Equal(got, []int{7000}) {
		t.Errorf("Options.Ports should replace the image's: %v", got)
	}
	if got, _ := probePorts(cfg, Options{Exec: []string{"true"}}); got != nil {
		t.Errorf("a smoke command probes no port: %v", got)
	}
	// Whatever is probed, the container may still listen on all of them.
	if got, _ := exposedPorts(cfg, Options{Ports: []string{"7000", "8080"}, NoPorts: true}); !slices.Equal(got, []int{7000, 8080, 9000}) {
		t.Errorf("exposed %v", got)
	}
	if _, err := probePorts(v1.Config{ExposedPorts: map[string]struct{}{"http/tcp": {}}}, Options{}); err == nil {
		t.Error("a port that is not a number must be an error")
	}
}

func TestPortLocksMakeChecksTakeTurns(t *testing.T) {
	port := 40000 + os.Getpid()%20000
	unlock, err := lockPorts(context.Background(), []int{port}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// flock is per open file, so a second lock in this process waits too.
	start := time.Now()
	if _, err := lockPorts(context.Background(), []int{port}, 300*time.Millisecond); err == nil || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("a held port was locked again: %v", err)
	}
	go func() { time.Sleep(200 * time.Millisecond); unlock() }()
	unlock2, err := lockPorts(context.Background(), []int{port}, 2*time.Second)
	if err != nil {
		t.Fatalf("the lock was not handed over: %v", err)
	}
	unlock2()
}

package bktest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	bkclient "github.com/moby/buildkit/client"
)

// DaemonConfig describes a buildkitd to start.
type DaemonConfig struct {
	// Buildkitd is the daemon binary.
	Buildkitd string
	// Dir holds the daemon's state, socket, config and log; it should be
	// short, because a unix socket path is limited to 108 bytes.
	Dir string
	// Mirror is the host:port of the loopback registry that stands in for
	// MirroredRegistries.
	Mirror string
	// TLS, when set, makes the daemon also listen on TLS.Addr
	// (tcp://127.0.0.1:PORT) with mutual TLS: started with --tlscacert,
	// --tlscert and --tlskey, it accepts only clients whose certificate
	// the CA signed.
	TLS *DaemonTLS
}

// DaemonTLS is a tcp:// listener with mutual TLS.
type DaemonTLS struct {
	Addr  string
	Files TLSFiles
}

// Daemon is a running buildkitd.
type Daemon struct {
	// Addr is its BUILDKIT_HOST, unix://<Dir>/buildkitd.sock.
	Addr string
	// Log is the daemon's log file.
	Log  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid once done is closed
}

// Config renders buildkitd.toml: the OCI worker on runc with the host's
// network (there is no CNI here), and the loopback registry as plain-HTTP
// mirror of the public registries.
func (c DaemonConfig) Config(snapshotter string) string {
	var b strings.Builder
	addrs := fmt.Sprintf("%q", "unix://"+filepath.Join(c.Dir, "buildkitd.sock"))
	if c.TLS != nil {
		addrs += fmt.Sprintf(", %q", c.TLS.Addr)
	}
	fmt.Fprintf(&b, "root = %q\n\n[grpc]\n  address = [%s]\n\n", filepath.Join(c.Dir, "root"), addrs)
	fmt.Fprintf(&b, "[worker.oci]\n  enabled = true\n  snapshotter = %q\n  networkMode = \"host\"\n\n", snapshotter)
	b.WriteString("[worker.containerd]\n  enabled = false\n")
	if c.Mirror != "" {
		for _, reg := range MirroredRegistries {
			fmt.Fprintf(&b, "\n[registry.%q]\n  mirrors = [%q]\n", reg, c.Mirror)
		}
		fmt.Fprintf(&b, "\n[registry.%q]\n  http = true\n  insecure = true\n", c.Mirror)
	}
	return b.String()
}

// StartDaemon starts buildkitd and waits until it answers.
func StartDaemon(ctx context.Context, c DaemonConfig) (*Daemon, error) {
	if err := os.MkdirAll(c.Dir, 0o711); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(c.Dir, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(c.Config(snapshotterFor(c.Dir))), 0o644); err != nil {
		return nil, err
	}
	d := &Daemon{
		Addr: "unix://" + filepath.Join(c.Dir, "buildkitd.sock"),
		Log:  filepath.Join(c.Dir, "buildkitd.log"),
		dir:  c.Dir,
		done: make(chan struct{}),
	}
	logFile, err := os.Create(d.Log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor

	args := []string{"--config", cfgPath}
	if c.TLS != nil {
		// The flags, as a user starting a shared daemon would type them;
		// buildkitd applies them to its tcp:// listener only.
		args = append(args, "--tlscacert", c.TLS.Files.CA, "--tlscert", c.TLS.Files.ServerCert, "--tlskey", c.TLS.Files.ServerKey)
	}
	d.cmd = exec.Command(c.Buildkitd, args...)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	d.cmd.Env = daemonEnv(os.Environ())
	// Die with the test binary rather than outlive it holding mounts.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Buildkitd, err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	if err := d.waitReady(ctx, 30*time.Second); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// daemonEnv points the proxy variables at a closed port, so that a base
// image missing from the mirror fails at once ("not found") instead of
// hanging on the real registry, while the loopback registry stays direct.
// runc must be on PATH, and Debian installs it in /usr/sbin.
func daemonEnv(env []string) []string {
	drop := []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"}
	var out []string
	path := ""
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if slices.Contains(drop, k) {
			continue
		}
		if k == "PATH" {
			path = v
			continue
		}
		out = append(out, kv)
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !slices.Contains(filepath.SplitList(path), dir) {
			path += string(filepath.ListSeparator) + dir
		}
	}
	return append(out, "PATH="+strings.TrimPrefix(path, ":"),
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
		"http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
}

// snapshotterFor picks overlayfs unless dir is itself on overlayfs (as in
// many containers), where overlay cannot stack and native copying works.
func snapshotterFor(dir string) string {
	const overlayMagic = 0x794c7630
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil && st.Type == overlayMagic {
		return "native"
	}
	return "overlayfs"
}

func (d *Daemon) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		select {
		case <-d.done:
			return fmt.Errorf("buildkitd exited during start-up (%v); log %s:\n%s", d.err, d.Log, tail(d.Log, 20))
		case <-ctx.Done():
			return fmt.Errorf("buildkitd did not answer within %s (%v); log %s:\n%s", timeout, last, d.Log, tail(d.Log, 20))
		case <-time.After(100 * time.Millisecond):
		}
		if last = ping(ctx, d.Addr); last == nil {
			return nil
		}
	}
}

func ping(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := bkclient.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ListWorkers(ctx)
	return err
}

// Stop terminates buildkitd, undoes any mounts it left and removes its state.
func (d *Daemon) Stop() error {
	if d.cmd.Process != nil {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
	}
	unmountUnder(d.dir)
	if err := os.RemoveAll(d.dir); err != nil {
		return fmt.Errorf("remove buildkitd state %s: %w", d.dir, err)
	}
	return nil
}

// unmountUnder lazily unmounts everything mounted below dir, deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

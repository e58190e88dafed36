// Package smoke proves that a built image still starts: it unpacks the image
// into a rootfs, runs it with runc the way docker run would (the config's
// user, environment, working directory, entrypoint and command) and checks
// that it stays up, answers on its port or passes a user command, then sends
// SIGTERM to see whether it stops.
package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Defaults for Options.
const (
	DefaultRun     = 3 * time.Second
	DefaultTimeout = 30 * time.Second
	DefaultGrace   = 5 * time.Second
	// outputLines is how much of the container's output a Report keeps.
	outputLines = 20
	hostname    = "harden-smoke"
)

// ErrPrereq is matched (errors.Is) by errors saying the machine cannot run
// containers: not root, or no runc.
var ErrPrereq = errors.New("smoke check needs root and runc")

// PrereqError names the missing prerequisite.
type PrereqError struct{ Missing string }

func (e *PrereqError) Error() string        { return "smoke check unavailable: " + e.Missing }
func (e *PrereqError) Is(target error) bool { return target == ErrPrereq }

// Options choose the check. With Exec set it runs that command; else, when the
// image exposes TCP ports, it waits for one to answer; else it requires the
// process to keep running for Run.
type Options struct {
	// Exec is a command (argv) run inside the started container, as its
	// user; it must exit 0 (harden's --smoke).
	Exec []string
	// Ports overrides the image's exposed ports ("8080/tcp" or "8080").
	Ports []string
	// NoPorts skips the port probe even when the image exposes ports.
	NoPorts bool
	// HTTPPath, when set, probes ports with an HTTP GET of this path and
	// requires a status below 500 instead of a bare TCP connect.
	HTTPPath string
	// Run is how long the process must stay up; default DefaultRun.
	Run time.Duration
	// Timeout bounds the port probe and Exec; default DefaultTimeout.
	Timeout time.Duration
	// Grace is how long the process gets to exit after SIGTERM; default DefaultGrace.
	Grace time.Duration
	// Runc is the runc binary; empty searches PATH and the sbin directories.
	Runc string
	// WorkDir is where the bundle (rootfs and config) is created; default os.TempDir.
	WorkDir string
}

// Report is the outcome of one smoke check.
type Report struct {
	Passed bool `json:"passed"`
	// Check describes what was checked, e.g. "running for 3s", "tcp 8080", "exec [id -u]".
	Check  string `json:"check"`
	Reason string `json:"reason"`
	// UID and GID are the effective ids of the container's init process, read
	// from /proc; -1 when it exited before they could be read.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// StopsOnSIGTERM is nil when the process was no longer running to be
	// asked. PID 1 ignores signals it installs no handler for, so a shell-form
	// CMD (/bin/sh -c) typically does not stop.
	StopsOnSIGTERM *bool         `json:"stops_on_sigterm,omitempty"`
	StopTime       time.Duration `json:"stop_time_ns,omitempty"`
	// Output is the last lines the container (and runc, on a failed start) printed.
	Output []string `json:"output,omitempty"`
}

// CheckPrereqs reports whether smoke checks can run here, and returns runc's path.
func CheckPrereqs(runcBin string) (string, error) {
	if os.Geteuid() != 0 {
		return "", &PrereqError{Missing: "must run as root to start containers with runc"}
	}
	p, err := findRunc(runcBin)
	if err != nil {
		return "", &PrereqError{Missing: err.Error()}
	}
	return p, nil
}

// Run starts img in a fresh container, checks it and removes everything it
// created. An error means the check could not be carried out (missing
// prerequisites, unreadable image, host port already taken); an image that
// does not start or fails the check gives a Report with Passed false.
func Run(ctx context.Context, img v1.Image, opts Options) (*Report, error) {
	bin, err := CheckPrereqs(opts.Runc)
	if err != nil {
		return nil, err
	}
	opts.setDefaults()
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cfg := cf.Config
	ports, err := probePorts(cfg, opts)
	if err != nil {
		return nil, err
	}
	exposed, err := exposedPorts(cfg, opts)
	if err != nil {
		return nil, err
	}
	// The container shares the host's network: two checks of images that
	// listen on the same port (8000 is popular) must take turns.
	unlock, err := lockPorts(ctx, exposed, turnWait(opts))
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, p := range exposed {
		if tcpAnswers(p, 200*time.Millisecond) {
			return nil, fmt.Errorf("port %d already answers on this host before the container starts; the check could not tell them apart", p)
		}
	}

	work, err := os.MkdirTemp(opts.WorkDir, "harden-smoke-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	rootfs := filepath.Join(work, "rootfs")
	if err := Unpack(img, rootfs); err != nil {
		return nil, fmt.Errorf("unpack image: %w", err)
	}

	rep := &Report{UID: -1, GID: -1}
	fail := func(format string, a ...any) (*Report, error) {
		rep.Passed, rep.Reason = false, fmt.Sprintf(format, a...)
		return rep, nil
	}

	// Problems docker run reports before starting anything are image failures.
	user, err := userFromRootfs(rootfs, cfg.User)
	if err != nil {
		rep.Check = "start"
		return fail("resolve user %q: %v", cfg.User, err)
	}
	args, err := processArgs(cfg)
	if err != nil {
		rep.Check = "start"
		return fail("%v", err)
	}
	if err := prepareRootfs(rootfs, cfg.WorkingDir); err != nil {
		return nil, err
	}
	etc, err := writeEtcFiles(work)
	if err != nil {
		return nil, err
	}
	spec := runtimeSpec(specInput{
		Args: args, Env: processEnv(cfg, user, hostname), Cwd: cfg.WorkingDir,
		User: user, Hostname: hostname, EtcFiles: etc,
	})
	specJSON, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "config.json"), specJSON, 0o600); err != nil {
		return nil, err
	}

	rt := runc{bin: bin}
	id := containerID()
	logPath := filepath.Join(work, "output.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	defer func() {
		// Clean up even when ctx was cancelled: a leaked container keeps running.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		rt.kill(cctx, id, "KILL")
		rt.delete(cctx, id)
	}()
	defer func() { rep.Output = tailFile(logPath, outputLines) }()

	rep.Check = describeCheck(opts, ports)
	if err := rt.run(ctx, id, work, filepath.Join(work, "init.pid"), logFile); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// runc prints why (e.g. the entrypoint does not exist) as its last words.
		if out := tailFile(logPath, 1); len(out) > 0 {
			return fail("container did not start: %s", logMessage(out[0]))
		}
		return fail("container did not start: %v", err)
	}
	if st, err := rt.state(ctx, id); err == nil && st.Pid > 0 {
		rep.UID, rep.GID, _ = procIDs(st.Pid)
	}

	passed, reason := check(ctx, rt, id, opts, ports)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Passed, rep.Reason = passed, reason
	if rep.Passed && !rt.running(ctx, id) {
		rep.Passed, rep.Reason = false, reason+", but the process has exited since"
	}

	if rt.running(ctx, id) {
		stopped, took := stopsOnSIGTERM(ctx, rt, id, opts.Grace)
		rep.StopsOnSIGTERM, rep.StopTime = &stopped, took
	}
	return rep, nil
}

func (o *Options) setDefaults() {
	if o.Run <= 0 {
		o.Run = DefaultRun
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
}

// check runs the selected check and says why it passed or failed.
func check(ctx context.Context, rt runc, id string, opts Options, ports []int) (bool, string) {
	switch {
	case len(opts.Exec) > 0:
		// Let the entrypoint get going first, as a user typing docker exec would.
		if !stayUp(ctx, rt, id, min(opts.Run, time.Second)) {
			return false, "the process exited before the smoke command could run"
		}
		ectx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		code, out, err := rt.exec(ectx, id, opts.Exec)
		if err != nil {
			return false, fmt.Sprintf("smoke command %q: %v %s", opts.Exec, err, lastLines(out, 5))
		}
		if code != 0 {
			return false, fmt.Sprintf("smoke command %q exited %d: %s", opts.Exec, code, lastLines(out, 5))
		}
		return true, fmt.Sprintf("smoke command %q exited 0", opts.Exec)
	case len(ports) > 0:
		deadline := time.Now().Add(opts.Timeout)
		for time.Now().Before(deadline) {
			for _, p := range ports {
				if ok, what := probe(p, opts.HTTPPath); ok {
					return true, what
				}
			}
			if !rt.running(ctx, id) {
				return false, fmt.Sprintf("the process exited before port %s answered", joinPorts(ports))
			}
			if !sleep(ctx, 200*time.Millisecond) {
				return false, ctx.Err().Error()
			}
		}
		return false, fmt.Sprintf("no answer on port %s within %s", joinPorts(ports), opts.Timeout)
	default:
		start := time.Now()
		if !stayUp(ctx, rt, id, opts.Run) {
			return false, fmt.Sprintf("the process exited after %s (wanted it running for %s)", time.Since(start).Round(100*time.Millisecond), opts.Run)
		}
		return true, fmt.Sprintf("the process kept running for %s", opts.Run)
	}
}

// stayUp polls the container for d and reports whether it was running throughout.
func stayUp(ctx context.Context, rt runc, id string, d time.Duration) bool {
	end := time.Now().Add(d)
	for {
		if !rt.running(ctx, id) {
			return false
		}
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		if !sleep(ctx, min(left, 200*time.Millisecond)) {
			return false
		}
	}
}

// stopsOnSIGTERM sends SIGTERM to the container's init, as docker stop does,
// and waits up to grace for it to exit.
func stopsOnSIGTERM(ctx context.Context, rt runc, id string, grace time.Duration) (bool, time.Duration) {
	start := time.Now()
	if err := rt.kill(ctx, id, "TERM"); err != nil {
		return !rt.running(ctx, id), time.Since(start)
	}
	for time.Since(start) < grace {
		if !rt.running(ctx, id) {
			return true, time.Since(start)
		}
		if !sleep(ctx, 100*time.Millisecond) {
			break
		}
	}
	return false, time.Since(start)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tcpPorts parses port specs ("8080/tcp", "8080"), keeping TCP ones: UDP
// ports cannot be probed without knowing the protocol.
func tcpPorts(specs []string) ([]int, error) {
	var out []int
	for _, s := range specs {
		num, proto, _ := strings.Cut(s, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q: not a port number", s)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// exposedPorts are the TCP ports the container may listen on: the image's
// and any the caller names.
func exposedPorts(cfg v1.Config, opts Options) ([]int, error) {
	specs := slices.Collect(maps.Keys(cfg.ExposedPorts))
	return tcpPorts(append(specs, opts.Ports...))
}

// probePorts are the ports the check waits on: Options.Ports, else the
// image's, unless the check is a command or ports are switched off.
func probePorts(cfg v1.Config, opts Options) ([]int, error) {
	if opts.NoPorts || len(opts.Exec) > 0 {
		return nil, nil
	}
	if opts.Ports != nil {
		return tcpPorts(opts.Ports)
	}
	return tcpPorts(slices.Collect(maps.Keys(cfg.ExposedPorts)))
}

func probe(port int, httpPath string) (bool, string) {
	if httpPath == "" {
		if tcpAnswers(port, time.Second) {
			return true, fmt.Sprintf("port %d/tcp accepted a connection", port)
		}
		return false, ""
	}
	c := http.Client{Timeout: 2 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/%s", port, strings.TrimPrefix(httpPath, "/"))
	resp, err := c.Get(url)
	if err != nil {
		return false, ""
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return false, ""
	}
	return true, fmt.Sprintf("GET %s answered %s", url, resp.Status)
}

func tcpAnswers(port int, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), timeout)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func describeCheck(opts Options, ports []int) string {
	switch {
	case len(opts.Exec) > 0:
		return fmt.Sprintf("exec %q", opts.Exec)
	case len(ports) > 0 && opts.HTTPPath != "":
		return fmt.Sprintf("http GET %s on port %s", opts.HTTPPath, joinPorts(ports))
	case len(ports) > 0:
		return "tcp port " + joinPorts(ports)
	}
	return fmt.Sprintf("running for %s", opts.Run)
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// userFromRootfs resolves the config's user against the image's own
// /etc/passwd and /etc/group, read inside the rootfs.
func userFromRootfs(rootfs, spec string) (User, error) {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return User{}, err
	}
	defer root.Close()
	read := func(name string) io.Reader {
		data, err := root.ReadFile(name)
		if err != nil {
			return nil // no such file: names cannot resolve, numbers still do
		}
		return bytes.NewReader(data)
	}
	return ResolveUser(spec, read("etc/passwd"), read("etc/group"))
}

// prepareRootfs creates the working directory, as docker does when an image
// names one that does not exist.
func prepareRootfs(rootfs, workdir string) error {
	if workdir == "" {
		return nil
	}
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.MkdirAll(cleanPath(workdir), 0o755)
}

// writeEtcFiles creates the hosts, resolv.conf and hostname files that are
// bind-mounted into the container, from the host's own (the container shares
// its network), in the bundle rather than over the image's files.
func writeEtcFiles(bundle string) (map[string]string, error) {
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		hosts = []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	hosts = append(hosts, []byte("127.0.1.1\t"+hostname+"\n")...)
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		resolv = nil
	}
	files := map[string][]byte{
		"/etc/hosts":       hosts,
		"/etc/resolv.conf": resolv,
		"/etc/hostname":    []byte(hostname + "\n"),
	}
	out := map[string]string{}
	for dst, data := range files {
		src := filepath.Join(bundle, "etc-"+filepath.Base(dst))
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return nil, err
		}
		out[dst] = src
	}
	return out, nil
}

func containerID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "harden-smoke-" + hex.EncodeToString(b)
}

func tailFile(path string, n int) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return lastLineSlice(string(data), n)
}

func lastLineSlice(s string, n int) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func lastLines(s string, n int) string {
	return strings.Join(lastLineSlice(s, n), " | ")
}

// logMessage extracts msg="..." from a logrus line such as runc prints:
// time="..." level=error msg="runc run failed: ...".
func logMessage(line string) string {
	_, rest, ok := strings.Cut(line, " msg=")
	if !ok {
		return line
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return line
	}
	msg, err := strconv.Unquote(q)
	if err != nil {
		return line
	}
	return msg
}

// turnWait bounds how long a check waits for its turn on a port: other
// checks hold it for up to their run, probe and grace times, and a few may
// queue (parallel test packages, a bot verifying many files), so the wait
// is a multiple of one check's length, never less than two minutes.
func turnWait(opts Options) time.Duration {
	one := opts.Run + opts.Timeout + opts.Grace
	if opts.Run == 0 {
		one += DefaultRun
	}
	if opts.Timeout == 0 {
		one += DefaultTimeout
	}
	if opts.Grace == 0 {
		one += DefaultGrace
	}
	return max(2*time.Minute, 6*one)
}

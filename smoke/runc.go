package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// runc drives the runc binary. Containers live in runc's default state
// directory so that a leaked one shows up in `runc list` for an operator.
type runc struct{ bin string }

// findRunc returns a usable runc: the given path, else runc on PATH, else the
// sbin directories Debian installs it to (often missing from a user's PATH).
func findRunc(bin string) (string, error) {
	if bin != "" {
		return exec.LookPath(bin)
	}
	if p, err := exec.LookPath("runc"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/runc", "/usr/local/sbin/runc", "/sbin/runc"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("runc not found (install it: apt-get install runc)")
}

func (r runc) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.bin, args...)
	// A process that keeps our pipes open must not hang the caller.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// run creates and starts the container detached. The container's stdout and
// stderr, and runc's own start-up errors, go to out: a file, so that nothing
// in this process has to keep copying once runc exits.
func (r runc) run(ctx context.Context, id, bundle, pidFile string, out *os.File) error {
	cmd := r.command(ctx, "run", "--detach", "--bundle", bundle, "--pid-file", pidFile, id)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}

type runcState struct {
	Status string `json:"status"`
	Pid    int    `json:"pid"`
}

func (r runc) state(ctx context.Context, id string) (runcState, error) {
	var st runcState
	out, err := r.output(ctx, "state", id)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("runc state %s: %w", id, err)
	}
	return st, nil
}

func (r runc) running(ctx context.Context, id string) bool {
	st, err := r.state(ctx, id)
	return err == nil && st.Status == "running"
}

func (r runc) kill(ctx context.Context, id, signal string) error {
	_, err := r.output(ctx, "kill", id, signal)
	return err
}

func (r runc) delete(ctx context.Context, id string) error {
	_, err := r.output(ctx, "delete", "--force", id)
	return err
}

// exec runs args inside the running container as its user and returns the
// exit code and combined output.
func (r runc) exec(ctx context.Context, id string, args []string) (int, string, error) {
	var buf bytes.Buffer
	cmd := r.command(ctx, append([]string{"exec", id}, args...)...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return ee.ExitCode(), buf.String(), nil
	}
	if err != nil {
		return -1, buf.String(), err
	}
	return 0, buf.String(), nil
}

func (r runc) output(ctx context.Context, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := r.command(ctx, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("runc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// procIDs reads the effective uid and gid of a process from /proc: what the
// container really runs as, which may differ from what the config asked for.
func procIDs(pid int) (uid, gid int, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1, err
	}
	return parseStatusIDs(string(data))
}

// parseStatusIDs reads the effective ids from "Uid:\treal\teffective\tsaved\tfs".
func parseStatusIDs(status string) (uid, gid int, err error) {
	uid, gid = -1, -1
	for _, line := range strings.Split(status, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "Uid" && key != "Gid") {
			continue
		}
		f := strings.Fields(val)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		if key == "Uid" {
			uid = n
		} else {
			gid = n
		}
	}
	if uid < 0 || gid < 0 {
		return uid, gid, errors.New("no Uid/Gid lines in process status")
	}
	return uid, gid, nil
}

//go:build unix

package smoke

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockPorts takes a host-wide lock per port (flock on a file under the temp
// directory), in ascending order so that two checks cannot deadlock, waiting
// up to timeout for checks in other processes to finish.
func lockPorts(ctx context.Context, ports []int, timeout time.Duration) (unlock func(), err error) {
	dir := filepath.Join(os.TempDir(), "harden-smoke-ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var held []*os.File
	unlock = func() {
		for _, f := range held {
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}
	}
	deadline := time.Now().Add(timeout)
	for _, p := range ports {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d.lock", p)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			unlock()
			return nil, err
		}
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err == nil {
				break
			}
			if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
				f.Close()
				unlock()
				if err == syscall.EWOULDBLOCK {
					return nil, fmt.Errorf("port %d: another smoke check has held it for over %s", p, timeout)
				}
				return nil, fmt.Errorf("lock port %d: %w", p, err)
			}
			if !sleep(ctx, 100*time.Millisecond) {
				f.Close()
				unlock()
				return nil, ctx.Err()
			}
		}
		held = append(held, f)
	}
	return unlock, nil
}

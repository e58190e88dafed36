//go:build unix

package detect

import "syscall"

// cpuTime is the process's user plus system CPU time in nanoseconds. The
// benchmark reports it beside wall time, which on a busy machine measures
// the queue for the CPU more than detection.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

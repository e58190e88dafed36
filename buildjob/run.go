package buildjob

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
)

// Program is the companion's name, and ProgramEnv the variable that names
// its path explicitly (packagers, tests, or a copy outside PATH).
const (
	Program    = "harden-build"
	ProgramEnv = "HARDEN_BUILD"
)

// Find locates harden-build: $HARDEN_BUILD, else beside the running
// executable (where go install and make install put both), else on PATH.
func Find() (string, error) {
	if p := os.Getenv(ProgramEnv); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ProgramEnv, p, err)
		}
		return p, nil
	}
	name := Program
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	exe, exeErr := os.Executable()
	if exeErr == nil {
		sibling := filepath.Join(filepath.Dir(exe), name)
		if checkExecutable(sibling) == nil {
			return sibling, nil
		}
	}
	if p, err := exec.LookPath(Program); err == nil {
		return p, nil
	}
	where := "on PATH"
	if exeErr == nil {
		where = "beside " + exe + " or on PATH"
	}
	return "", fmt.Errorf("building images needs %s, harden's BuildKit companion, and there is none %s: "+
		"install both with `go install github.com/harden-dev/harden/cmd/...@latest` (or `make install`), "+
		"or set %s to its path", Program, where, ProgramEnv)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a folder")
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0:
		return errors.New("is not executable")
	}
	return nil
}

// Run hands job to harden-build and waits for it. Its standard output goes
// to stdout and its standard error (BuildKit's progress, failures) to
// stderr; the returned code is its exit code. An error means harden-build
// could not be found or started, or died from a signal.
//
// Interrupts reach harden-build too: from a terminal it gets Ctrl-C itself,
// as part of the foreground process group, and a signal sent to harden
// alone is passed on. Either way harden waits for it to cancel its builds
// and exit, so that no build outlives the command that started it.
func Run(job Job, stdout, stderr io.Writer) (int, error) {
	path, err := Find()
	if err != nil {
		return ExitError, err
	}
	var in bytes.Buffer
	if err := Encode(&in, job); err != nil {
		return ExitError, err
	}
	cmd := exec.Command(path)
	cmd.Stdin = &in
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return ExitError, fmt.Errorf("starting %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case err == nil:
				return ExitOK, nil
			case errors.As(err, &exit) && exit.ExitCode() >= 0:
				return exit.ExitCode(), nil
			}
			return ExitError, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// Package cmd holds harden's cobra commands. Each command has an options
// struct, a constructor that binds flags, and a run function that takes the
// options, so tests drive commands without a process (the GitHub CLI's
// layout). Commands stay thin: the work happens in the packages they call.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// Streams are a command's standard input and outputs.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY is set when Out is a terminal (progress bars, colour).
	OutTTY bool
}

// System returns the process's own streams.
func System() *Streams {
	return &Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, OutTTY: term.IsTerminal(int(os.Stdout.Fd()))}
}

// Exit codes shared by all commands.
const (
	ExitOK      = 0
	ExitFound   = 1 // --check found changes; check found findings at the gate
	ExitFailure = 2 // usage or input error
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error // nil when the command already printed what went wrong
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode returns an error that makes Main exit with code without printing
// anything more.
func exitCode(code int) error {
	if code == ExitOK {
		return nil
	}
	return &exitError{code: code}
}

// usageError is a bad flag or argument: exit 2 with the message.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitFailure, err: fmt.Errorf(format, args...)}
}

func codeOf(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitFailure
}

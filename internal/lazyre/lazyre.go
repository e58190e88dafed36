// Package lazyre declares regular expressions that are compiled on first use.
//
// harden is started once per file by bots and editors, so its start-up time
// is part of every run. A package-level regexp.MustCompile runs at process
// start whether or not the run needs the pattern; with dozens of patterns
// across detection, rules and templates that was several milliseconds and
// hundreds of kilobytes of heap before main. New defers the cost to the first
// match and pays it once.
package lazyre

import (
	"regexp"
	"sync"
)

var (
	mu       sync.Mutex
	declared []string
)

// New returns a function that compiles expr on its first call and returns
// the same *regexp.Regexp on every call. Like regexp.MustCompile it panics
// if expr is invalid, so every declared pattern is checked by a test through
// Declared rather than on a user's machine.
func New(expr string) func() *regexp.Regexp {
	mu.Lock()
	declared = append(declared, expr)
	mu.Unlock()
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// Declared returns every expression passed to New so far in this process.
func Declared() []string {
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), declared...)
}

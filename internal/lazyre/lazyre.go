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
	declared []*pattern
)

// pattern is one declaration: a single allocation holds the expression,
// its once-guard and the compiled result, since harden declares about a
// hundred of these at start-up.
type pattern struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

func (p *pattern) compiled() *regexp.Regexp {
	p.once.Do(func() { p.re = regexp.MustCompile(p.expr) })
	return p.re
}

// New returns a function that compiles expr on its first call and returns
// the same *regexp.Regexp on every call. Like regexp.MustCompile it panics
// if expr is invalid, so every declared pattern is checked by a test through
// Declared rather than on a user's machine.
func New(expr string) func() *regexp.Regexp {
	p := &pattern{expr: expr}
	mu.Lock()
	declared = append(declared, p)
	mu.Unlock()
	return p.compiled
}

// Declared returns every expression passed to New so far in this process.
func Declared() []string {
	mu.Lock()
	defer mu.Unlock()
	exprs := make([]string, len(declared))
	for i, p := range declared {
		exprs[i] = p.expr
	}
	return exprs
}

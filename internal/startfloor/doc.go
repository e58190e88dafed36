// Package startfloor holds the reference programs that BenchmarkProcess
// (in cmd) measures harden's start-up against, so that a claim about how
// fast a harden process can be is checked on the machine at hand:
//
//   - goruntime is a Go program that prints one line: the cost of starting
//     any Go process here;
//   - parseonly links what harden must link (BuildKit's Dockerfile parser,
//     instructions and linter, cobra, go-diff and mvdan.cc/sh) and parses
//     one Dockerfile: the least a harden fix process can cost.
package startfloor

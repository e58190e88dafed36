// Package unidiff renders unified diffs that patch(1) and git apply accept.
// The line matching comes from github.com/sergi/go-diff in line mode; this
// package only groups the result into hunks with context.
package unidiff

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Context is the number of unchanged lines shown around each change.
const Context = 3

type op int

const (
	equal op = iota
	del
	ins
)

type line struct {
	op   op
	text string // with its line terminator, if any
}

// Diff returns a unified diff from a to b with the given file names in the
// --- and +++ headers, or "" when the texts are equal.
func Diff(aName, bName string, a, b []byte) string {
	if string(a) == string(b) {
		return ""
	}
	lines := diffLines(string(a), string(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(lines) {
		writeHunk(&out, lines, h)
	}
	return out.String()
}

func diffLines(a, b string) []line {
	dmp := diffmatchpatch.New()
	ca, cb, table := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), table)
	var out []line
	for _, d := range diffs {
		kind := equal
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = del
		case diffmatchpatch.DiffInsert:
			kind = ins
		}
		for _, l := range splitLines(d.Text) {
			out = append(out, line{op: kind, text: l})
		}
	}
	return out
}

// splitLines splits after each '\n', keeping terminators ("\r\n" included).
func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

type hunk struct{ from, to int } // indexes into the line list, to exclusive

// hunks groups changed lines with up to Context lines around them, merging
// groups whose context would touch.
func hunks(lines []line) []hunk {
	var out []hunk
	for i := 0; i < len(lines); i++ {
		if lines[i].op == equal {
			continue
		}
		from := max(0, i-Context)
		end := i
		for j := i; j < len(lines); j++ {
			if lines[j].op != equal {
				end = j
				continue
			}
			if j-end > 2*Context {
				break
			}
		}
		to := min(len(lines), end+1+Context)
		if n := len(out); n > 0 && from <= out[n-1].to {
			out[n-1].to = to
		} else {
			out = append(out, hunk{from, to})
		}
		i = end
	}
	return out
}

func writeHunk(out *strings.Builder, lines []line, h hunk) {
	aStart, bStart := 1, 1
	for _, l := range lines[:h.from] {
		if l.op != ins {
			aStart++
		}
		if l.op != del {
			bStart++
		}
	}
	aLen, bLen := 0, 0
	for _, l := range lines[h.from:h.to] {
		if l.op != ins {
			aLen++
		}
		if l.op != del {
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", rangeOf(aStart, aLen), rangeOf(bStart, bLen))
	for _, l := range lines[h.from:h.to] {
		prefix := " "
		switch l.op {
		case del:
			prefix = "-"
		case ins:
			prefix = "+"
		}
		out.WriteString(prefix)
		out.WriteString(l.text)
		if !strings.HasSuffix(l.text, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// rangeOf formats a hunk range; an empty range names the line before it.
func rangeOf(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

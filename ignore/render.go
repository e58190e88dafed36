package ignore

import (
	"bytes"
	"slices"
	"strings"
)

// Marker starts every block harden appends, so that people (and harden's
// own tests) can tell its lines from theirs.
const Marker = "# Added by harden"

// render appends the kept entries and re-inclusions to the existing text
// under one marked comment, in the file's own line endings. The existing
// bytes are kept exactly; with nothing to add the file is unchanged.
func (g *generator) render() []byte {
	var present [groupNeeded + 1]bool
	size := 0
	for _, c := range g.entries {
		if !c.dropped {
			present[c.group] = true
			size += len(c.pattern) + 2
		}
	}
	for _, n := range g.negs {
		present[groupNeeded] = true
		size += len(n.pattern) + 3
	}
	if !slices.Contains(present[:], true) {
		return g.file.Data
	}
	old := g.file.Data
	eol := lineEnding(old)
	var b bytes.Buffer
	b.Grow(len(old) + size + 1024) // the fixed text and titles fit in the slack
	b.Write(old)
	if len(old) > 0 {
		if !bytes.HasSuffix(old, []byte("\n")) {
			b.WriteString(eol)
		}
		if !endsWithBlankLine(old) {
			b.WriteString(eol)
		}
	}
	b.WriteString(Marker + ": keep secrets, host dependencies and build leftovers out of the build context.")
	b.WriteString(eol)
	b.WriteString("# harden never hides a path the Dockerfile copies; see `harden ignore` for the reasons.")
	b.WriteString(eol)
	line := func(prefix, p string) {
		b.WriteString(prefix)
		b.WriteString(p)
		b.WriteString(eol)
	}
	for gr := range present {
		if !present[gr] {
			continue
		}
		b.WriteString(eol)
		line("# ", groupTitles[group(gr)])
		if group(gr) == groupNeeded {
			for _, n := range g.negs {
				line("!", n.pattern)
			}
			continue
		}
		for _, c := range g.entries {
			if !c.dropped && c.group == group(gr) {
				line("", c.pattern)
			}
		}
	}
	return b.Bytes()
}

// lineEnding returns the file's line terminator: CRLF when most lines end
// with it, else LF.
func lineEnding(data []byte) string {
	lf := bytes.Count(data, []byte("\n"))
	crlf := bytes.Count(data, []byte("\r\n"))
	if crlf > 0 && crlf*2 >= lf {
		return "\r\n"
	}
	return "\n"
}

// endsWithBlankLine reports whether the text's last line is empty (or
// blank), so that the appended block is separated by exactly one.
func endsWithBlankLine(data []byte) bool {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return len(lines) == 0 || strings.TrimSpace(lines[len(lines)-1]) == ""
}

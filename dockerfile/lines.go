package dockerfile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// lineTable maps between 1-based line numbers and byte offsets. Lines end at
// '\n' exactly as BuildKit's scanner splits them; a '\r' before it belongs to
// the terminator.
type lineTable struct {
	src    []byte
	starts []int // starts[i] is the offset of line i+1
}

func newLineTable(src []byte) *lineTable {
	t := &lineTable{src: src, starts: make([]int, 1, bytes.Count(src, []byte{'\n'})+1)}
	if bytes.HasPrefix(src, bom) {
		// The mark is not part of line 1's text; an edit at the start of the
		// file must land after it.
		t.starts[0] = len(bom)
	}
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			t.starts = append(t.starts, i+1)
		}
	}
	return t
}

func (t *lineTable) count() int { return len(t.starts) }

func (t *lineTable) start(n int) int {
	if n < 1 {
		return t.starts[0]
	}
	if n > len(t.starts) {
		return len(t.src)
	}
	return t.starts[n-1]
}

// end is the offset just past line n including its terminator.
func (t *lineTable) end(n int) int {
	if n >= len(t.starts) {
		return len(t.src)
	}
	return t.starts[n]
}

// contentEnd is the offset just past line n's text, before "\n" or "\r\n".
func (t *lineTable) contentEnd(n int) int {
	e := t.end(n)
	s := t.start(n)
	if e > s && t.src[e-1] == '\n' {
		e--
		if e > s && t.src[e-1] == '\r' {
			e--
		}
	}
	return e
}

func (t *lineTable) text(n int) []byte { return t.src[t.start(n):t.contentEnd(n)] }

func (t *lineTable) lineOf(off int) int {
	return max(1, sort.Search(len(t.starts), func(i int) bool { return t.starts[i] > off }))
}

// isCommentLine and isBlank use unicode.IsSpace because BuildKit does: a
// line indented with a no-break space is still a comment to it.
func isCommentLine(b []byte) bool {
	b = bytes.TrimLeftFunc(b, unicode.IsSpace)
	return len(b) > 0 && b[0] == '#'
}

func isBlank(b []byte) bool { return len(bytes.TrimLeftFunc(b, unicode.IsSpace)) == 0 }

// continues reports whether a line ends with the escape character used as a
// line continuation, mirroring BuildKit's regular expression: the escape is
// the last non-blank character and is not itself escaped.
func continues(line []byte, esc byte) bool {
	t := bytes.TrimRight(line, " \t")
	n := len(t)
	if n == 0 || t[n-1] != esc {
		return false
	}
	return n == 1 && len(line) > 0 && line[0] == esc || n >= 2 && t[n-2] != esc
}

// locate computes an instruction's byte span, its logical (joined) text with
// a map back to the original bytes, and its heredoc bodies. The walk repeats
// BuildKit's rules for joining lines; the result is checked against the
// parser's own line numbers and text so a disagreement is caught here rather
// than turning into a wrong edit.
func (f *File) locate(ins *Instruction) error {
	t := f.lines
	esc := f.Escape
	ins.Start = t.start(ins.Line)
	ins.End = t.end(ins.EndLine)

	var text strings.Builder
	var offs []int
	appendRange := func(from, to int) {
		text.Write(f.Src[from:to])
		for o := from; o < to; o++ {
			offs = append(offs, o)
		}
	}

	n := ins.Line
	first := t.text(n)
	lead := len(first) - len(bytes.TrimLeftFunc(first, unicode.IsSpace))
	ins.KeywordStart = t.start(n) + lead
	for {
		start, raw := t.start(n), t.text(n)
		from := start
		if n == ins.Line {
			from += lead
		} else if isCommentLine(raw) || isBlank(raw) {
			if n >= ins.EndLine {
				break
			}
			n++
			continue
		}
		if continues(raw, esc) {
			trimmed := bytes.TrimRight(raw, " \t")
			appendRange(from, start+len(trimmed)-1)
			if n >= ins.EndLine {
				break
			}
			n++
			continue
		}
		appendRange(from, start+len(raw))
		break
	}
	ins.logicalEndLine = n
	offs = append(offs, t.contentEnd(n))
	ins.logical = &Logical{Text: text.String(), offs: offs}

	// Heredoc bodies follow the instruction line, each up to its terminator.
	body := n + 1
	for _, hd := range ins.Node.Heredocs {
		h := Heredoc{Name: hd.Name, Chomp: hd.Chomp, Expand: hd.Expand, BodyStart: t.start(body)}
		for ; body <= t.count(); body++ {
			line := bytes.TrimRight(t.src[t.start(body):t.end(body)], "\r\n")
			if hd.Chomp {
				line = bytes.TrimLeft(line, "\t")
			}
			if string(line) == hd.Name {
				break
			}
		}
		h.BodyEnd = t.start(body)
		h.TerminatorLine = body
		ins.Heredocs = append(ins.Heredocs, h)
		body++
	}
	last := n
	if len(ins.Heredocs) > 0 {
		last = ins.Heredocs[len(ins.Heredocs)-1].TerminatorLine
	}
	if last != ins.EndLine || ins.logical.Text != ins.Node.Original {
		return &Error{File: f.Name, Line: ins.Line, Msg: fmt.Sprintf(
			"harden could not map this instruction to its source lines (parser says lines %d-%d, harden found %d); please report this file",
			ins.Line, ins.EndLine, last)}
	}
	return nil
}

// Logical is an instruction's text the way BuildKit sees it, continuation
// lines joined and comment lines dropped, with the original offset of every
// byte. Shell commands are parsed from it; edits found in it map back to the
// original text through Orig.
type Logical struct {
	Text string
	offs []int // offs[i] is the original offset of Text[i]; one extra entry for the end
}

// Orig maps a logical offset to an original one. An offset at the end of a
// word maps to just past the word's last byte, not to the start of the next
// physical line, so insertions stay on the word's line.
func (l *Logical) Orig(i int) int {
	if i <= 0 {
		return l.offs[0]
	}
	if i >= len(l.Text) {
		return l.offs[len(l.Text)-1] + 1
	}
	return l.offs[i]
}

// OrigEnd maps the end of a logical range (exclusive) to the original offset
// just past its last byte.
func (l *Logical) OrigEnd(i int) int {
	if i <= 0 {
		return l.offs[0]
	}
	return l.offs[i-1] + 1
}

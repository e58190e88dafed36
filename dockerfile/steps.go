package dockerfile

import (
	"slices"
	"sort"
	"strings"
)

// Step is one simple command of a script with the shell text around it,
// the unit in which an edited RUN is compared with the RUN it came from: a
// command no edit touched must still be there, with the same words and the
// same operators on each side.
type Step struct {
	// Start and End are the command's bytes in the file.
	Start, End int
	// Words are the command's assignments and words as written.
	Words []string
	// Before and After are the shell text between the command and its
	// neighbours (the previous and next command boundary, or the script's
	// ends), with blanks and escaped newlines left out: "&&", ";", "|",
	// "; then", ... BeforeStart and AfterEnd are where that text starts and
	// ends in the file.
	Before, After         string
	BeforeStart, AfterEnd int
}

// Steps lists the script's simple commands in order; nil for exec form.
func (s *Script) Steps() []Step {
	if s.AST == nil || len(s.Commands) == 0 {
		return nil
	}
	n := len(s.Commands)
	starts, ends := make([]int, n), make([]int, n)
	for i, c := range s.Commands {
		starts[i], ends[i] = int(c.Call.Pos().Offset()), int(c.Call.End().Offset())
	}
	sortedStarts, sortedEnds := slices.Sorted(slices.Values(starts)), slices.Sorted(slices.Values(ends))
	text := s.text.Text
	out := make([]Step, n)
	for i, c := range s.Commands {
		start, end := starts[i], ends[i]
		// The nearest command boundary on each side: the end of a command
		// before this one, or the start of one that encloses it (a command
		// substitution in a word); likewise after it. Commands nest or
		// follow each other, so the nearest boundary is one of these.
		prev, next := 0, len(text)
		if k := sort.SearchInts(sortedEnds, start+1); k > 0 {
			prev = sortedEnds[k-1] // the last end <= start
		}
		if k := sort.SearchInts(sortedStarts, start); k > 0 {
			prev = max(prev, sortedStarts[k-1]) // the last start < start
		}
		if k := sort.SearchInts(sortedStarts, end); k < n {
			next = sortedStarts[k] // the first start >= end
		}
		if k := sort.SearchInts(sortedEnds, end+1); k < n {
			next = min(next, sortedEnds[k]) // the first end > end
		}
		st := Step{
			Start:       s.text.Orig(start),
			End:         s.text.OrigEnd(end),
			Before:      squeezeShell(text[prev:start]),
			After:       squeezeShell(text[end:next]),
			BeforeStart: s.text.Orig(prev),
			AfterEnd:    s.text.OrigEnd(next),
		}
		for _, a := range c.Call.Assigns {
			st.Words = append(st.Words, text[a.Pos().Offset():a.End().Offset()])
		}
		for _, w := range c.Call.Args {
			st.Words = append(st.Words, text[w.Pos().Offset():w.End().Offset()])
		}
		out[i] = st
	}
	return out
}

// squeezeShell drops blanks and escaped newlines, which do not change what
// the shell does between two commands, and folds runs of newlines.
func squeezeShell(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == ' ' || ch == '\t' || ch == '\r':
		case ch == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
		case ch == '\n':
			if b.Len() > 0 && strings.HasSuffix(b.String(), "\n") {
				continue
			}
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

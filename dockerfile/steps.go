package dockerfile

import "strings"

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
	type span struct{ start, end int }
	spans := make([]span, len(s.Commands))
	for i, c := range s.Commands {
		spans[i] = span{int(c.Call.Pos().Offset()), int(c.Call.End().Offset())}
	}
	text := s.text.Text
	out := make([]Step, len(s.Commands))
	for i, c := range s.Commands {
		sp := spans[i]
		// The nearest command boundary on each side: the end of a command
		// before this one, or the start of one that encloses it (a command
		// substitution in a word).
		prev, next := 0, len(text)
		for j, o := range spans {
			if j == i {
				continue
			}
			if o.end <= sp.start {
				prev = max(prev, o.end)
			} else if o.start < sp.start {
				prev = max(prev, o.start)
			}
			if o.start >= sp.end {
				next = min(next, o.start)
			} else if o.end > sp.end {
				next = min(next, o.end)
			}
		}
		st := Step{
			Start:       s.text.Orig(sp.start),
			End:         s.text.OrigEnd(sp.end),
			Before:      squeezeShell(text[prev:sp.start]),
			After:       squeezeShell(text[sp.end:next]),
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

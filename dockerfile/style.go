package dockerfile

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Style is how a file writes Dockerfile syntax. New or rewritten text is
// rendered in it so that a fix reads as if the file's author wrote it.
type Style struct {
	// Escape is the escape character ('\\' or '`').
	Escape byte
	// EOL is the line terminator: "\n" or "\r\n".
	EOL string
	// Indent is the indentation of continuation lines.
	Indent string
	// Lower is set when the file writes instruction keywords in lower case.
	Lower bool
	// LeadingOps is set when continued shell chains put "&&" at the start of
	// the next line rather than at the end of the previous one.
	LeadingOps bool
	// JSONSpace is set when exec-form arrays put a space after commas.
	JSONSpace bool
}

// DefaultStyle is used for new files.
var DefaultStyle = Style{Escape: '\\', EOL: "\n", Indent: "    ", JSONSpace: true}

func detectStyle(f *File) Style {
	st := DefaultStyle
	st.Escape = f.Escape
	crlf := bytes.Count(f.Src, []byte("\r\n"))
	if lf := bytes.Count(f.Src, []byte("\n")); crlf > 0 && crlf*2 >= lf {
		st.EOL = "\r\n"
	}
	lower, upper := 0, 0
	indentSeen := false
	jsonSpace, jsonTight := 0, 0
	leading, trailing := 0, 0
	for _, ins := range f.Instructions {
		kw := ins.RawKeyword()
		switch kw {
		case strings.ToLower(kw):
			lower++
		case strings.ToUpper(kw):
			upper++
		}
		if ins.IsJSON() && len(ins.Args()) > 1 {
			if strings.Contains(ins.logical.Text, `", "`) {
				jsonSpace++
			} else if strings.Contains(ins.logical.Text, `","`) {
				jsonTight++
			}
		}
		for n := ins.Line + 1; n <= ins.logicalEndLine; n++ {
			line := f.lines.text(n)
			if isBlank(line) || isCommentLine(line) {
				continue
			}
			body := bytes.TrimLeft(line, " \t")
			if !indentSeen {
				st.Indent = string(line[:len(line)-len(body)])
				indentSeen = true
			}
			if bytes.HasPrefix(body, []byte("&&")) || bytes.HasPrefix(body, []byte("||")) {
				leading++
			}
		}
		for n := ins.Line; n < ins.logicalEndLine; n++ {
			t := bytes.TrimRight(f.lines.text(n), " \t")
			if continues(t, f.Escape) && bytes.HasSuffix(bytes.TrimRight(t[:len(t)-1], " \t"), []byte("&&")) {
				trailing++
			}
		}
	}
	st.Lower = lower > upper
	st.LeadingOps = leading > trailing
	st.JSONSpace = jsonSpace >= jsonTight
	return st
}

// Keyword renders an instruction keyword in the file's casing.
func (s Style) Keyword(kw string) string {
	if s.Lower {
		return strings.ToLower(kw)
	}
	return strings.ToUpper(kw)
}

// JSONArray renders an exec-form argument list, e.g. ["python", "app.py"].
// HTML characters are not escaped: BuildKit reads plain JSON and users read
// the file.
func (s Style) JSONArray(args []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
			if s.JSONSpace {
				b.WriteByte(' ')
			}
		}
		b.WriteString(jsonString(a))
	}
	b.WriteByte(']')
	return b.String()
}

func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// Continuation is what ends a line that continues onto the next one,
// including the next line's indentation: " \\\n    ".
func (s Style) Continuation() string {
	return " " + string(s.Escape) + s.EOL + s.Indent
}

// Chain joins shell commands with "&&", one per line when there is more
// than one, placing the operator where the file places it.
func (s Style) Chain(cmds []string) string {
	if len(cmds) <= 1 {
		return strings.Join(cmds, "")
	}
	var b strings.Builder
	for i, c := range cmds {
		if i > 0 {
			if s.LeadingOps {
				b.WriteString(s.Continuation() + "&& ")
			} else {
				b.WriteString(" &&" + s.Continuation())
			}
		}
		b.WriteString(c)
	}
	return b.String()
}

// Instruction renders a whole instruction line: keyword plus arguments.
func (s Style) Instruction(kw, args string) string {
	if args == "" {
		return s.Keyword(kw)
	}
	return s.Keyword(kw) + " " + args
}

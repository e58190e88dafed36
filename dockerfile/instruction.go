package dockerfile

import (
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Instruction is one Dockerfile instruction with its place in the source.
type Instruction struct {
	// Node is BuildKit's parse-tree node.
	Node *parser.Node
	// Command is BuildKit's typed form (*instructions.RunCommand, ...); for
	// FROM it is *instructions.Stage.
	Command any
	// Keyword is the instruction name in lower case ("run", "from").
	Keyword string
	// Index is the position among all instructions of the file.
	Index int
	// Stage is the index of the stage holding the instruction, -1 for the
	// global ARGs before the first FROM.
	Stage int
	// Line and EndLine are 1-based and inclusive; EndLine covers heredoc
	// bodies and comment lines inside continuations.
	Line, EndLine int
	// Start and End are the byte span: from the start of the first line
	// (including indentation) to the end of the last line including its line
	// terminator. Deleting [Start, End) removes the instruction cleanly.
	Start, End int
	// KeywordStart is the offset of the instruction keyword.
	KeywordStart int
	// Heredocs are the here-document bodies attached to the instruction.
	Heredocs []Heredoc

	logical        *Logical
	logicalEndLine int
	file           *File

	script     *Script
	scriptErr  error
	scriptDone bool
}

// Heredoc is one here-document: its body is Src[BodyStart:BodyEnd], and the
// terminator line follows it.
type Heredoc struct {
	Name           string
	Chomp          bool // <<- strips leading tabs
	Expand         bool // unquoted word: variables are expanded
	BodyStart      int
	BodyEnd        int
	TerminatorLine int
}

// File returns the file the instruction belongs to.
func (ins *Instruction) File() *File { return ins.file }

// Text is the instruction's original bytes, without the final line terminator.
func (ins *Instruction) Text() string {
	return string(ins.file.Src[ins.KeywordStart:ins.ContentEnd()])
}

// ContentEnd is the offset just past the instruction's last byte, before the
// terminator of its last line.
func (ins *Instruction) ContentEnd() int { return ins.file.lines.contentEnd(ins.EndLine) }

// LineEnd is the offset just past the instruction line proper (its last
// continuation line), before any heredoc body.
func (ins *Instruction) LineEnd() int { return ins.file.lines.contentEnd(ins.logicalEndLine) }

// LogicalEndLine is the last physical line of the instruction line proper,
// before any heredoc body.
func (ins *Instruction) LogicalEndLine() int { return ins.logicalEndLine }

// Logical returns the instruction as BuildKit joined it, with offsets back
// into the original text.
func (ins *Instruction) Logical() *Logical { return ins.logical }

// RawKeyword is the keyword as written, e.g. "RUN" or "run".
func (ins *Instruction) RawKeyword() string {
	s := ins.file.Src[ins.KeywordStart:]
	return string(s[:len(ins.Node.Value)])
}

// Flags are the instruction's --flags as written (e.g. "--from=build").
func (ins *Instruction) Flags() []string { return ins.Node.Flags }

// Flag returns the value of --name=value, or ok=false.
func (ins *Instruction) Flag(name string) (string, bool) {
	prefix := "--" + name
	for _, fl := range ins.Node.Flags {
		if fl == prefix {
			return "", true
		}
		if v, ok := strings.CutPrefix(fl, prefix+"="); ok {
			return v, true
		}
	}
	return "", false
}

// IsJSON reports whether the instruction uses the exec (JSON array) form.
func (ins *Instruction) IsJSON() bool { return ins.Node.Attributes["json"] }

// Args are the parsed arguments: for shell-form RUN/CMD/ENTRYPOINT a single
// string holding the command; for exec form one string per element.
func (ins *Instruction) Args() []string {
	var out []string
	for n := ins.Node.Next; n != nil; n = n.Next {
		out = append(out, n.Value)
	}
	return out
}

// ArgsStart is the logical offset where the instruction's arguments begin,
// after the keyword and any --flags. For a shell-form RUN this is the start
// of the shell command.
func (ins *Instruction) ArgsStart() int {
	text := strings.TrimRight(ins.logical.Text, " \t\r\n\v\f")
	n := ins.Node.Next
	if n == nil || ins.IsJSON() || len(ins.Args()) != 1 {
		return ins.argsStartByWords(text)
	}
	// BuildKit keeps a single argument (a shell command) as the suffix of
	// the joined line, so its start is exact.
	if args := n.Value; strings.HasSuffix(text, args) {
		return len(text) - len(args)
	}
	return ins.argsStartByWords(text)
}

// argsStartByWords skips the keyword and the leading --flags word by word.
func (ins *Instruction) argsStartByWords(text string) int {
	i := len(ins.Node.Value)
	skipSpace := func() {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
	}
	skipSpace()
	for range ins.Node.Flags {
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		skipSpace()
	}
	return i
}

// Stage is one FROM section of the file.
type Stage struct {
	Index int
	// Name is the AS name, lower-cased by BuildKit; empty when unnamed.
	Name string
	// BaseName is the FROM image or stage reference as written (before ARG
	// expansion).
	BaseName string
	Platform string
	// From is the stage's FROM instruction.
	From *Instruction
	// Instructions of the stage, FROM first.
	Instructions []*Instruction

	file *File
}

// Ref is how other instructions refer to the stage: its name, or its index.
func (s *Stage) Ref() string {
	if s.Name != "" {
		return s.Name
	}
	return strconv.Itoa(s.Index)
}

// Parent returns the earlier stage this one builds FROM, or nil when it
// starts from an image.
func (s *Stage) Parent() *Stage {
	for _, prev := range s.file.Stages[:s.Index] {
		if prev.Name != "" && strings.EqualFold(prev.Name, s.BaseName) {
			return prev
		}
	}
	return nil
}

// Image returns the stage's base image with global ARG defaults expanded,
// and whether the stage starts from an image at all (not scratch, not an
// earlier stage). When an ARG has no default, expanded is false and the raw
// reference is returned.
func (s *Stage) Image() (ref string, expanded bool, isImage bool) {
	if s.Parent() != nil || strings.EqualFold(s.BaseName, "scratch") {
		return s.BaseName, true, false
	}
	ref, expanded = s.file.ExpandGlobalArgs(s.BaseName)
	return ref, expanded, true
}

// Commands returns the typed commands of the stage after FROM.
func (s *Stage) Commands() []any {
	out := make([]any, 0, len(s.Instructions)-1)
	for _, ins := range s.Instructions[1:] {
		out = append(out, ins.Command)
	}
	return out
}

// ExpandGlobalArgs replaces $NAME and ${NAME} (with BuildKit's :- and :+
// forms) by global ARG defaults. ok is false when a variable has no default.
func (f *File) ExpandGlobalArgs(s string) (string, bool) {
	return Expand(s, f.GlobalArgDefault)
}

// Expand replaces $NAME and ${NAME} (with BuildKit's :- and :+ forms) by
// the values lookup gives. ok is false when a variable has no value.
func Expand(s string, lookup func(name string) (string, bool)) (string, bool) {
	if !strings.Contains(s, "$") {
		return s, true
	}
	ok := true
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		var name, op, word string
		j := i + 1
		if s[j] == '{' {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), false
			}
			inner := s[j+1 : j+end]
			name = inner
			for _, o := range []string{":-", ":+", "-", "+"} {
				if k := strings.Index(inner, o); k > 0 {
					name, op, word = inner[:k], o, inner[k+len(o):]
					break
				}
			}
			i = j + end
		} else {
			k := j
			for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
				k++
			}
			name = s[j:k]
			i = k - 1
		}
		val, set := lookup(name)
		switch op {
		case ":-", "-":
			if !set || val == "" && op == ":-" {
				val, set = word, true
			}
		case ":+", "+":
			if set && (val != "" || op == "+") {
				val = word
			} else {
				val = ""
			}
			set = true
		}
		if !set {
			ok = false
		}
		b.WriteString(val)
	}
	return b.String(), ok
}

// TypedRun returns the RUN command when ins is one.
func (ins *Instruction) TypedRun() (*instructions.RunCommand, bool) {
	r, ok := ins.Command.(*instructions.RunCommand)
	return r, ok
}

// Package dockerfile is harden's model of a Dockerfile: BuildKit's own parse
// tree plus the exact byte span of every instruction in the original text, so
// that rules can edit a file without disturbing anything they did not touch.
//
// BuildKit's parser reports line numbers only and drops comments from joined
// lines; this package adds a line table, re-derives each instruction's
// physical extent (continuations, comment lines inside them, heredoc bodies)
// and checks that extent against the parser's own line numbers.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// MaxSize is the largest Dockerfile harden accepts. Real Dockerfiles are a
// few kilobytes; anything this large is almost certainly not one, and
// refusing it keeps one bad path from stalling a bot run over many repos.
const MaxSize = 10 << 20

var bom = []byte{0xEF, 0xBB, 0xBF}

// File is a parsed Dockerfile with positions.
type File struct {
	// Name is used in error messages and findings.
	Name string
	// Src is the original text, byte for byte.
	Src []byte
	// BOM reports whether Src starts with a UTF-8 byte-order mark.
	BOM bool
	// Escape is the escape and line-continuation character: '\\' or '`'.
	Escape byte
	// Directives are the parser directives at the top (syntax, escape, check).
	Directives []Directive
	// Instructions in file order.
	Instructions []*Instruction
	// GlobalArgs are the ARG instructions before the first FROM.
	GlobalArgs []*Instruction
	// Stages in file order; Stages[i].Index == i.
	Stages []*Stage
	// Style is how the file writes Dockerfile syntax, for rendering new text.
	Style Style
	// Warnings are BuildKit's parser warnings and, when requested, its
	// linter's findings.
	Warnings []Warning

	lines    *lineTable
	comments *[]string
}

// Directive is a parser directive such as "# escape=`".
type Directive struct {
	Name, Value string
	Line        int
}

// Warning is a diagnostic from BuildKit's parser or linter.
type Warning struct {
	Rule    string // BuildKit's rule name; empty for parser warnings
	Message string
	URL     string
	Line    int
}

// Error is a Dockerfile that cannot be read or parsed. It names the file and
// the line so that users can jump straight to the problem.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Options tune Parse.
type Options struct {
	// Lint runs BuildKit's own linter and records its findings as Warnings.
	Lint bool
}

// Parse parses src. name is only used in messages.
func Parse(name string, src []byte) (*File, error) {
	return ParseWithOptions(name, src, Options{})
}

// ParseWithOptions parses src with opts.
func ParseWithOptions(name string, src []byte, opts Options) (*File, error) {
	if err := checkText(name, src); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		e := &Error{File: name, Line: errorLine(err), Msg: errorMessage(err)}
		if strings.Contains(e.Msg, "file with no instructions") {
			e.Line, e.Msg = 0, "no instructions, only comments: not a Dockerfile"
		}
		return nil, e
	}
	f := &File{
		Name:   name,
		Src:    src,
		BOM:    bytes.HasPrefix(src, bom),
		Escape: byte(res.EscapeToken),
		lines:  newLineTable(src),
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil {
			line = w.Location.Start.Line
		}
		f.Warnings = append(f.Warnings, Warning{Message: w.Short, URL: w.URL, Line: line})
	}
	f.Directives = parseDirectives(src)

	var lint *linter.Linter
	if opts.Lint {
		lint = linter.New(&linter.Config{Warn: func(rule, _, url, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			f.Warnings = append(f.Warnings, Warning{Rule: rule, Message: msg, URL: url, Line: line})
		}})
	}
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, &Error{File: name, Line: errorLine(err), Msg: errorMessage(err)}
	}
	if len(stages) == 0 {
		return nil, &Error{File: name, Msg: "no FROM instruction: not a buildable Dockerfile"}
	}
	if err := f.build(res.AST, stages, metaArgs); err != nil {
		return nil, err
	}
	f.Style = detectStyle(f)
	return f, nil
}

// checkText rejects input that is not a text Dockerfile before BuildKit sees
// it, so that the error says what is wrong instead of "unknown instruction".
func checkText(name string, src []byte) error {
	if len(src) > MaxSize {
		return &Error{File: name, Msg: fmt.Sprintf("file is %d bytes, over the %d MiB limit for a Dockerfile", len(src), MaxSize>>20)}
	}
	body := bytes.TrimPrefix(src, bom)
	if len(bytes.TrimSpace(body)) == 0 {
		return &Error{File: name, Msg: "file is empty"}
	}
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		if c == '\n' {
			line++
			i++
			continue
		}
		if c == 0 {
			return &Error{File: name, Line: line, Msg: "binary data (NUL byte): not a Dockerfile"}
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 {
			return &Error{File: name, Line: line, Msg: "invalid UTF-8: Dockerfiles must be UTF-8 text"}
		}
		i += size
	}
	return nil
}

func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, loc := range le.Locations {
			if len(loc) > 0 && loc[0].Start.Line > 0 {
				return loc[0].Start.Line
			}
		}
	}
	return 0
}

// errorMessage strips BuildKit's "dockerfile parse error on line N:" prefix,
// since Error already prints the line in file:line form.
func errorMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "dockerfile parse error on line "); i >= 0 {
		rest := msg[i+len("dockerfile parse error on line "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			return rest[j+2:]
		}
	}
	return msg
}

// build attaches spans, typed commands and stages to every parse-tree node.
func (f *File) build(ast *parser.Node, stages []instructions.Stage, metaArgs []instructions.ArgCommand) error {
	stageIdx, cmdIdx := -1, 0
	for i, n := range ast.Children {
		ins := &Instruction{
			Node:    n,
			Keyword: strings.ToLower(n.Value),
			Index:   i,
			Line:    n.StartLine,
			EndLine: n.EndLine,
			Stage:   -1,
			file:    f,
		}
		if err := f.locate(ins); err != nil {
			return err
		}
		if ins.Keyword == "from" {
			stageIdx++
			cmdIdx = 0
			st := &stages[stageIdx]
			stage := &Stage{
				Index:    stageIdx,
				Name:     st.Name,
				BaseName: st.BaseName,
				Platform: st.Platform,
				From:     ins,
				file:     f,
			}
			f.Stages = append(f.Stages, stage)
			ins.Command = st
		} else if stageIdx >= 0 {
			ins.Command = stages[stageIdx].Commands[cmdIdx]
			cmdIdx++
		} else {
			ins.Command = &metaArgs[len(f.GlobalArgs)]
			f.GlobalArgs = append(f.GlobalArgs, ins)
		}
		if stageIdx >= 0 {
			ins.Stage = stageIdx
			s := f.Stages[stageIdx]
			s.Instructions = append(s.Instructions, ins)
		}
		f.Instructions = append(f.Instructions, ins)
	}
	return nil
}

// Line returns the 1-based line number holding byte offset off.
func (f *File) Line(off int) int { return f.lines.lineOf(off) }

// LineStart returns the byte offset where 1-based line n starts.
func (f *File) LineStart(n int) int { return f.lines.start(n) }

// LineEnd returns the byte offset just past line n's content, before its
// line terminator.
func (f *File) LineEnd(n int) int { return f.lines.contentEnd(n) }

// LineText returns line n without its terminator.
func (f *File) LineText(n int) string {
	return string(f.Src[f.lines.start(n):f.lines.contentEnd(n)])
}

// LineCount is the number of lines in the file.
func (f *File) LineCount() int { return f.lines.count() }

// Column returns the 1-based column (in bytes) of offset off.
func (f *File) Column(off int) int { return off - f.lines.start(f.lines.lineOf(off)) + 1 }

// FinalStage is the stage a plain `docker build` produces.
func (f *File) FinalStage() *Stage { return f.Stages[len(f.Stages)-1] }

// StageByName finds a stage by its AS name (case-insensitive, as BuildKit
// treats it) or by its numeric index.
func (f *File) StageByName(name string) *Stage {
	for _, s := range f.Stages {
		if s.Name != "" && strings.EqualFold(s.Name, name) {
			return s
		}
	}
	if n, err := strconv.Atoi(name); err == nil && strconv.Itoa(n) == name && n >= 0 && n < len(f.Stages) {
		return f.Stages[n]
	}
	return nil
}

// GlobalArgDefault returns the default value of a global ARG, as FROM lines
// see it; ok is false for an ARG that is not declared or has no default.
func (f *File) GlobalArgDefault(name string) (string, bool) {
	val, ok := "", false
	for _, ins := range f.GlobalArgs {
		arg, isArg := ins.Command.(*instructions.ArgCommand)
		if !isArg {
			continue
		}
		for _, kv := range arg.Args {
			if kv.Key == name {
				// An ARG without a default is empty unless the build sets
				// it, so its value is unknown here.
				val, ok = "", kv.Value != nil
				if ok {
					val = *kv.Value
				}
			}
		}
	}
	return val, ok
}

// parseDirectives reads the parser directives at the top of the file with
// BuildKit's own directive parser, so harden agrees with it on what counts.
func parseDirectives(src []byte) []Directive {
	var dp parser.DirectiveParser
	found, _ := dp.ParseAll(bytes.TrimPrefix(src, bom)) // errors were reported by Parse
	out := make([]Directive, 0, len(found))
	for _, d := range found {
		line := 0
		if len(d.Location) > 0 {
			line = d.Location[0].Start.Line
		}
		out = append(out, Directive{Name: d.Name, Value: d.Value, Line: line})
	}
	return out
}

// HeaderEnd is the offset just past the parser directives at the top of the
// file; new text must never be inserted above it.
func (f *File) HeaderEnd() int {
	if len(f.Directives) == 0 {
		return f.lines.start(1)
	}
	return f.lines.end(f.Directives[len(f.Directives)-1].Line)
}

// Comments returns the text of every comment line in the file (without the
// leading '#'), including those inside continued instructions.
func (f *File) Comments() []string {
	if f.comments != nil {
		return *f.comments
	}
	out := []string{}
	for n := 1; n <= f.lines.count(); n++ {
		line := f.lines.text(n)
		if isCommentLine(line) {
			t := strings.TrimLeftFunc(string(line), unicode.IsSpace)
			out = append(out, strings.TrimSpace(t[1:]))
		}
	}
	f.comments = &out
	return out
}

// InstructionAt returns the instruction covering 1-based line n, or nil.
func (f *File) InstructionAt(n int) *Instruction {
	i := sort.Search(len(f.Instructions), func(i int) bool { return f.Instructions[i].EndLine >= n })
	if i < len(f.Instructions) && f.Instructions[i].Line <= n {
		return f.Instructions[i]
	}
	return nil
}

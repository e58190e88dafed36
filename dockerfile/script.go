package dockerfile

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// ScriptForm says where a RUN's shell code lives.
type ScriptForm int

const (
	// ShellForm is `RUN cmd ...`: the joined instruction line.
	ShellForm ScriptForm = iota
	// HeredocScript is `RUN <<EOF` with the script in the body.
	HeredocScript
	// HeredocInput is `RUN cmd <<EOF`: the line plus bodies, as BuildKit
	// hands them to the shell.
	HeredocInput
	// ExecForm is `RUN ["cmd", "arg"]`: no shell at all.
	ExecForm
)

// Script is the shell code of a RUN (or shell-form CMD/ENTRYPOINT), parsed
// with a real shell parser, with every position mapped back to the file.
type Script struct {
	Ins      *Instruction
	Form     ScriptForm
	AST      *syntax.File // nil for ExecForm
	Commands []*Command
	text     *Logical
}

// Command is one simple command in a script, e.g. `pip install flask`.
type Command struct {
	Script *Script
	Call   *syntax.CallExpr // nil for ExecForm
	Stmt   *syntax.Stmt     // nil for ExecForm
	// Args are the words' values after quote removal; Literal[i] is false
	// when word i has expansions, in which case Args[i] is "".
	Args    []string
	Literal []bool
	// Prog is the index in Args of the program itself, after wrappers such
	// as sudo, env and command.
	Prog int
	// Chain is the top-level list of statements joined by && or || that
	// holds the command, and ChainIndex its place in it; Chain is nil when
	// the command is nested (pipelines, subshells, if, loops).
	Chain      []*syntax.Stmt
	ChainIndex int
	// Piped is set when the command is one side of a pipeline.
	Piped bool
}

// ErrNoShell is returned for instructions harden cannot treat as POSIX shell.
var ErrNoShell = errors.New("not a POSIX shell command")

// Script parses the instruction's shell code. It fails with a reason when
// the code cannot be edited safely (non-POSIX SHELL, a heredoc with a
// non-shell shebang, shell syntax errors). The result is computed once per
// parse, since several rules look at the same RUN.
func (ins *Instruction) Script() (*Script, error) {
	if !ins.scriptDone {
		ins.script, ins.scriptErr = ins.parseScript()
		ins.scriptDone = true
	}
	return ins.script, ins.scriptErr
}

func (ins *Instruction) parseScript() (*Script, error) {
	switch ins.Keyword {
	case "run", "cmd", "entrypoint":
	default:
		return nil, fmt.Errorf("%s has no shell command", strings.ToUpper(ins.Keyword))
	}
	if ins.IsJSON() {
		args := ins.Args()
		s := &Script{Ins: ins, Form: ExecForm}
		lit := make([]bool, len(args))
		for i := range lit {
			lit[i] = true
		}
		c := &Command{Script: s, Args: args, Literal: lit}
		c.findProgram()
		s.Commands = []*Command{c}
		return s, nil
	}
	if why := ins.file.nonPOSIXShell(ins); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrNoShell, why)
	}
	s := &Script{Ins: ins}
	if err := s.buildText(); err != nil {
		return nil, err
	}
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	ast, err := p.Parse(strings.NewReader(s.text.Text), "")
	if err != nil {
		return nil, fmt.Errorf("shell syntax harden cannot parse: %v", err)
	}
	s.AST = ast
	s.collect()
	return s, nil
}

// buildText assembles the text the shell will run, with offsets into the
// file, following BuildKit's rules for heredocs.
func (s *Script) buildText() error {
	ins := s.Ins
	lg := ins.logical
	start := ins.ArgsStart()
	cmd := lg.Text[start:]
	if len(ins.Heredocs) == 0 {
		s.Form = ShellForm
		s.text = &Logical{Text: cmd, offs: lg.offs[start:]}
		return nil
	}
	src := ins.file.Src
	first, last := ins.Heredocs[0], ins.Heredocs[len(ins.Heredocs)-1]
	if hd := parserHeredoc(strings.TrimSpace(cmd)); hd && len(ins.Heredocs) == 1 {
		body := string(src[first.BodyStart:first.BodyEnd])
		if strings.HasPrefix(body, "#!") {
			line, _, _ := strings.Cut(body, "\n")
			if !isPOSIXShebang(line) {
				return fmt.Errorf("%w: the heredoc runs %s", ErrNoShell, strings.TrimSpace(line[2:]))
			}
		}
		s.Form = HeredocScript
		s.text = identityText(src, first.BodyStart, first.BodyEnd)
		return nil
	}
	// BuildKit passes "line\nbody1NAME1\nbody2NAME2" to the shell.
	s.Form = HeredocInput
	endLast := ins.file.lines.contentEnd(last.TerminatorLine)
	tail := identityText(src, first.BodyStart, endLast)
	offs := make([]int, 0, len(cmd)+1+len(tail.Text)+1)
	offs = append(offs, lg.offs[start:start+len(cmd)]...)
	offs = append(offs, ins.LineEnd())
	offs = append(offs, tail.offs...)
	s.text = &Logical{Text: cmd + "\n" + tail.Text, offs: offs}
	return nil
}

func identityText(src []byte, from, to int) *Logical {
	offs := make([]int, 0, to-from+1)
	for o := from; o <= to; o++ {
		offs = append(offs, o)
	}
	return &Logical{Text: string(src[from:to]), offs: offs}
}

func isPOSIXShebang(line string) bool {
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		return false
	}
	prog := path.Base(fields[0])
	if prog == "env" && len(fields) > 1 {
		prog = fields[1]
	}
	switch prog {
	case "sh", "bash", "dash", "ash":
		return true
	}
	return false
}

// parserHeredoc reports whether s is a lone heredoc word such as <<EOF.
func parserHeredoc(s string) bool {
	if !strings.HasPrefix(strings.TrimLeft(s, "0123456789"), "<<") {
		return false
	}
	rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(s, "0123456789"), "<<"), "-")
	rest = strings.TrimSpace(rest)
	return rest != "" && !strings.ContainsAny(rest, " \t<")
}

// nonPOSIXShell explains why the stage holding ins does not run RUN through
// a POSIX shell, or returns "".
func (f *File) nonPOSIXShell(ins *Instruction) string {
	if ins.Stage < 0 {
		return ""
	}
	for st := f.Stages[ins.Stage]; st != nil; st = st.Parent() {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			sh := st.Instructions[i]
			if sh.Keyword != "shell" || st == f.Stages[ins.Stage] && sh.Index > ins.Index {
				continue
			}
			args := sh.Args()
			if len(args) > 0 {
				switch path.Base(strings.ToLower(args[0])) {
				case "sh", "bash", "dash", "ash":
					return ""
				}
				return "SHELL is " + args[0]
			}
		}
		ref := strings.ToLower(st.BaseName)
		for _, win := range []string{"windows/", "nanoserver", "servercore", "windowsservercore"} {
			if strings.Contains(ref, win) {
				return "the base image is Windows"
			}
		}
	}
	return ""
}

// collect walks the AST and records every simple command.
func (s *Script) collect() {
	chains := map[*syntax.Stmt][]*syntax.Stmt{}
	for _, st := range s.AST.Stmts {
		chain := flattenChain(st)
		for _, op := range chain {
			chains[op] = chain
		}
	}
	piped := map[*syntax.Stmt]bool{}
	syntax.Walk(s.AST, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.BinaryCmd:
			if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
				piped[x.X], piped[x.Y] = true, true
			}
		case *syntax.Stmt:
			call, ok := x.Cmd.(*syntax.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			c := &Command{Script: s, Call: call, Stmt: x, Piped: piped[x]}
			for _, w := range call.Args {
				v, lit := wordValue(w)
				c.Args = append(c.Args, v)
				c.Literal = append(c.Literal, lit)
			}
			if chain, ok := chains[x]; ok {
				c.Chain = chain
				for i, op := range chain {
					if op == x {
						c.ChainIndex = i
					}
				}
			}
			c.findProgram()
			s.Commands = append(s.Commands, c)
		}
		return true
	})
}

// flattenChain lists the operands of a top-level a && b || c chain.
func flattenChain(st *syntax.Stmt) []*syntax.Stmt {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) && !st.Negated && !st.Background && len(st.Redirs) == 0 {
		return append(flattenChain(b.X), flattenChain(b.Y)...)
	}
	return []*syntax.Stmt{st}
}

// wordValue returns a word's value after quote removal when it has no
// expansions.
func wordValue(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(unescapeLit(p.Value))
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false
			}
			for _, inner := range p.Parts {
				l, ok := inner.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(unescapeDouble(l.Value))
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

func unescapeLit(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// wrappers run the command given in their arguments.
var wrappers = map[string]bool{"sudo": true, "env": true, "command": true, "exec": true, "nice": true, "nohup": true, "time": true, "doas": true}

func (c *Command) findProgram() {
	i := 0
	for i < len(c.Args) {
		if !c.Literal[i] {
			return
		}
		name := path.Base(c.Args[i])
		if !wrappers[name] {
			c.Prog = i
			return
		}
		i++
		// Skip the wrapper's own options and env's NAME=value pairs.
		for i < len(c.Args) && c.Literal[i] && (strings.HasPrefix(c.Args[i], "-") || name == "env" && strings.Contains(c.Args[i], "=")) {
			if name == "sudo" && (c.Args[i] == "-u" || c.Args[i] == "-g") {
				i++
			}
			i++
		}
	}
	c.Prog = i
}

// Name is the program's base name ("pip" for /usr/local/bin/pip), or "" when
// it is computed at run time.
func (c *Command) Name() string {
	if c.Prog >= len(c.Args) {
		return ""
	}
	if c.Literal[c.Prog] {
		return path.Base(c.Args[c.Prog])
	}
	// "$VENV/bin/pip": the last part is literal and ends in the name.
	if c.Call != nil {
		w := c.Call.Args[c.Prog]
		if l, ok := w.Parts[len(w.Parts)-1].(*syntax.Lit); ok && strings.Contains(l.Value, "/") {
			return path.Base(l.Value)
		}
	}
	return ""
}

// Arg returns argument i counted from the program (0 is the program).
func (c *Command) Arg(i int) (string, bool) {
	j := c.Prog + i
	if j < 0 || j >= len(c.Args) {
		return "", false
	}
	return c.Args[j], c.Literal[j]
}

// NArgs is the number of words from the program on.
func (c *Command) NArgs() int { return len(c.Args) - c.Prog }

// HasArg reports whether any literal word after the program equals one of
// the given values, or starts with value+"=" for long options.
func (c *Command) HasArg(values ...string) bool {
	for i := c.Prog + 1; i < len(c.Args); i++ {
		if !c.Literal[i] {
			continue
		}
		for _, v := range values {
			if c.Args[i] == v || strings.HasPrefix(v, "--") && strings.HasPrefix(c.Args[i], v+"=") {
				return true
			}
		}
	}
	return false
}

// HasShortFlag reports whether a literal short-option cluster after the
// program contains letter, e.g. -y in "-qy".
func (c *Command) HasShortFlag(letter byte) bool {
	for i := c.Prog + 1; i < len(c.Args); i++ {
		a := c.Args[i]
		if c.Literal[i] && len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

// Text is the command as written.
func (c *Command) Text() string {
	if c.Call == nil {
		return strings.Join(c.Args, " ")
	}
	return c.Script.text.Text[c.Call.Pos().Offset():c.Call.End().Offset()]
}

// Line is the file line where the command starts.
func (c *Command) Line() int {
	if c.Call == nil {
		return c.Script.Ins.Line
	}
	return c.Script.Ins.file.Line(c.Script.text.Orig(int(c.Call.Pos().Offset())))
}

// Column is the 1-based byte column where the command starts.
func (c *Command) Column() int {
	if c.Call == nil {
		return c.Script.Ins.KeywordStart - c.Script.Ins.file.lines.start(c.Script.Ins.Line) + 1
	}
	return c.Script.Ins.file.Column(c.Script.text.Orig(int(c.Call.Pos().Offset())))
}

// InsertAfter returns an edit that inserts words after word i (counted from
// the program, 0 being the program itself). In exec form the whole array is
// rendered again, since JSON has no room for a partial insertion.
func (c *Command) InsertAfter(i int, words ...string) Edit {
	j := c.Prog + i
	if c.Call == nil {
		args := append([]string{}, c.Args[:j+1]...)
		args = append(args, words...)
		args = append(args, c.Args[j+1:]...)
		return c.Script.execEdit(args)
	}
	end := c.Script.text.OrigEnd(int(c.Call.Args[j].End().Offset()))
	return Edit{Start: end, End: end, New: " " + strings.Join(words, " ")}
}

// ReplaceArg returns an edit replacing word i (counted from the program).
func (c *Command) ReplaceArg(i int, word string) Edit {
	j := c.Prog + i
	if c.Call == nil {
		args := append([]string{}, c.Args...)
		args[j] = word
		return c.Script.execEdit(args)
	}
	w := c.Call.Args[j]
	return Edit{
		Start: c.Script.text.Orig(int(w.Pos().Offset())),
		End:   c.Script.text.OrigEnd(int(w.End().Offset())),
		New:   word,
	}
}

// InsertBefore returns an edit that puts text just before the command's
// statement (e.g. "apt-get update && ").
func (c *Command) InsertBefore(text string) (Edit, error) {
	if c.Call == nil {
		return Edit{}, errors.New("exec form has no shell to chain commands")
	}
	at := c.Script.text.Orig(int(c.Stmt.Pos().Offset()))
	return Edit{Start: at, End: at, New: text}, nil
}

func (s *Script) execEdit(args []string) Edit {
	ins := s.Ins
	lg := ins.logical
	start := ins.ArgsStart()
	return Edit{
		Start: lg.Orig(start),
		End:   lg.OrigEnd(len(strings.TrimRight(lg.Text, " \t\r\n"))),
		New:   ins.file.Style.JSONArray(args),
	}
}

// stmtEnd is where a statement's own text ends, before any ';' or '&'.
// A statement of redirections only ("<0") has no command.
func stmtEnd(st *syntax.Stmt) int {
	end := int(st.Position.Offset())
	if st.Cmd != nil {
		end = int(st.Cmd.End().Offset())
	}
	for _, r := range st.Redirs {
		if e := int(r.End().Offset()); e > end {
			end = e
		}
	}
	return end
}

// Append returns an edit that runs cmd after everything else in the script,
// chained with && so that a failure still fails the build.
func (s *Script) Append(cmd string) (Edit, error) {
	ins, f := s.Ins, s.Ins.file
	switch s.Form {
	case ExecForm, HeredocInput:
		return Edit{}, errors.New("cannot append a command to this form of RUN")
	case HeredocScript:
		hd := ins.Heredocs[0]
		indent := ""
		if hd.Chomp {
			indent = "\t"
		}
		eol := f.Style.EOL
		return Edit{Start: hd.BodyEnd, End: hd.BodyEnd, New: indent + cmd + eol}, nil
	}
	if len(s.AST.Stmts) == 0 {
		return Edit{}, errors.New("empty command")
	}
	last := s.AST.Stmts[len(s.AST.Stmts)-1]
	if last.Background || last.Coprocess {
		return Edit{}, errors.New("the last command runs in the background")
	}
	at := s.text.OrigEnd(stmtEnd(last))
	if ins.Line == ins.logicalEndLine {
		return Edit{Start: at, End: at, New: " && " + cmd}, nil
	}
	st := f.Style
	st.Indent = s.lastIndent()
	if st.LeadingOps {
		return Edit{Start: at, End: at, New: st.Continuation() + "&& " + cmd}, nil
	}
	return Edit{Start: at, End: at, New: " &&" + st.Continuation() + cmd}, nil
}

// lastIndent is the indentation of the instruction's last continuation line,
// so that an appended line lines up with its neighbours.
func (s *Script) lastIndent() string {
	f := s.Ins.file
	for n := s.Ins.logicalEndLine; n > s.Ins.Line; n-- {
		line := f.lines.text(n)
		if isBlank(line) || isCommentLine(line) {
			continue
		}
		body := strings.TrimLeft(string(line), " \t")
		indent := string(line[:len(line)-len(body)])
		if s.Ins.file.Style.LeadingOps {
			return indent
		}
		if indent != "" {
			return indent
		}
	}
	return f.Style.Indent
}

// MountsCache reports whether the RUN has a cache mount on one of targets
// or a folder above it.
func (ins *Instruction) MountsCache(targets ...string) bool {
	return ins.MountsCacheWhere(func(m string) bool {
		for _, t := range targets {
			if m == t || strings.HasPrefix(t, strings.TrimSuffix(m, "/")+"/") {
				return true
			}
		}
		return false
	})
}

// MountsCacheWhere reports whether the RUN has a cache mount whose target
// satisfies match.
func (ins *Instruction) MountsCacheWhere(match func(target string) bool) bool {
	for _, m := range ins.cacheMounts() {
		if match(m) {
			return true
		}
	}
	return false
}

func (ins *Instruction) cacheMounts() []string {
	var out []string
	for _, fl := range ins.Node.Flags {
		v, ok := strings.CutPrefix(fl, "--mount=")
		if !ok {
			continue
		}
		var typ, target string
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			switch strings.ToLower(k) {
			case "type":
				typ = val
			case "target", "dst", "destination":
				target = strings.Trim(val, `"'`)
			}
		}
		if typ == "cache" && target != "" {
			out = append(out, target)
		}
	}
	return out
}

package dockerfile

import (
	"errors"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Remove returns edits that delete the command together with one operator
// next to it, so that the commands around it keep their order and the
// operators between them: "a && b && c" loses "b &&", "a; b; c" loses "b;".
// It handles the layouts people write: one line, operators at the end of a
// continued line or at the start of the next one, comment lines between
// them. When no comment line is in the way the lines are joined ("RUN apk
// update \" + "&& apk add" becomes "RUN apk add"); comment lines always stay,
// and a line left with nothing but its continuation goes. A command that is
// the whole script removes the whole instruction.
//
// It refuses a command nested in other shell syntax, piped, negated, run in
// the background, or next to ||: taking it out would change when the
// commands around it run.
func (c *Command) Remove() ([]Edit, error) {
	s := c.Script
	ins := s.Ins
	if s.Form != ShellForm && s.Form != HeredocScript {
		return nil, errors.New("only a shell-form RUN or a heredoc script can lose a command")
	}
	if c.Chain == nil {
		return nil, errors.New("the command is nested inside other shell syntax")
	}
	if c.Stmt.Negated || c.Stmt.Background || c.Stmt.Coprocess {
		return nil, errors.New("the command is negated or runs in the background")
	}
	if hasShellHeredoc(s.AST) {
		return nil, errors.New("the script has a here-document, whose body harden does not move")
	}
	seq, idx, err := s.sequenceOf(c)
	if err != nil {
		return nil, err
	}
	if len(seq.elems) == 1 {
		return []Edit{{Start: ins.Start, End: ins.End}}, nil
	}
	if idx > 0 && !seq.removable(idx-1) || idx < len(seq.elems)-1 && !seq.removable(idx) {
		return nil, errors.New("the command is next to " + seq.blocking(idx) + ", so removing it would change when the others run")
	}

	tx, f := s.text, ins.file
	var a, b int // the region that goes when no comment line is in it
	if idx == 0 {
		a, b = tx.Orig(int(seq.elems[0].Pos().Offset())), tx.Orig(int(seq.elems[1].Pos().Offset()))
	} else {
		a, b = tx.OrigEnd(stmtEnd(seq.elems[idx-1])), tx.OrigEnd(stmtEnd(seq.elems[idx]))
	}
	if !f.commentLineIn(a, b) {
		return []Edit{{Start: a, End: b}}, nil
	}
	return s.removeKeepingComments(seq, idx)
}

// sequence is a run of statements and the separators between them: one
// && / || chain, or the script's top-level list (; & newline).
type sequence struct {
	elems []*syntax.Stmt
	// ops[k] separates elems[k] and elems[k+1]: its text ("&&", "||", ";",
	// "&" or "\n") and its logical offset.
	ops   []string
	opAts []int
	chain bool
}

// removable reports whether separator k may go along with a neighbour.
func (q *sequence) removable(k int) bool {
	if q.chain {
		return q.ops[k] == "&&"
	}
	return q.ops[k] == ";" || q.ops[k] == "\n"
}

func (q *sequence) blocking(idx int) string {
	for _, k := range []int{idx - 1, idx} {
		if k >= 0 && k < len(q.ops) && !q.removable(k) {
			return q.ops[k]
		}
	}
	return ""
}

// sequenceOf finds the sequence holding c's statement and its index there.
func (s *Script) sequenceOf(c *Command) (*sequence, int, error) {
	if len(c.Chain) > 1 {
		q := &sequence{elems: c.Chain, chain: true}
		for k := 0; k+1 < len(c.Chain); k++ {
			from, to := stmtEnd(c.Chain[k]), int(c.Chain[k+1].Pos().Offset())
			op, at, ok := gapOperator(s.text.Text, from, to)
			if !ok || op != "&&" && op != "||" {
				return nil, 0, errors.New("harden cannot read the operators around the command")
			}
			q.ops, q.opAts = append(q.ops, op), append(q.opAts, at)
		}
		return q, c.ChainIndex, nil
	}
	q := &sequence{elems: s.AST.Stmts}
	idx := -1
	for k, st := range s.AST.Stmts {
		if st == c.Stmt {
			idx = k
		}
		if k+1 == len(s.AST.Stmts) {
			break
		}
		switch {
		case st.Background || st.Coprocess:
			q.ops, q.opAts = append(q.ops, "&"), append(q.opAts, int(st.Semicolon.Offset()))
		case st.Semicolon.IsValid():
			q.ops, q.opAts = append(q.ops, ";"), append(q.opAts, int(st.Semicolon.Offset()))
		default:
			from, to := stmtEnd(st), int(s.AST.Stmts[k+1].Pos().Offset())
			op, at, ok := gapOperator(s.text.Text, from, to)
			if !ok || op != "\n" {
				return nil, 0, errors.New("harden cannot read the separators around the command")
			}
			q.ops, q.opAts = append(q.ops, op), append(q.opAts, at)
		}
	}
	if idx < 0 {
		return nil, 0, errors.New("the command is nested inside other shell syntax")
	}
	return q, idx, nil
}

// gapOperator reads the operator in text[from:to], the space between two
// statements: blanks, escaped newlines, and one "&&", "||" or newline.
func gapOperator(text string, from, to int) (op string, at int, ok bool) {
	if from < 0 || to > len(text) || from > to {
		return "", 0, false
	}
	for i := from; i < to; i++ {
		switch ch := text[i]; {
		case ch == ' ' || ch == '\t' || ch == '\r':
		case ch == '\\' && i+1 < to && text[i+1] == '\n':
			i++
		case ch == '#' && op != "":
			// A comment after the operator runs to the end of its line.
			for i+1 < to && text[i+1] != '\n' {
				i++
			}
		case ch == '\n':
			if op == "" {
				op, at = "\n", i
			}
		case (ch == '&' || ch == '|') && i+1 < to && text[i+1] == ch:
			if op != "" && op != "\n" {
				return "", 0, false
			}
			op, at = text[i:i+2], i
			i++
		default:
			return "", 0, false
		}
	}
	return op, at, op != ""
}

func hasShellHeredoc(f *syntax.File) bool {
	found := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if r, ok := n.(*syntax.Redirect); ok && (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) {
			found = true
		}
		return !found
	})
	return found
}

// commentLineIn reports a comment line wholly inside [a, b).
func (f *File) commentLineIn(a, b int) bool {
	for n := f.Line(a) + 1; n < f.Line(b); n++ {
		if isCommentLine(f.lines.text(n)) {
			return true
		}
	}
	return false
}

// removeKeepingComments deletes a statement and one separator next to it
// where comment lines lie between them and their neighbours: only the
// statement's and the separator's own text goes, with the lines that hold
// nothing else.
func (s *Script) removeKeepingComments(q *sequence, idx int) ([]Edit, error) {
	ins, f, tx := s.Ins, s.Ins.file, s.text
	if idx == len(q.elems)-1 {
		return nil, errors.New("comment lines separate the last command from the one before it")
	}
	st := q.elems[idx]
	sE, eE := tx.Orig(int(st.Pos().Offset())), tx.OrigEnd(stmtEnd(st))
	op := idx // the separator after the statement
	if idx > 0 && f.Line(tx.Orig(q.opAts[idx-1])) >= f.Line(sE) {
		op = idx - 1 // the separator before it, on the statement's own line
	}
	ranges := [][2]int{{sE, eE}}
	if q.ops[op] != "\n" { // a newline goes with the statement's line
		at := tx.Orig(q.opAts[op])
		oRange := [2]int{at, tx.OrigEnd(q.opAts[op] + len(q.ops[op]))}
		switch {
		case f.Line(oRange[0]) == f.Line(sE) && oRange[1] <= sE && isHorizBlank(f.Src[oRange[1]:sE]):
			ranges[0][0] = oRange[0]
		case f.Line(oRange[0]) == f.Line(eE) && oRange[0] >= eE && isHorizBlank(f.Src[eE:oRange[0]]):
			ranges[0][1] = oRange[1]
		case oRange[1] <= sE:
			ranges = [][2]int{oRange, ranges[0]}
		default:
			ranges = append(ranges, oRange)
		}
	}
	esc := f.Escape
	if s.Form == HeredocScript {
		esc = '\\' // the shell's own escape, whatever the Dockerfile's is
	}
	var edits []Edit
	for _, r := range ranges {
		if f.commentLineIn(r[0], r[1]) {
			return nil, errors.New("a comment line lies inside the command")
		}
		first, last := f.Line(r[0]), f.Line(r[1])
		lineEnd := f.lines.contentEnd(last)
		for r[1] < lineEnd && (f.Src[r[1]] == ' ' || f.Src[r[1]] == '\t') {
			r[1]++
		}
		before := f.Src[f.lines.start(first):r[0]]
		after := string(f.Src[r[1]:lineEnd])
		if first != ins.Line && isHorizBlank(before) && (after == string(esc) || after == "") {
			if after == "" && s.Form != HeredocScript {
				return nil, errors.New("the command ends the instruction's lines")
			}
			r = [2]int{f.lines.start(first), f.lines.end(last)}
		}
		edits = append(edits, Edit{Start: r[0], End: r[1]})
	}
	return edits, nil
}

func isHorizBlank(b []byte) bool {
	return strings.Trim(string(b), " \t") == ""
}

// OperatorBefore is the && or || joining the command to the one before it
// in its chain, or "" when it comes first (or is nested).
func (c *Command) OperatorBefore() string {
	if c.Chain == nil || c.ChainIndex == 0 {
		return ""
	}
	from, to := stmtEnd(c.Chain[c.ChainIndex-1]), int(c.Stmt.Pos().Offset())
	op, _, _ := gapOperator(c.Script.text.Text, from, to)
	return op
}

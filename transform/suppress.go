package transform

import (
	"slices"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// Suppression comments, in harden's own form and in hadolint's, so that a
// repository moving from hadolint keeps its decisions:
//
//	# harden:ignore=RULE[,RULE]     the instruction below (or, inside a
//	                                continued RUN, the line below)
//	# harden:ignore-file=RULE[,...] the whole file
//	# hadolint ignore=DLxxxx[,...]  the instruction below
//	# hadolint global ignore=DL...  the whole file
//
// RULE is a rule ID, a rule name or a hadolint code. Anything after the
// list, separated by a space, is a free-form reason: "# harden:ignore=HD409
// the entrypoint drops privileges with gosu".
var (
	hardenDirective   = lazyre.New(`^harden:\s*(ignore|ignore-file)\s*=\s*(.*)$`)
	hadolintDirective = lazyre.New(`^hadolint\s+(global\s+)?ignore\s*=\s*(.*)$`)
)

// ignoreComment is one parsed suppression comment.
type ignoreComment struct {
	rules     []string
	wholeFile bool
}

// parseIgnore reads a suppression from a comment's text (without the
// leading '#').
func parseIgnore(comment string) (ignoreComment, bool) {
	comment = strings.TrimSpace(comment)
	if m := hardenDirective().FindStringSubmatch(comment); m != nil {
		return ignoreComment{rules: ruleList(m[2]), wholeFile: m[1] == "ignore-file"}, true
	}
	if m := hadolintDirective().FindStringSubmatch(comment); m != nil {
		return ignoreComment{rules: ruleList(m[2]), wholeFile: m[1] != ""}, true
	}
	return ignoreComment{}, false
}

// ruleList splits "A,B, C reason..." into [A B C]: spaces may follow a
// comma, and the first word not preceded by a comma starts the reason.
func ruleList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		out = append(out, fields[0])
		if len(fields) > 1 {
			break
		}
	}
	return out
}

// suppressed reports whether a finding of rule r at line is silenced by a
// file-wide suppression anywhere, by the comment block directly above its
// instruction, or, inside a multi-line instruction, by the comment lines
// directly above the line itself.
func suppressed(f *dockerfile.File, r *Rule, line int) bool {
	for _, c := range f.Comments() {
		if ig, ok := parseIgnore(c); ok && ig.wholeFile && slices.ContainsFunc(ig.rules, r.Matches) {
			return true
		}
	}
	ins := f.InstructionAt(line)
	if ins == nil {
		return false
	}
	return ignoredAbove(f, r, ins.Line, 1) || line > ins.Line && ignoredAbove(f, r, line, ins.Line+1)
}

// ignoredAbove looks at the unbroken run of comment lines that ends right
// above line (and starts no earlier than floor) for a suppression of r.
func ignoredAbove(f *dockerfile.File, r *Rule, line, floor int) bool {
	for n := line - 1; n >= floor; n-- {
		text, isComment := strings.CutPrefix(strings.TrimLeft(f.LineText(n), " \t"), "#")
		if !isComment {
			return false
		}
		if ig, ok := parseIgnore(text); ok && !ig.wholeFile && slices.ContainsFunc(ig.rules, r.Matches) {
			return true
		}
	}
	return false
}

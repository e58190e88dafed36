package transform

import (
	"slices"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// suppressed honours "# harden:ignore=RULE,..." on the comment lines right
// above an instruction, "# harden:ignore-file=RULE" anywhere, and hadolint's
// "# hadolint ignore=DLxxxx" for rules that map to a hadolint code.
func suppressed(f *dockerfile.File, r *Rule, line int) bool {
	for _, c := range f.Comments() {
		if ids, ok := directiveList(c, "harden:ignore-file="); ok && matchesAny(r, ids) {
			return true
		}
	}
	ins := f.InstructionAt(line)
	if ins == nil {
		return false
	}
	for _, c := range ins.Node.PrevComment {
		if ids, ok := directiveList(c, "harden:ignore="); ok && matchesAny(r, ids) {
			return true
		}
		if ids, ok := directiveList(c, "hadolint ignore="); ok && matchesAny(r, ids) {
			return true
		}
	}
	return false
}

// directiveList parses "harden:ignore=A,B" from a comment's text (without
// the leading '#').
func directiveList(comment, prefix string) ([]string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(comment), prefix)
	if !ok {
		return nil, false
	}
	rest, _, _ = strings.Cut(rest, " ")
	return strings.Split(rest, ","), true
}

func matchesAny(r *Rule, ids []string) bool {
	return slices.ContainsFunc(ids, r.Matches)
}

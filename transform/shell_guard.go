package transform

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// The shell guard stands beside the BuildKit parse guard in the engine.
// BuildKit does not parse RUN's shell code, so an edit that leaves
// "RUN \" followed by "&& apk add" passes its parser and fails the build.
// Every RUN an applied fix edits or writes must therefore still parse with
// the shell parser harden reads RUNs with, and every command of the
// original RUN that no edit touched must still be there, in order, with the
// same words and the same operators on each side where those were not
// edited. RUNs harden never parses (another SHELL, exec form, a heredoc
// for another interpreter) are left alone, and so are RUNs whose original
// did not parse either.

// placedEdit is an applied edit with its place in the edited text.
type placedEdit struct {
	dockerfile.Edit
	newStart, newEnd int
}

func placeEdits(edits []dockerfile.Edit) []placedEdit {
	sorted := slices.Clone(edits)
	slices.SortStableFunc(sorted, func(a, b dockerfile.Edit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	out := make([]placedEdit, len(sorted))
	delta := 0
	for i, e := range sorted {
		out[i] = placedEdit{Edit: e, newStart: e.Start + delta, newEnd: e.Start + delta + len(e.New)}
		delta += len(e.New) - (e.End - e.Start)
	}
	return out
}

// forward maps an offset of the text before the edits that no edit covers
// to the text after them; insertions at the offset land before it.
func forward(placed []placedEdit, off int) int {
	delta := 0
	for _, p := range placed {
		if p.Start == p.End && p.Start > off || p.Start < p.End && p.End > off {
			break
		}
		delta += len(p.New) - (p.End - p.Start)
	}
	return off + delta
}

// backward maps an offset of the edited text to the text before, and
// reports false for an offset inside inserted text.
func backward(placed []placedEdit, off int) (int, bool) {
	delta := 0
	for _, p := range placed {
		if off < p.newStart {
			break
		}
		if off < p.newEnd {
			return 0, false
		}
		delta += len(p.New) - (p.End - p.Start)
	}
	return off - delta, true
}

// touchesCommand: an edit overlaps the command's bytes, or inserts inside
// it or right after its last word (a new word).
func touchesCommand(e dockerfile.Edit, start, end int) bool {
	if e.Start == e.End {
		return start < e.Start && e.Start <= end
	}
	return e.Start < end && e.End > start
}

// touchesGap: an edit overlaps the text between two commands, or inserts
// into it (at either end too: "x && " put before a command is new text
// between it and its neighbour).
func touchesGap(e dockerfile.Edit, start, end int) bool {
	if e.Start == e.End {
		return start <= e.Start && e.Start <= end
	}
	return e.Start < end && e.End > start
}

// shellCheck is the guard's verdict on one edited file; why is empty when
// every RUN passed.
func checkShell(before, after *dockerfile.File, edits []dockerfile.Edit) string {
	placed := placeEdits(edits)
	inputParses := -1 // unknown until needed
	for _, n := range after.Instructions {
		if n.Keyword != "run" || !runEdited(placed, n) {
			continue
		}
		sn, errNew := n.Script()
		if errors.Is(errNew, dockerfile.ErrNoShell) || errNew == nil && sn.Form == dockerfile.ExecForm {
			continue // harden never parses it, so it edits it only as a whole
		}
		old := counterpart(before, placed, n)
		if old == nil {
			if errNew == nil {
				continue
			}
			if inputParses < 0 {
				inputParses = boolInt(allRunsParse(before))
			}
			if inputParses == 1 {
				return fmt.Sprintf("a RUN it writes would not parse as shell (%v)", unwrapShellError(errNew))
			}
			continue
		}
		so, errOld := old.Script()
		if errOld != nil || so.Form == dockerfile.ExecForm {
			continue // it did not parse before either
		}
		if errNew != nil {
			return fmt.Sprintf("the RUN it edits would no longer parse as shell (%v)", unwrapShellError(errNew))
		}
		if why := sameSteps(placed, so, sn); why != "" {
			return "the RUN it edits " + why
		}
	}
	return ""
}

// runEdited reports whether an edit wrote into the RUN or removed text
// from inside it.
func runEdited(placed []placedEdit, n *dockerfile.Instruction) bool {
	for _, p := range placed {
		if p.newStart >= n.End {
			break
		}
		if p.newStart < p.newEnd && p.newEnd > n.Start || p.newStart == p.newEnd && p.newStart >= n.Start {
			return true
		}
	}
	return false
}

// counterpart finds the RUN of the file before the edits that an edited
// RUN came from, or nil when the edits wrote it.
func counterpart(before *dockerfile.File, placed []placedEdit, n *dockerfile.Instruction) *dockerfile.Instruction {
	off, ok := backward(placed, n.KeywordStart)
	if !ok {
		return nil
	}
	old := before.InstructionAt(before.Line(off))
	if old == nil || old.KeywordStart != off || old.Keyword != "run" {
		return nil
	}
	return old
}

// sameSteps checks that every command of the old script that no edit
// touched is in the new one at the same place, with the same words and,
// where the text beside it was not edited either, the same operators.
func sameSteps(placed []placedEdit, so, sn *dockerfile.Script) string {
	newSteps := map[[2]int]*dockerfile.Step{}
	steps := sn.Steps()
	for i := range steps {
		newSteps[[2]int{steps[i].Start, steps[i].End}] = &steps[i]
	}
	for _, st := range so.Steps() {
		if slices.ContainsFunc(placed, func(p placedEdit) bool { return touchesCommand(p.Edit, st.Start, st.End) }) {
			continue
		}
		now, ok := newSteps[[2]int{forward(placed, st.Start), forward(placed, st.End)}]
		if !ok || !slices.Equal(now.Words, st.Words) {
			return fmt.Sprintf("would lose `%s` as a command of its own", shortCommand(st.Words))
		}
		if !slices.ContainsFunc(placed, func(p placedEdit) bool { return touchesGap(p.Edit, st.BeforeStart, st.Start) }) && now.Before != st.Before {
			return fmt.Sprintf("would put %s before `%s` instead of %s", describeGap(now.Before), shortCommand(st.Words), describeGap(st.Before))
		}
		if !slices.ContainsFunc(placed, func(p placedEdit) bool { return touchesGap(p.Edit, st.End, st.AfterEnd) }) && now.After != st.After {
			return fmt.Sprintf("would put %s after `%s` instead of %s", describeGap(now.After), shortCommand(st.Words), describeGap(st.After))
		}
	}
	return ""
}

func shortCommand(words []string) string {
	s := strings.Join(words, " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func describeGap(g string) string {
	if g == "" {
		return "nothing"
	}
	return "`" + strings.ReplaceAll(g, "\n", "⏎") + "`"
}

// allRunsParse reports whether every RUN of the file that harden reads as
// shell parses.
func allRunsParse(f *dockerfile.File) bool {
	for _, ins := range f.Instructions {
		if ins.Keyword != "run" {
			continue
		}
		if _, err := ins.Script(); err != nil && !errors.Is(err, dockerfile.ErrNoShell) {
			return false
		}
	}
	return true
}

func unwrapShellError(err error) string {
	return strings.TrimPrefix(err.Error(), "shell syntax harden cannot parse: ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

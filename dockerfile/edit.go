package dockerfile

import (
	"fmt"
	"sort"
)

// Edit replaces Src[Start:End] with New. Start == End inserts.
// Edits are byte ranges in the original text, in the spirit of
// golang.org/x/tools/go/analysis TextEdits: untouched bytes stay untouched.
type Edit struct {
	Start, End int
	New        string
}

// OverlapError reports two edits that touch the same bytes.
type OverlapError struct{ A, B Edit }

func (e *OverlapError) Error() string {
	return fmt.Sprintf("edits overlap: [%d,%d) and [%d,%d)", e.A.Start, e.A.End, e.B.Start, e.B.End)
}

// sortEdits orders edits by position; insertions at the same offset keep
// their given order so that rules can insert several pieces at one place.
func sortEdits(edits []Edit) []Edit {
	out := append([]Edit(nil), edits...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	return out
}

// Overlap reports whether two edits conflict. Two insertions at one offset
// do not (their order is kept); an insertion inside a replaced range does.
func Overlap(a, b Edit) bool {
	if a.Start > b.Start || a.Start == b.Start && b.Start == b.End {
		a, b = b, a
	}
	if a.Start == a.End && b.Start == b.End {
		return false
	}
	if a.Start == a.End { // insertion at or before b's start
		return a.Start > b.Start && a.Start < b.End
	}
	return b.Start < a.End
}

// Validate checks that edits are in range and do not overlap.
func Validate(src []byte, edits []Edit) error {
	sorted := sortEdits(edits)
	for i, e := range sorted {
		if e.Start < 0 || e.End < e.Start || e.End > len(src) {
			return fmt.Errorf("edit [%d,%d) out of range for %d bytes", e.Start, e.End, len(src))
		}
		if i > 0 && Overlap(sorted[i-1], e) {
			return &OverlapError{A: sorted[i-1], B: e}
		}
	}
	return nil
}

// Apply returns src with edits applied. It fails on overlapping or
// out-of-range edits rather than guessing.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	if err := Validate(src, edits); err != nil {
		return nil, err
	}
	sorted := sortEdits(edits)
	size := len(src)
	for _, e := range sorted {
		size += len(e.New) - (e.End - e.Start)
	}
	out := make([]byte, 0, size)
	last := 0
	for _, e := range sorted {
		out = append(out, src[last:e.Start]...)
		out = append(out, e.New...)
		last = e.End
	}
	return append(out, src[last:]...), nil
}

// OffsetMap maps offsets in an edited text back to the text before the
// edits, so that changes made over several passes can be traced to the
// original file's lines.
type OffsetMap struct{ edits []Edit }

// NewOffsetMap records edits that were applied together.
func NewOffsetMap(edits []Edit) OffsetMap { return OffsetMap{edits: sortEdits(edits)} }

// Before maps an offset in the edited text to the text before the edits.
// Offsets inside inserted text map to the start of the replaced range.
func (m OffsetMap) Before(off int) int {
	delta := 0
	for _, e := range m.edits {
		newStart := e.Start + delta
		newEnd := newStart + len(e.New)
		if off < newStart {
			break
		}
		if off < newEnd {
			return e.Start
		}
		delta += len(e.New) - (e.End - e.Start)
	}
	return off - delta
}

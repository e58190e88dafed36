package dockerfile

import (
	"errors"
	"testing"
)

func TestApply(t *testing.T) {
	src := []byte("0123456789")
	out, err := Apply(src, []Edit{
		{Start: 8, End: 10, New: "XY"},
		{Start: 2, End: 2, New: "a"},
		{Start: 2, End: 2, New: "b"}, // same offset: kept in given order
		{Start: 4, End: 6},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "01ab2367XY" {
		t.Errorf("Apply = %q", out)
	}
}

func TestOverlap(t *testing.T) {
	tests := []struct {
		a, b Edit
		want bool
	}{
		{Edit{Start: 1, End: 3}, Edit{Start: 2, End: 4}, true},
		{Edit{Start: 1, End: 3}, Edit{Start: 3, End: 4}, false},
		{Edit{Start: 1, End: 3}, Edit{Start: 2, End: 2}, true},  // insertion inside a replacement
		{Edit{Start: 1, End: 3}, Edit{Start: 1, End: 1}, false}, // insertion before it
		{Edit{Start: 1, End: 3}, Edit{Start: 3, End: 3}, false}, // insertion after it
		{Edit{Start: 2, End: 2}, Edit{Start: 2, End: 2}, false},
	}
	for _, tt := range tests {
		if got := Overlap(tt.a, tt.b); got != tt.want {
			t.Errorf("Overlap(%v, %v) = %v", tt.a, tt.b, got)
		}
		if got := Overlap(tt.b, tt.a); got != tt.want {
			t.Errorf("Overlap(%v, %v) = %v (reversed)", tt.b, tt.a, got)
		}
	}
	var oe *OverlapError
	if _, err := Apply([]byte("abcdef"), []Edit{{Start: 0, End: 3}, {Start: 2, End: 5}}); !errors.As(err, &oe) {
		t.Errorf("overlapping edits: got %v", err)
	}
	if _, err := Apply([]byte("abc"), []Edit{{Start: 2, End: 9}}); err == nil {
		t.Error("out-of-range edit accepted")
	}
}

func TestOffsetMap(t *testing.T) {
	src := "aaaa bbbb cccc"
	edits := []Edit{{Start: 4, End: 4, New: "XX"}, {Start: 5, End: 9, New: "B"}}
	out, err := Apply([]byte(src), edits)
	if err != nil {
		t.Fatal(err)
	}
	m := NewOffsetMap(edits)
	// "aaaaXX Bcccc"... every unchanged byte maps back to the same byte.
	for i := range out {
		before := m.Before(i)
		if i < 4 || i >= len(out)-5 {
			if out[i] != src[before] {
				t.Errorf("byte %d %q maps to %d %q", i, out[i], before, src[before])
			}
		}
	}
	if m.Before(5) != 4 { // inside the insertion
		t.Errorf("inserted byte maps to %d", m.Before(5))
	}
}

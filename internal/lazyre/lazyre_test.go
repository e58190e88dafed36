package lazyre

import (
	"regexp"
	"slices"
	"testing"
)

func TestNewCompilesOnceAndRecordsThePattern(t *testing.T) {
	re := New(`^a+b$`)
	if !slices.Contains(Declared(), `^a+b$`) {
		t.Fatalf("Declared() = %q, want it to hold the new pattern", Declared())
	}
	first := re()
	if !first.MatchString("aab") || first.MatchString("ba") {
		t.Fatalf("pattern %q does not match as declared", first)
	}
	if re() != first {
		t.Error("second call compiled the pattern again; want the same *regexp.Regexp")
	}
}

func TestInvalidPatternPanicsOnFirstUse(t *testing.T) {
	re := New(`(`) // declaring must not panic: nothing is compiled yet
	defer func() {
		if recover() == nil {
			t.Error("invalid pattern compiled without a panic")
		}
	}()
	re()
}

// Declared patterns are checked in the packages that declare them; this
// guards the helper's own contract that Declared is a copy.
func TestDeclaredIsACopy(t *testing.T) {
	New(`x`)
	d := Declared()
	d[0] = "changed"
	if Declared()[0] == "changed" {
		t.Error("Declared returned the shared slice")
	}
	if _, err := regexp.Compile(Declared()[len(Declared())-1]); err != nil {
		t.Error(err)
	}
}

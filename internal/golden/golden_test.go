package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder keeps what Check reports instead of failing the real test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, format)
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "want.txt")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	same := &recorder{TB: t}
	Check(same, path, []byte("one\ntwo\n"))
	if len(same.errors) != 0 {
		t.Errorf("equal output reported: %q", same.errors)
	}
	differs := &recorder{TB: t}
	Check(differs, path, []byte("one\nthree\n"))
	if len(differs.errors) != 1 || !strings.Contains(differs.errors[0], "differs") {
		t.Errorf("different output: %q, want one report", differs.errors)
	}

	*update = true
	defer func() { *update = false }()
	fresh := filepath.Join(t.TempDir(), "new", "dir", "want.txt")
	Check(t, fresh, []byte("written\n"))
	if got, err := os.ReadFile(fresh); err != nil || string(got) != "written\n" {
		t.Errorf("-update wrote %q, %v", got, err)
	}
}

// Package golden compares test output with files under testdata and, with
// `go test -update`, rewrites them. Every package with golden files uses it,
// so the flag, the folder creation and the mismatch report are the same
// everywhere. Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/unidiff"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output (review the change!)")

// Update reports whether this run rewrites golden files, for tests whose
// golden data is not a whole file (the want sections of a txtar archive).
func Update() bool { return *update }

// Check compares got with the file at path; with -update it writes got
// there instead, creating the folder.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update after checking the change):\n%s",
			path, unidiff.Diff(path, "got", want, got))
	}
}

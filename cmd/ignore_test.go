package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

// harden ignore --write and harden fix --write create ignore files that do
// not exist yet and replace ones that do, through writeFileAtomic.
func TestWriteIgnoreFile(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, ".dockerignore")
	if err := writeFileAtomic(fresh, []byte(".git\n")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("new file: %v, mode %v; want 0644", err, st.Mode())
	}

	kept := filepath.Join(dir, "api.Dockerfile.dockerignore")
	if err := os.WriteFile(kept, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(kept, []byte("old\n.git\n")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(kept)
	if st, _ := os.Stat(kept); err != nil || string(data) != "old\n.git\n" || st.Mode().Perm() != 0o600 {
		t.Fatalf("existing file: %q, %v; want the new text with mode 0600 kept", data, err)
	}

	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", ".dockerignore"), []byte("x")); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/transform"
)

// docsDir is the committed documentation, relative to this package.
var docsDir = filepath.Join("..", "..", "docs", "rules")

// TestDocsUpToDate fails when a rule changed and its page was not
// regenerated, when a page is missing, or when a page outlived its rule.
func TestDocsUpToDate(t *testing.T) {
	want := pages(transform.All())
	for name, content := range want {
		have, err := os.ReadFile(filepath.Join(docsDir, name))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./internal/ruledocs)", name, err)
			continue
		}
		if !bytes.Equal(have, content) {
			t.Errorf("docs/rules/%s is stale (run go generate ./internal/ruledocs)", name)
		}
	}
	found, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range found {
		if _, ok := want[filepath.Base(p)]; !ok {
			t.Errorf("docs/rules/%s belongs to no rule (run go generate ./internal/ruledocs to remove it)", filepath.Base(p))
		}
	}
}

func TestWriteIsIdempotentAndPrunes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "retired-rule.md"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := pages(transform.All())
	changed, err := write(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != len(want)+1 {
		t.Errorf("first write changed %d files, want %d pages plus one removal", len(changed), len(want))
	}
	if _, err := os.Stat(filepath.Join(dir, "retired-rule.md")); !os.IsNotExist(err) {
		t.Errorf("a page without a rule was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not a page was removed")
	}
	if changed, err := write(dir, want); err != nil || len(changed) != 0 {
		t.Errorf("second write changed %v (%v), want nothing", changed, err)
	}
}

package buildctx

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func TestIgnoreFileChoice(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".dockerignore", "secret.txt\n")
	write("api.Dockerfile.dockerignore", "docs\n")
	write("docs/a.md", "x")
	write("secret.txt", "x")
	write("sub/Dockerfile", "FROM scratch\n")
	write("sub/Dockerfile.dockerignore", "keep\n")

	shared, err := Open(dir, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if shared.IgnoreFile != ".dockerignore" || !shared.Ignored("secret.txt") || shared.Ignored("docs/a.md") {
		t.Errorf("Dockerfile: ignore file %q", shared.IgnoreFile)
	}
	own, err := Open(dir, "api.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if own.IgnoreFile != "api.Dockerfile.dockerignore" || !own.Ignored("docs/a.md") || own.Ignored("secret.txt") {
		t.Errorf("api.Dockerfile: ignore file %q", own.IgnoreFile)
	}
	// A Dockerfile outside the context brings its own ignore file along,
	// as BuildKit reads it beside the Dockerfile.
	outside, err := Open(dir, filepath.Join(dir, "sub", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !outside.Ignored("keep/x") || outside.Ignored("secret.txt") {
		t.Errorf("sub/Dockerfile: patterns %v", outside.IgnorePatterns)
	}
	if !shared.Sent("docs/a.md") || shared.Sent("secret.txt") || shared.Sent("missing") {
		t.Error("Sent disagrees with the ignore file")
	}
	if _, err := Open(filepath.Join(dir, "secret.txt"), ""); err == nil {
		t.Error("a file is not a build context")
	}
}

func TestCleanAndMemo(t *testing.T) {
	for in, want := range map[string]string{"./a/b/": "a/b", "/a": "a", ".": ".", "../x": "x", `a\b`: "a/b"} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	c, err := FromFS(fstest.MapFS{"a.tar": {Data: []byte("ustar")}}, ".", "")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for range 3 {
		if v := c.Memo("k", func() any { calls++; return 42 }); v.(int) != 42 {
			t.Fatal("Memo lost the value")
		}
	}
	if calls != 1 {
		t.Errorf("Memo computed %d times", calls)
	}
	if head, err := c.ReadHead("a.tar", 3); err != nil || string(head) != "ust" {
		t.Errorf("ReadHead = %q, %v", head, err)
	}
}

// A memoised scan may build on another memoised value of the context.
func TestMemoMayUseMemoForAnotherKey(t *testing.T) {
	c, err := FromFS(fstest.MapFS{}, ".", "")
	if err != nil {
		t.Fatal(err)
	}
	listing := func() any { return c.Memo("listing", func() any { return []string{"a"} }) }
	got := c.Memo("scan", func() any { return len(listing().([]string)) })
	if got.(int) != 1 || len(listing().([]string)) != 1 {
		t.Errorf("nested Memo = %v", got)
	}
}

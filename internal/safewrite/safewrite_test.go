package safewrite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// New files are readable by all; existing ones keep their mode; no
// temporary file is left behind; a missing folder is an error.
func TestFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, ".dockerignore")
	if err := File(fresh, []byte(".git\n"), dir); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("new file: %v, mode %v; want 0644", err, st.Mode())
	}
	kept := filepath.Join(dir, "Dockerfile")
	write(t, kept, "old\n", 0o600)
	if err := File(kept, []byte("new\n"), dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(kept); read(t, kept) != "new\n" || st.Mode().Perm() != 0o600 {
		t.Fatalf("existing file: %q, mode %v; want the new text with mode 0600 kept", read(t, kept), st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := File(filepath.Join(dir, "missing", ".dockerignore"), []byte("x"), dir); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

// A link to a file inside the repository: the file changes, keeps its
// mode, and the link stays a link to it.
func TestFileThroughLinkInside(t *testing.T) {
	repo := t.TempDir()
	target := filepath.Join(repo, "docker", "Dockerfile.prod")
	write(t, target, "old\n", 0o640)
	link := filepath.Join(repo, "Dockerfile")
	if err := os.Symlink("docker/Dockerfile.prod", link); err != nil {
		t.Fatal(err)
	}
	if err := File(link, []byte("new\n"), repo); err != nil {
		t.Fatal(err)
	}
	if dest, err := os.Readlink(link); err != nil || dest != "docker/Dockerfile.prod" {
		t.Errorf("link now %q (%v), want it kept", dest, err)
	}
	if st, _ := os.Stat(target); read(t, target) != "new\n" || st.Mode().Perm() != 0o640 {
		t.Errorf("target %q mode %v, want the new text with mode 0640", read(t, target), st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Join(repo, "docker"))
	if len(entries) != 1 {
		t.Errorf("temporary files left in the target's folder: %v", entries)
	}
}

// The git checkout around a file is its repository, even when the folder
// being processed is a subfolder of it.
func TestRootIsTheCheckout(t *testing.T) {
	repo := t.TempDir()
	write(t, filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n", 0o644)
	write(t, filepath.Join(repo, "shared", "Dockerfile"), "old\n", 0o644)
	svc := filepath.Join(repo, "services", "api")
	if err := os.MkdirAll(svc, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(svc, "Dockerfile")
	if err := os.Symlink("../../shared/Dockerfile", link); err != nil {
		t.Fatal(err)
	}
	if got := Root(link, svc); got != repo {
		t.Errorf("Root = %s, want the checkout %s", got, repo)
	}
	if err := File(link, []byte("new\n"), svc); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(repo, "shared", "Dockerfile")) != "new\n" {
		t.Error("the shared Dockerfile was not written")
	}
}

// Links that lead outside the repository, dangling links, loops, links to
// folders and links in a folder above the file are refused, and nothing is
// written.
func TestFileRefuses(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "home", ".bashrc")
	write(t, outside, "secret\n", 0o644)
	repo := filepath.Join(base, "repo")
	write(t, filepath.Join(repo, "app", "keep"), "", 0o644)
	for _, c := range []struct {
		name, dest, want string
	}{
		{"Dockerfile", "../home/.bashrc", "outside the repository"},
		{".dockerignore", outside, "outside the repository"},
		{"dangling", "missing/Dockerfile", "which does not exist"},
		{"loop", "loop", "leads back to itself"},
		{"folder", "app", "leads to the folder"},
	} {
		p := filepath.Join(repo, c.name)
		if err := os.Symlink(c.dest, p); err != nil {
			t.Fatal(err)
		}
		err := File(p, []byte("pwned\n"), repo)
		var refused *RefusedError
		if !errors.As(err, &refused) || !strings.Contains(err.Error(), c.want) || !strings.HasSuffix(err.Error(), "nothing was written") {
			t.Errorf("%s -> %s: error %v, want a refusal saying %q", c.name, c.dest, err, c.want)
		}
		if st, err := os.Lstat(p); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: the link was replaced", c.name)
		}
	}
	// A folder above the file is a link to a folder outside.
	if err := os.Symlink(filepath.Join(base, "home"), filepath.Join(repo, "conf")); err != nil {
		t.Fatal(err)
	}
	if err := File(filepath.Join(repo, "conf", ".bashrc"), []byte("pwned\n"), repo); err == nil {
		t.Error("a write through a linked folder to outside the repository succeeded")
	}
	if read(t, outside) != "secret\n" {
		t.Error("the file outside the repository changed")
	}
	// Files checks every target first: the good one is not written either.
	good := filepath.Join(repo, "good")
	err := Files([]Write{{good, []byte("x")}, {filepath.Join(repo, "Dockerfile"), []byte("y")}}, repo)
	if err == nil {
		t.Fatal("Files wrote through a link to outside")
	}
	if _, err := os.Stat(good); !os.IsNotExist(err) {
		t.Error("Files wrote the first file although the second was refused")
	}
}

func TestBrokenLink(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Dockerfile")
	if err := os.Symlink("gone", p); err != nil {
		t.Fatal(err)
	}
	if err := BrokenLink(p); err == nil || !strings.Contains(err.Error(), "symbolic link to gone, which does not exist") {
		t.Errorf("BrokenLink = %v", err)
	}
	write(t, filepath.Join(dir, "real"), "", 0o644)
	if err := BrokenLink(filepath.Join(dir, "real")); err != nil {
		t.Errorf("BrokenLink(regular file) = %v", err)
	}
}

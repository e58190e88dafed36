package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/templates"
)

func TestNewFlags(t *testing.T) {
	var got *NewOptions
	s := &Streams{In: new(bytes.Buffer), Out: new(bytes.Buffer), ErrOut: new(bytes.Buffer)}
	c := NewCmdNew(s, func(o *NewOptions) error { got = o; return nil })
	c.SetArgs([]string{"--lang", "go", "--framework", "gin", "--package-manager", "go", "--port", "9000",
		"--entrypoint", "./cmd/api", "--version", "1.26", "--variant", "go", "--templates", "tpl",
		"--compose", "-f", "--dry-run", "svc"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := NewOptions{Streams: s, Dir: "svc", Lang: "go", Framework: "gin", PackageManager: "go", Port: 9000,
		Entrypoint: "./cmd/api", Version: "1.26", Variant: "go", Templates: "tpl", Compose: true, Force: true, DryRun: true}
	if *got != want {
		t.Errorf("options %+v, want %+v", *got, want)
	}

	c = NewCmdNew(s, func(o *NewOptions) error { got = o; return nil })
	c.SetArgs(nil)
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Dir != "." {
		t.Errorf("default folder %q, want .", got.Dir)
	}
}

// TestWriteFilesRollsBack: when a write fails, the files the run created
// are removed and the ones that were there keep their content.
func TestWriteFilesRollsBack(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A folder where the .dockerignore should go makes its rename fail.
	if err := os.Mkdir(filepath.Join(dir, ".dockerignore"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeFiles(dir, []templates.File{
		{Name: "Dockerfile", Data: []byte("FROM scratch\n")},
		{Name: ".dockerignore", Data: []byte(".git\n")},
	})
	if err == nil {
		t.Fatal("no error writing over a folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); !os.IsNotExist(err) {
		t.Errorf("the Dockerfile this run created is still there (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "compose.yaml" && e.Name() != ".dockerignore" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin("docker", "build", "-t", "api", "my services/it's")
	if want := `docker build -t api 'my services/it'\''s'`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

package cmd

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/harden-dev/harden/transform"
)

func TestNewCmdCheckFlags(t *testing.T) {
	var got *CheckOptions
	c := NewCmdCheck(&Streams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(o *CheckOptions) error { got = o; return nil })
	c.SetArgs([]string{"-f", "sarif", "--fail-on", "error", "--only", "HD401,pipefail", "--skip", "DL3004", "--config", "ci.yaml", "--context", "ctx", "-r", "--all", "-j", "3", "a", "b"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := CheckOptions{Paths: []string{"a", "b"}, Format: "sarif", FailOn: "error", ContextDir: "ctx", Only: []string{"HD401", "pipefail"}, Skip: []string{"DL3004"}, ConfigFile: "ci.yaml", All: true, Recursive: true, Jobs: 3}
	if got == nil || !slices.Equal(got.Paths, want.Paths) || got.Format != want.Format || got.FailOn != want.FailOn || got.ContextDir != want.ContextDir ||
		!slices.Equal(got.Only, want.Only) || !slices.Equal(got.Skip, want.Skip) || got.ConfigFile != want.ConfigFile || got.All != want.All || got.Recursive != want.Recursive || got.Jobs != want.Jobs {
		t.Errorf("options = %+v, want %+v", got, want)
	}
}

func TestCheckDefaults(t *testing.T) {
	var got *CheckOptions
	c := NewCmdCheck(&Streams{}, func(o *CheckOptions) error { got = o; return nil })
	c.SetArgs([]string{"Dockerfile"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Format != "text" || got.FailOn != "warning" || got.ConfigFile != "" || got.Jobs < 1 {
		t.Errorf("defaults = %+v", got)
	}
}

func TestParseFailOn(t *testing.T) {
	for in, want := range map[string]transform.Severity{"error": transform.Error, "WARNING": transform.Warning, "warn": transform.Warning, "info": transform.Info} {
		if sev, on, err := parseFailOn(in); err != nil || !on || sev != want {
			t.Errorf("parseFailOn(%q) = %v, %v, %v", in, sev, on, err)
		}
	}
	if _, on, err := parseFailOn("none"); err != nil || on {
		t.Errorf("parseFailOn(none) = %v, %v", on, err)
	}
	if _, _, err := parseFailOn("fatal"); err == nil {
		t.Error("parseFailOn(fatal) succeeded")
	}
}

// TestCheckRunInProcess drives the whole command through Run, the way
// cmd/harden does, and checks the exit code and streams.
func TestCheckRunInProcess(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "Dockerfile", "FROM alpine:3.20\nUSER 10001\nHEALTHCHECK NONE\nRUN sudo true\n")
	var out, errOut bytes.Buffer
	s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
	if code := Run(s, []string{"check", "Dockerfile"}); code != ExitFound {
		t.Errorf("exit %d, want %d; stderr %s", code, ExitFound, errOut.String())
	}
	if want := "Dockerfile:4:5: warning: sudo in RUN"; !bytes.Contains(out.Bytes(), []byte(want)) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}
	out.Reset()
	if code := Run(s, []string{"check", "--fail-on", "error", "Dockerfile"}); code != ExitOK {
		t.Errorf("--fail-on error: exit %d, want 0", code)
	}
	if code := Run(s, []string{"check", "nope/Dockerfile"}); code != ExitFailure {
		t.Errorf("missing file: exit %d, want %d", code, ExitFailure)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

package cmd

import (
	"bytes"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestNewCmdReportFlags(t *testing.T) {
	var got *ReportOptions
	c := NewCmdReport(&Streams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(o *ReportOptions) error { got = o; return nil })
	c.SetArgs([]string{"--context", "ctx", "--buildkit-host", "tcp://bk:1234", "--build-arg", "A=1", "--build-arg", "B=x,y", "--target", "run",
		"--platform", "linux/arm64", "--no-cache", "--progress", "plain", "-f", "json", "--smoke", "id -u", "--oci-layout", "out",
		"--level", "safe", "--only", "HD101,HD409", "--skip", "HD502", "--config", "h.yaml", "-q", "svc"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Path != "svc" || got.ContextDir != "ctx" || got.BuildKitHost != "tcp://bk:1234" ||
		!slices.Equal(got.BuildArgs, []string{"A=1", "B=x,y"}) || got.Target != "run" || got.Platform != "linux/arm64" || !got.NoCache ||
		got.Progress != "plain" || got.Format != "json" || got.Smoke != "id -u" || got.NoSmoke || got.LayoutDir != "out" ||
		got.Level != "safe" || !slices.Equal(got.Only, []string{"HD101", "HD409"}) || !slices.Equal(got.Skip, []string{"HD502"}) ||
		got.ConfigFile != "h.yaml" || !got.Quiet {
		t.Errorf("options = %+v", got)
	}
}

func TestReportDefaults(t *testing.T) {
	var got *ReportOptions
	c := NewCmdReport(&Streams{}, func(o *ReportOptions) error { got = o; return nil })
	c.SetArgs([]string{"."})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Format != "text" || got.Progress != "auto" || got.Level != "structural" || got.NoSmoke || got.Smoke != "" || got.BuildKitHost != "" {
		t.Errorf("defaults = %+v", got)
	}
}

func TestParseBuildArgs(t *testing.T) {
	env := map[string]string{"FROM_ENV": "e", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := parseBuildArgs([]string{"A=1", "B=x=y", "C=", "FROM_ENV", "EMPTY"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "x=y", "C": "", "FROM_ENV": "e", "EMPTY": ""}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"=1", "UNSET"} {
		if _, err := parseBuildArgs([]string{bad}, lookup); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestReportUsageAndUnreachableExitTwo drives the command through Run: bad
// flags, and a BuildKit that is not there, exit 2 with a message that says
// what to do.
func TestReportUsageAndUnreachableExitTwo(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "Dockerfile", "FROM python:3.11\nCOPY . .\nRUN pip install flask\nCMD [\"python\", \"app.py\"]\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "-f", "sarif", "."}, `unknown format "sarif"`},
		{[]string{"report", "--progress", "fancy", "."}, `invalid progress mode "fancy"`},
		{[]string{"report", "--build-arg", "=x", "."}, "want KEY=VALUE"},
		{[]string{"report", "--smoke", "echo $HOME", "."}, "would happen on this machine"},
		{[]string{"report", "--smoke", "id", "--no-smoke", "."}, "none of the others can be"},
		{[]string{"report", "--level", "reckless", "."}, `unknown level "reckless"`},
		{[]string{"report", "missing"}, "no such file"},
		{[]string{"report", "-"}, "standard input needs --context"},
		{[]string{"report", "--buildkit-host", "unix://" + dir + "/none.sock", "."}, "cannot reach BuildKit at unix://" + dir + "/none.sock (from --buildkit-host)"},
		{[]string{"fix", "--build", "."}, "--build adds a size report to --pr-body"},
		{[]string{"fix", "--pr-body", "pr.md", "--build", "--buildkit-host", "unix://" + dir + "/none.sock", "."}, "cannot reach BuildKit at unix://"},
	} {
		var out, errOut bytes.Buffer
		s := &Streams{In: strings.NewReader("FROM alpine\n"), Out: &out, ErrOut: &errOut}
		if code := Run(s, tc.args); code != ExitFailure {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", tc.args, code, ExitFailure, errOut.String())
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: stderr lacks %q:\n%s", tc.args, tc.want, errOut.String())
		}
		if tc.args[0] == "report" && out.Len() > 0 {
			t.Errorf("%q: printed a report without builds:\n%s", tc.args, out.String())
		}
	}
}

// Without harden-build, report and fix --build say how to install it, exit
// 2, and report does not harden first only to fail after.
func TestBuildCommandsWithoutTheCompanion(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "Dockerfile", "FROM python:3.11\nCOPY . .\nRUN pip install flask\nCMD [\"python\", \"app.py\"]\n")
	t.Setenv("HARDEN_BUILD", dir+"/no-such-program")
	for _, args := range [][]string{{"report", "."}, {"fix", "--write", "--pr-body", "pr.md", "--build", "."}} {
		var out, errOut bytes.Buffer
		if code := Run(&Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); code != ExitFailure {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", args, code, ExitFailure, errOut.String())
		}
		if want := "HARDEN_BUILD=" + dir + "/no-such-program"; !strings.Contains(errOut.String(), want) {
			t.Errorf("%q: stderr lacks %q:\n%s", args, want, errOut.String())
		}
		if out.Len() > 0 || strings.Contains(errOut.String(), "(HD") {
			t.Errorf("%q: hardened or printed before finding harden-build:\nstdout:\n%s\nstderr:\n%s", args, out.String(), errOut.String())
		}
		if got, err := os.ReadFile("Dockerfile"); err != nil || !strings.Contains(string(got), "pip install flask\n") {
			t.Errorf("%q: the Dockerfile changed (%v):\n%s", args, err, got)
		}
		if _, err := os.Stat("pr.md"); err == nil {
			t.Errorf("%q: wrote pr.md", args)
		}
	}
}

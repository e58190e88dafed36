package buildjob

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeProgramEnv makes this test binary act as harden-build: it reads the
// job, echoes it to standard output, writes its kind to standard error and
// exits with the number in Target, so that Run's plumbing is tested with a
// real child process.
const fakeProgramEnv = "BUILDJOB_TEST_FAKE_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(fakeProgramEnv) == "1" {
		job, err := Decode(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(ExitError)
		}
		fmt.Fprintf(os.Stderr, "kind=%s\n", job.Kind)
		_ = Encode(os.Stdout, job)
		var code int
		fmt.Sscan(job.Target, &code)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func sampleJob() Job {
	return Job{
		Kind: KindReport, BuildKitHost: "tcp://bk:1234",
		Inputs: []Input{{
			Dockerfile: "svc/Dockerfile", ContextDir: "svc", Original: []byte("FROM a\n"), Hardened: []byte("FROM b\n\x00binary"),
			HardenedIgnore: []byte(".git\n"), Changes: 3,
		}},
		BuildArgs: map[string]string{"PY": "3.12"}, Target: "run", Platform: "linux/arm64", NoCache: true,
		Progress: ProgressPlain, Format: FormatJSON, LayoutDir: "out",
		Smoke: &Smoke{Command: "id -u", Required: true, Port: 8080, HTTPPath: "/health", Timeout: 45 * time.Second},
		TLS:   TLS{CACert: "/certs/ca.pem", Cert: "/certs/cert.pem", Key: "/certs/key.pem", ServerName: "bk"},
	}
}

func sampleVerifyJob() Job {
	j := sampleJob()
	j.Kind, j.Inputs, j.Format, j.LayoutDir = KindVerify, nil, "", ""
	j.BuildTimeout = 3 * time.Minute
	j.StopAt = StopAtWorking
	j.Candidates = []Candidate{
		{Name: "original", ContextDir: "svc", Dockerfile: []byte("FROM a\n")},
		{Name: "without non-root-user", ContextDir: "svc", Dockerfile: []byte("FROM b\n"), Ignore: []byte(".git\n")},
	}
	return j
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, job := range []Job{sampleJob(), sampleVerifyJob(), {Kind: KindProbe}, {Kind: KindResolve, Images: []string{"python:3.12-slim"}, Platform: "linux/arm64"}} {
		var buf bytes.Buffer
		if err := Encode(&buf, job); err != nil {
			t.Fatal(err)
		}
		if job.TLS.IsZero() && strings.Contains(buf.String(), `"tls"`) {
			t.Errorf("a job without TLS carries a tls key: %s", buf.String())
		}
		got, err := Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		job.Protocol = Protocol
		if !reflect.DeepEqual(got, job) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, job)
		}
	}
}

func TestDecodeRefusesWhatItCannotRun(t *testing.T) {
	encode := func(edit func(*Job)) string {
		j := sampleJob()
		edit(&j)
		var buf bytes.Buffer
		if err := Encode(&buf, j); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	for name, tc := range map[string]struct{ in, want string }{
		"empty":                     {"", "no job on standard input"},
		"not json":                  {"FROM alpine\n", "same release"},
		"older protocol":            {`{"protocol":1,"kind":"report","inputs":[{}]}`, fmt.Sprintf("protocol version 1, this harden-build reads version %d: install harden and harden-build from the same release", Protocol)},
		"resolve without images":    {encode(func(j *Job) { *j = Job{Kind: KindResolve} }), "a resolve job has no images"},
		"verify without candidates": {encode(func(j *Job) { j.Kind = KindVerify }), "a verify job has no candidates"},
		"verify, bad stop":          {encode(func(j *Job) { *j = sampleVerifyJob(); j.StopAt = "never" }), `unknown stop_at "never"`},
		"unknown field":             {fmt.Sprintf(`{"protocol":%d,"kind":"report","inputs":[{}],"shiny":true}`, Protocol), "same release"},
		"unknown kind":              {encode(func(j *Job) { j.Kind = "deploy" }), `unknown job kind "deploy"`},
		"report of two":             {encode(func(j *Job) { j.Inputs = append(j.Inputs, j.Inputs[0]) }), "has 2"},
		"bad progress":              {encode(func(j *Job) { j.Progress = "fancy" }), `invalid progress mode "fancy"`},
		"bad format":                {encode(func(j *Job) { j.Format = "sarif" }), `unknown format "sarif"`},
		"pull request, bad format":  {encode(func(j *Job) { j.Kind = KindPullRequest; j.Inputs = nil; j.Format = "xml" }), `unknown format "xml"`},
	} {
		if _, err := Decode(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestParseFormatAndProgress(t *testing.T) {
	for in, want := range map[string]Format{"text": FormatText, "markdown": FormatMarkdown, "md": FormatMarkdown, "json": FormatJSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("sarif"); err == nil {
		t.Error("sarif accepted as a report format")
	}
	for in, want := range map[string]Progress{"": ProgressAuto, "auto": ProgressAuto, "plain": ProgressPlain, "tty": ProgressTTY, "quiet": ProgressQuiet} {
		if got, err := ParseProgress(in); err != nil || got != want {
			t.Errorf("ParseProgress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseProgress("rawjson"); err == nil {
		t.Error("rawjson is not a harden progress mode")
	}
}

func writeProgram(t *testing.T, dir string) string {
	t.Helper()
	name := Program
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindPrefersTheVariableThenPath(t *testing.T) {
	onPath := writeProgram(t, t.TempDir())
	t.Setenv("PATH", filepath.Dir(onPath))
	t.Setenv(ProgramEnv, "")
	// The test binary's own folder holds no harden-build, so PATH decides.
	if got, err := Find(); err != nil || got != onPath {
		t.Errorf("Find() = %q, %v; want %q from PATH", got, err, onPath)
	}
	named := writeProgram(t, t.TempDir())
	t.Setenv(ProgramEnv, named)
	if got, err := Find(); err != nil || got != named {
		t.Errorf("Find() = %q, %v; want %q from %s", got, err, named, ProgramEnv)
	}
	t.Setenv(ProgramEnv, filepath.Dir(named))
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("%s naming a folder: err = %v", ProgramEnv, err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(named, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv(ProgramEnv, named)
		if _, err := Find(); err == nil || !strings.Contains(err.Error(), "not executable") {
			t.Errorf("%s naming a plain file: err = %v", ProgramEnv, err)
		}
	}
}

func TestFindSaysHowToInstall(t *testing.T) {
	t.Setenv(ProgramEnv, "")
	t.Setenv("PATH", t.TempDir())
	_, err := Find()
	if err == nil {
		t.Fatal("found a harden-build on an empty PATH")
	}
	for _, want := range []string{"go install github.com/harden-dev/harden/cmd/...@latest", "make install", ProgramEnv, "beside "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestRunPassesTheJobStreamsAndExitCode(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary to act as harden-build: %v", err)
	}
	t.Setenv(ProgramEnv, self)
	t.Setenv(fakeProgramEnv, "1")
	for _, code := range []int{ExitOK, ExitFailed, ExitError} {
		job := sampleJob()
		job.Target = fmt.Sprint(code)
		var out, errOut bytes.Buffer
		got, err := Run(job, &out, &errOut)
		if err != nil || got != code {
			t.Fatalf("Run = %d, %v; want %d\nstderr:\n%s", got, err, code, errOut.String())
		}
		echoed, err := Decode(&out)
		if err != nil {
			t.Fatalf("the program's standard output is not the job it was given: %v", err)
		}
		job.Protocol = Protocol
		if !reflect.DeepEqual(echoed, job) {
			t.Errorf("the program read\n%+v\nwant\n%+v", echoed, job)
		}
		if errOut.String() != "kind=report\n" {
			t.Errorf("stderr = %q, want the program's own", errOut.String())
		}
	}
}

func TestRunWithoutTheProgram(t *testing.T) {
	t.Setenv(ProgramEnv, filepath.Join(t.TempDir(), "gone"))
	code, err := Run(sampleJob(), io.Discard, io.Discard)
	if err == nil || code != ExitError {
		t.Errorf("Run = %d, %v; want ExitError and an error", code, err)
	}
}

func TestRunJSONDecodesTheAnswer(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary to act as harden-build: %v", err)
	}
	t.Setenv(ProgramEnv, self)
	t.Setenv(fakeProgramEnv, "1")
	var echoed Job
	var errOut bytes.Buffer
	code, err := RunJSON(sampleVerifyJob(), &echoed, &errOut)
	if err != nil || code != ExitOK || len(echoed.Candidates) != 2 || echoed.Candidates[1].Name != "without non-root-user" {
		t.Errorf("RunJSON = %d, %v; decoded %+v", code, err, echoed)
	}
	var wrong []int
	if _, err := RunJSON(sampleVerifyJob(), &wrong, &errOut); err == nil || !strings.Contains(err.Error(), "same release") {
		t.Errorf("an answer of another shape: %v", err)
	}
	j := sampleVerifyJob()
	j.Target = "2"
	if code, err := RunJSON(j, &echoed, &errOut); code != ExitError || err != nil {
		t.Errorf("harden-build failing with ExitError: %d, %v (its stderr says why)", code, err)
	}
}

// TestResolveNeedsTheSameRelease: a resolve job is stamped with protocol 3,
// so a harden-build of protocol 2, from before the resolve kind, refuses it
// by its version with the advice to install both from one release, rather
// than as an unknown kind; this harden-build refuses a version 2 job alike.
func TestResolveNeedsTheSameRelease(t *testing.T) {
	if Protocol < 3 {
		t.Fatalf("the resolve kind came with protocol 3, Protocol is %d", Protocol)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, Job{Kind: KindResolve, Images: []string{"python:3.12-slim"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), fmt.Sprintf(`"protocol":%d`, Protocol)) {
		t.Errorf("the job is not stamped with protocol %d: %s", Protocol, buf.String())
	}
	old := strings.Replace(buf.String(), fmt.Sprintf(`"protocol":%d`, Protocol), `"protocol":2`, 1)
	if _, err := Decode(strings.NewReader(old)); err == nil || !strings.Contains(err.Error(), "install harden and harden-build from the same release") {
		t.Errorf("a version 2 resolve job: err = %v", err)
	}
}

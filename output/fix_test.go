package output

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harden-dev/harden/internal/golden"
	"github.com/harden-dev/harden/transform"
)

const sizeReport = "### Image size\n\n| | Before | After |\n| --- | ---: | ---: |\n| Compressed | 412 MB | 61 MB |\n"

// fixRun fixes every fixture the way harden fix does and describes it.
func fixRun(t *testing.T, srcs map[string][]byte) []FixFile {
	t.Helper()
	var out []FixFile
	for _, fx := range fixtures {
		src := srcs[fx.path]
		if src == nil {
			src = []byte(fx.src)
		}
		res, err := transform.Fix(fx.path, src, transform.Options{Rules: testRules, Level: transform.LevelStructural})
		out = append(out, FixFile{Path: fx.path, Result: res, Err: err})
	}
	return out
}

func TestPRBodyAndFixJSON(t *testing.T) {
	first := fixRun(t, nil)
	first[0].Written = []WrittenFile{{Path: "services/api/.dockerignore", Description: "keeps .git, .env files and caches out of the build context"}}
	if !AnyChanged(first) {
		t.Fatal("the fixtures should change")
	}
	var body, js bytes.Buffer
	if err := PRBody(&body, first, sizeReport); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "pr_body.md"), body.Bytes())
	if err := FixJSON(&js, DefaultTool("v0.0.0-test"), first); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "fix.json"), js.Bytes())

	// A bot re-running on its own branch must find nothing to do, so that
	// it never opens the same pull request twice.
	fixed := map[string][]byte{}
	for _, f := range first {
		if f.Err == nil {
			fixed[f.Path] = f.Result.Output
		}
	}
	second := fixRun(t, fixed)
	if AnyChanged(second) {
		t.Fatal("a second fix run changed something")
	}
	body.Reset()
	if err := PRBody(&body, second, ""); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "pr_body_second_run.md"), body.Bytes())
	if !strings.Contains(body.String(), "Nothing to change in 2 Dockerfiles.") {
		t.Errorf("second run body does not say there is nothing to change:\n%s", body.String())
	}
	again := bytes.Buffer{}
	if err := PRBody(&again, second, ""); err != nil || again.String() != body.String() {
		t.Errorf("PRBody is not deterministic")
	}
	js.Reset()
	if err := FixJSON(&js, DefaultTool("v0.0.0-test"), second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), "\"changed\": false,\n  \"files\"") {
		t.Errorf("second run JSON should say changed: false:\n%s", js.String())
	}
}

func TestPRBodyAllClean(t *testing.T) {
	res, err := transform.Fix("Dockerfile", []byte(fixtures[1].src), transform.Options{Rules: testRules, Level: transform.LevelStructural})
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if err := PRBody(&body, []FixFile{{Path: "Dockerfile", Result: res}}, ""); err != nil {
		t.Fatal(err)
	}
	want := "## Harden Dockerfiles\n\nNothing to change in 1 Dockerfile.\n\n---\n" +
		"<sub>Made by [harden](https://github.com/harden-dev/harden). Review it like a colleague's change; " +
		"running `harden fix --write` again on this branch changes nothing.</sub>\n"
	if body.String() != want {
		t.Errorf("got\n%s\nwant\n%s", body.String(), want)
	}
}

func TestChangesByLine(t *testing.T) {
	in := []transform.Change{{Line: 6, Description: "a"}, {Line: 3, Description: "b"}, {Line: 6, Description: "c"}, {Line: 4, Description: "d"}}
	var got string
	for _, c := range byLine(in) {
		got += c.Description
	}
	if got != "bdac" {
		t.Errorf("order %q, want bdac (by line, stable)", got)
	}
	if in[0].Description != "a" {
		t.Error("byLine reordered its input")
	}
}

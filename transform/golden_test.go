package transform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/internal/golden"
)

// Golden cases live beside the rules: testdata/<rule-name>/<case>/ holds a
// Dockerfile (before), Dockerfile.golden (after, with only that rule run)
// and findings.golden (changes and open findings). A digests.txt gives the
// digests that fix --build would have looked up through BuildKit (see
// readDigests). Any other file in the case folder is build context.
func TestRuleGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		ruleName := filepath.Base(dir)
		if ruleName == "fuzz" {
			continue // the fuzzer's corpus of past failures
		}
		rule, ok := Lookup(ruleName)
		if !ok || rule.Name != ruleName {
			t.Errorf("%s: folder does not name a rule", dir)
			continue
		}
		seen[rule.Name] = true
		cases, _ := filepath.Glob(filepath.Join(dir, "*", "Dockerfile"))
		if len(cases) == 0 {
			t.Errorf("%s: no cases", dir)
		}
		for _, df := range cases {
			caseDir := filepath.Dir(df)
			t.Run(rule.Name+"/"+filepath.Base(caseDir), func(t *testing.T) {
				runGoldenCase(t, caseDir, Options{Rules: []*Rule{rule}, Level: LevelStructural})
			})
		}
	}
	for _, r := range All() {
		if !seen[r.Name] {
			t.Errorf("rule %s has no golden cases under testdata/%s", r.ID, r.Name)
		}
	}
}

func runGoldenCase(t *testing.T, caseDir string, opts Options) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(caseDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(caseDir, "NO_CONTEXT")); err != nil {
		ctx, err := buildctx.Open(caseDir, "Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		opts.Context = ctx
	}
	if opts.Digests, err = readDigests(caseDir); err != nil {
		t.Fatal(err)
	}
	res, err := Fix("Dockerfile", src, opts)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join(caseDir, "Dockerfile.golden"), res.Output)
	golden.Check(t, filepath.Join(caseDir, "findings.golden"), []byte(describe(res)))
}

// readDigests reads a case's digests.txt into Options.Digests, standing in
// for the lookups harden-build makes through BuildKit: one image reference
// a line, then its digest or "failed:" and the reason; # starts a comment.
// No file means no lookups were made (nil), as in plain harden fix.
//
//	python:3.12-slim sha256:4c...
//	python:3.13-slim failed: python:3.13-slim: not found
func readDigests(dir string) (map[string]Resolved, error) {
	data, err := os.ReadFile(filepath.Join(dir, "digests.txt"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	out := map[string]Resolved{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ref, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.HasPrefix(rest, "failed:"):
			out[ref] = Resolved{Failure: strings.TrimSpace(strings.TrimPrefix(rest, "failed:"))}
		case strings.HasPrefix(rest, "sha256:") && len(rest) == len("sha256:")+64:
			out[ref] = Resolved{Digest: rest}
		default:
			return nil, fmt.Errorf("%s/digests.txt:%d: want REF sha256:<64 hex> or REF failed: REASON, not %q", dir, i+1, line)
		}
	}
	return out, nil
}

// describe renders a result's changes and open findings, one per line.
func describe(res *Result) string {
	var b strings.Builder
	for _, c := range res.Changes {
		fmt.Fprintf(&b, "change %d-%d %s: %s\n", c.Line, c.EndLine, c.Rule.Name, c.Description)
	}
	for _, f := range res.Findings {
		fix := ""
		if f.Fix != nil {
			fix = " [fix]"
		}
		fmt.Fprintf(&b, "finding %d:%d %s %s%s: %s\n", f.Line, f.Column, f.Severity, f.Rule.Name, fix, f.Message)
	}
	return b.String()
}

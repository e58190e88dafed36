package transform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/internal/golden"
)

// Golden cases live beside the rules: testdata/<rule-name>/<case>/ holds a
// Dockerfile (before), Dockerfile.golden (after, with only that rule run)
// and findings.golden (changes and open findings). Any other file in the
// case folder is build context.
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
	res, err := Fix("Dockerfile", src, opts)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join(caseDir, "Dockerfile.golden"), res.Output)
	golden.Check(t, filepath.Join(caseDir, "findings.golden"), []byte(describe(res)))
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

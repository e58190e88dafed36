// Command ruledocs writes docs/rules: one Markdown page per rule and an
// index, generated from the rule values in package transform, so that the
// documentation says exactly what `harden rules RULE` and SARIF's help say.
// The test beside it fails when the pages are stale.
//
//	go generate ./internal/ruledocs    (or: go run ./internal/ruledocs)
package main

//go:generate go run . -dir ../../docs/rules

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/harden-dev/harden/output"
	"github.com/harden-dev/harden/transform"
)

// indexPage is the name of the table of all rules.
const indexPage = "README.md"

// pages returns every generated file by name.
func pages(rules []*transform.Rule) map[string][]byte {
	out := map[string][]byte{indexPage: []byte(output.RuleIndexMarkdown(rules))}
	for _, r := range rules {
		out[r.Name+".md"] = []byte(output.RuleMarkdown(r))
	}
	return out
}

// write brings dir in line with want: it writes changed pages and removes
// Markdown files no rule generates any more. It returns what it changed.
func write(dir string, want map[string][]byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var changed []string
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, name)
		if have, err := os.ReadFile(p); err == nil && bytes.Equal(have, want[name]) {
			continue
		}
		if err := os.WriteFile(p, want[name], 0o644); err != nil {
			return changed, err
		}
		changed = append(changed, "wrote "+p)
	}
	stale, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return changed, err
	}
	for _, p := range stale {
		if _, ok := want[filepath.Base(p)]; !ok {
			if err := os.Remove(p); err != nil {
				return changed, err
			}
			changed = append(changed, "removed "+p)
		}
	}
	return changed, nil
}

func main() {
	dir := flag.String("dir", filepath.Join("docs", "rules"), "folder to write the rule pages to")
	flag.Parse()
	changed, err := write(*dir, pages(transform.All()))
	if len(changed) > 0 {
		fmt.Println(strings.Join(changed, "\n"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ruledocs:", err)
		os.Exit(1)
	}
}

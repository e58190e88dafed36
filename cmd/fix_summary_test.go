package cmd

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/transform"
)

// TestFixSummaryCountsTheList runs harden fix's summary over every
// ecosystem case and checks that the counts on its last line match the
// findings listed above it (warnings and errors) and the info findings the
// engine left, which are counted but not listed.
func TestFixSummaryCountsTheList(t *testing.T) {
	cases, err := filepath.Glob("../testdata/ecosystems/*/*/Dockerfile")
	if err != nil || len(cases) < 20 {
		t.Fatalf("ecosystem cases: %d, %v", len(cases), err)
	}
	var cfg *config.Config
	rules, err := transform.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`: (nothing to change|\d+ changes?)(?:; (\d+) findings? left for you)?(?:; (\d+) info findings?)?(?: \(harden check .*\))?$`)
	for _, df := range cases {
		name, _ := filepath.Rel("../testdata/ecosystems", filepath.Dir(df))
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			opts := &FixOptions{Streams: &Streams{In: new(bytes.Buffer), Out: new(bytes.Buffer), ErrOut: new(bytes.Buffer)}}
			r := fixTarget(target{path: df, root: filepath.Dir(df)}, opts, cfg, rules, transform.LevelStructural, nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			var out bytes.Buffer
			summarize(&out, r)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			listed, warnings, infos := 0, 0, 0
			for _, l := range lines {
				if strings.Contains(l, ": warning: ") || strings.Contains(l, ": error: ") {
					listed++
				}
			}
			for _, f := range r.res.Findings {
				if f.Severity >= transform.Warning {
					warnings++
				} else {
					infos++
				}
			}
			if listed != warnings {
				t.Errorf("%d findings listed, %d warnings and errors left:\n%s", listed, warnings, out.String())
			}
			last := lines[len(lines)-1]
			m := summary.FindStringSubmatch(last)
			if m == nil {
				if len(r.res.Findings) == 0 && len(r.res.Changes) > 0 {
					return // the changes say it all: no summary line
				}
				t.Fatalf("no summary line:\n%s", out.String())
			}
			left, _ := strconv.Atoi(m[2])
			info, _ := strconv.Atoi(m[3])
			if left != listed || info != infos {
				t.Errorf("the summary says %d left and %d info, the list has %d and the engine left %d info:\n%s", left, info, listed, infos, out.String())
			}
		})
	}
}

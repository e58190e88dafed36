package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harden-dev/harden/transform"
)

// TestFixLooksUpOnlyWhatLostAPin: fix asks its lookup for the runtime
// images the first run left without the base's pin, once, and runs again
// with the answers: a digest pins the runtime, a failure keeps the tag and
// says why. The digests stay in the options that fix --verify's variants
// reuse. A file that lost no pin asks nothing.
func TestFixLooksUpOnlyWhatLostAPin(t *testing.T) {
	pinned := "FROM python:3.12@sha256:" + strings.Repeat("0a", 32) + "\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
	digest := "sha256:" + strings.Repeat("1b", 32)
	for _, tc := range []struct {
		name, src string
		answer    transform.Resolved
		asked     []string
		wantFrom  string
		wantWords string
	}{
		{"found", pinned, transform.Resolved{Digest: digest}, []string{"python:3.12-slim"},
			"FROM python:3.12-slim@" + digest + "\n", "python:3.12-slim is pinned to " + digest + ", the digest BuildKit resolved for that tag on the day of this build"},
		{"failed", pinned, transform.Resolved{Failure: "docker.io/library/python:3.12-slim: not found"}, []string{"python:3.12-slim"},
			"FROM python:3.12-slim\n", "python:3.12-slim is pinned by tag only, not by digest as python:3.12 was; looking up the digest of python:3.12-slim through BuildKit failed: docker.io/library/python:3.12-slim: not found"},
		{"nothing lost", strings.Replace(pinned, "@sha256:"+strings.Repeat("0a", 32), "", 1), transform.Resolved{}, nil,
			"FROM python:3.12-slim\n", "a python:3.12-slim runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range map[string]string{"Dockerfile": tc.src, "requirements.txt": "flask\n", "app.py": "print(1)\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var asked [][]string
			lookup := func(refs []string) map[string]transform.Resolved {
				asked = append(asked, refs)
				out := map[string]transform.Resolved{}
				for _, r := range refs {
					out[r] = tc.answer
				}
				return out
			}
			rules, err := transform.Select(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			opts := &FixOptions{Streams: &Streams{In: new(bytes.Buffer), Out: new(bytes.Buffer), ErrOut: new(bytes.Buffer)}}
			df := filepath.Join(dir, "Dockerfile")
			r := fixTarget(target{path: df, root: dir}, opts, nil, rules, transform.LevelStructural, lookup)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if tc.asked == nil && len(asked) != 0 || tc.asked != nil && (len(asked) != 1 || !slices.Equal(asked[0], tc.asked)) {
				t.Errorf("asked %q, want %q once", asked, tc.asked)
			}
			if !strings.Contains(string(r.res.Output), "\n"+tc.wantFrom) {
				t.Errorf("the runtime is not %q:\n%s", tc.wantFrom, r.res.Output)
			}
			var summary bytes.Buffer
			summarize(&summary, r)
			if !strings.Contains(summary.String(), tc.wantWords) {
				t.Errorf("the summary lacks %q:\n%s", tc.wantWords, summary.String())
			}
			if tc.asked != nil && r.prep.options.Digests[tc.asked[0]] != tc.answer {
				t.Errorf("the options keep %+v, not the answer", r.prep.options.Digests)
			}
		})
	}
}

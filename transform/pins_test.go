package transform

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harden-dev/harden/buildctx"
)

// TestUnpinnedNamesWhatLostAPin: a first run lists the runtime images it
// wrote (or would write) by tag only for a base pinned by digest, which
// harden then looks up; a run with their digests pins them and lists
// nothing, and a failed lookup leaves the reference listed.
func TestUnpinnedNamesWhatLostAPin(t *testing.T) {
	pin := "@sha256:" + strings.Repeat("0a", 32)
	resolved := "sha256:" + strings.Repeat("1b", 32)
	for _, tc := range []struct {
		name, src, ref string
		rule           *Rule
	}{
		{"split", "FROM python:3.12" + pin + "\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n", "python:3.12-slim", MultiStageBuild},
		{"slim swap", "FROM python:3.11" + pin + "\nWORKDIR /app\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n", "python:3.11-slim", SlimBase},
		{"nginx left alone", "FROM nginx:1.27-alpine" + pin + "\nCOPY dist/ /usr/share/nginx/html/\nEXPOSE 80\n", "nginxinc/nginx-unprivileged:1.27-alpine", NginxUnprivileged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{"app.py", "requirements.txt"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, err := buildctx.Open(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Rules: []*Rule{tc.rule}, Level: LevelStructural, Context: ctx}
			first, err := Fix("Dockerfile", []byte(tc.src), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(first.Unpinned, []string{tc.ref}) {
				t.Fatalf("Unpinned = %q, want [%s]\n%s", first.Unpinned, tc.ref, first.Output)
			}

			opts.Digests = map[string]Resolved{tc.ref: {Failure: "not found"}}
			failed, err := Fix("Dockerfile", []byte(tc.src), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(failed.Unpinned, []string{tc.ref}) || string(failed.Output) != string(first.Output) {
				t.Errorf("a failed lookup must change nothing but the words: Unpinned %q\n%s", failed.Unpinned, failed.Output)
			}

			opts.Digests = map[string]Resolved{tc.ref: {Digest: resolved}}
			second, err := Fix("Dockerfile", []byte(tc.src), opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(second.Unpinned) != 0 || !strings.Contains(string(second.Output), "FROM "+tc.ref+"@"+resolved+"\n") {
				t.Errorf("with its digest the runtime is pinned: Unpinned %q\n%s", second.Unpinned, second.Output)
			}
			if len(second.Changes) != 1 || !strings.Contains(second.Changes[0].Description, tc.ref+" is pinned to "+resolved+", the digest BuildKit resolved") {
				t.Errorf("the change must name the digest: %+v", second.Changes)
			}
		})
	}
}

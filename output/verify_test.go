package output

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harden-dev/harden/internal/golden"
	"github.com/harden-dev/harden/transform"
)

// verifiedRun is a fix --verify run: the first file lost its user to a
// failed start and its ignore file to a failed build, the second could
// not be verified because its original does not start.
func verifiedRun(t *testing.T) []FixFile {
	t.Helper()
	files := fixRun(t, nil)
	files[0].Verification = &Verification{
		Status:   "reduced",
		Checks:   []string{"builds", "starts (port 8080/tcp accepted a connection, as uid 0)"},
		Original: "builds and starts (port 8080/tcp accepted a connection, as uid 0)",
		Dropped: []DroppedChange{
			{Changes: []string{"the .dockerignore harden would write"}, Tried: "the original with the generated .dockerignore",
				Reason: "failed to build at [3/4] COPY config.yaml .: failed to compute cache key: \"/config.yaml\": not found",
				Step:   "[3/4] COPY config.yaml .", Log: []string{"ERROR: failed to compute cache key"}},
			{Rule: transform.NonRootUser, Changes: []string{"line 1: the app now runs as app (uid 10001)"}, Tried: "the full rewrite",
				Reason: "built but failed the smoke check (tcp port 8080): the process exited before port 8080 answered",
				Log:    []string{"PermissionError: [Errno 13] Permission denied: '/var/lib/tally'", "```"}},
		},
		Builds: 5, Rounds: 4,
	}
	res := *files[1].Result
	res.Output, res.Changes = res.Input, nil
	files[1].Result = &res
	files[1].Verification = &Verification{Status: "original-failed",
		Original:    "the original image failed to build at [3/5] RUN npm ci: process \"/bin/sh -c npm ci\" did not complete successfully: exit code: 1",
		OriginalLog: []string{"npm ERR! The `npm ci` command can only install with an existing package-lock.json"},
		Note:        "The images could not be started on the machine that ran harden (smoke check unavailable: must run as root): only the builds were verified.",
		Builds:      1, Rounds: 1}
	return files
}

func TestPRBodyAndJSONSayWhatVerifyProved(t *testing.T) {
	files := verifiedRun(t)
	var body bytes.Buffer
	if err := PRBody(&body, files, ""); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "pr_body_verify.md"), body.Bytes())
	md := body.String()
	for _, want := range []string{
		"**Verified with BuildKit:** the proposed file builds and starts (port 8080/tcp accepted a connection, as uid 0); the original builds and starts",
		"**Nothing proposed.** The original image failed to build at [3/5] RUN npm ci",
		"````text\n", // the log holds a fence of three
		"running `harden fix --verify --write` again on this branch changes nothing",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("PR body lacks %q", want)
		}
	}

	var js bytes.Buffer
	if err := FixJSON(&js, DefaultTool("v0.0.0-test"), files); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			Changed      bool
			Verification *struct {
				Status  string
				Checks  []string
				Dropped []struct {
					RuleID, RuleName, What, Tried, Reason, Step string
					Changes, Log                                []string
				}
				Builds, Rounds int
			}
		}
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	v := doc.Files[0].Verification
	if v == nil || v.Status != "reduced" || len(v.Checks) != 2 || len(v.Dropped) != 2 || v.Builds != 5 || v.Rounds != 4 {
		t.Fatalf("verification: %+v", v)
	}
	if d := v.Dropped[0]; d.RuleID != "" || d.What != "the generated .dockerignore" || d.Step != "[3/4] COPY config.yaml ." {
		t.Errorf("ignore file dropped: %+v", d)
	}
	if d := v.Dropped[1]; d.RuleID != "HD409" || d.RuleName != "non-root-user" || len(d.Log) != 2 || d.Tried != "the full rewrite" {
		t.Errorf("user dropped: %+v", d)
	}
	if f := doc.Files[1]; f.Changed || f.Verification == nil || f.Verification.Status != "original-failed" {
		t.Errorf("broken original: %+v", f)
	}

	// Without --verify the JSON has no verification key at all.
	js.Reset()
	if err := FixJSON(&js, DefaultTool("v0.0.0-test"), fixRun(t, nil)); err != nil || strings.Contains(js.String(), "verification") {
		t.Errorf("plain fix JSON mentions verification (%v)", err)
	}
}

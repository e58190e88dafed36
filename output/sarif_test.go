package output

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/transform"
)

// The structure GitHub code scanning reads, decoded strictly enough that a
// missing or misspelt field fails the test.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name            string `json:"name"`
				Version         string `json:"version"`
				SemanticVersion string `json:"semanticVersion"`
				InformationURI  string `json:"informationUri"`
				Rules           []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					FullDescription struct {
						Text string `json:"text"`
					} `json:"fullDescription"`
					Help struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					HelpURI              string `json:"helpUri"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
						Hadolint         []string `json:"hadolint"`
						Safety           string   `json:"safety"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
						Region           *sarifRegion     `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		ColumnKind string `json:"columnKind"`
		Results    []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex *int   `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
					Region           *sarifRegion     `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			Fixes []struct {
				Description struct {
					Text string `json:"text"`
				} `json:"description"`
				ArtifactChanges []struct {
					ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
					Replacements     []struct {
						DeletedRegion   sarifRegion `json:"deletedRegion"`
						InsertedContent *struct {
							Text string `json:"text"`
						} `json:"insertedContent"`
					} `json:"replacements"`
				} `json:"artifactChanges"`
			} `json:"fixes"`
		} `json:"results"`
	} `json:"runs"`
}

var sarifLevels = map[string]bool{"none": true, "note": true, "warning": true, "error": true}

// TestSARIFStructure checks what GitHub code scanning requires of an
// upload: version and tool, a rule table with unique IDs and descriptions,
// results whose ruleIndex points at their rule, valid levels, physical
// locations with 1-based regions under a declared base URI, and fixes whose
// replacements, replayed on the file, give exactly what harden fix writes.
func TestSARIFStructure(t *testing.T) {
	r := fixtureReport(t)
	// Real rules this time: the structure must hold for all of them.
	r.Rules = nil
	for i := range r.Files {
		if r.Files[i].Err == nil {
			var err error
			r.Files[i].Findings, err = transform.Check(r.Files[i].Path, r.Files[i].Src, transform.Options{Level: transform.LevelStructural})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	src := "FROM python:3.12-slim\nRUN echo \"Grüße\" && pip install flask && apt-get install curl\nCMD python app.py\n"
	f := File{Path: "utf8/Dockerfile", Src: []byte(src)}
	f.Findings, f.Err = transform.Check(f.Path, f.Src, transform.Options{Level: transform.LevelStructural})
	if f.Err != nil {
		t.Fatal(f.Err)
	}
	r.Files = append(r.Files, f)

	var buf bytes.Buffer
	if err := WriteFindings(&buf, SARIF, r); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	var doc sarifDoc
	if err := dec.Decode(&doc); err != nil {
		// Unknown fields are fine for SARIF, but this test should know
		// every field harden writes.
		if !strings.Contains(err.Error(), "unknown field") {
			t.Fatal(err)
		}
		t.Fatalf("output has a field the structural test does not check: %v", err)
	}
	if doc.Version != "2.1.0" || !strings.HasPrefix(doc.Schema, "https://") || len(doc.Runs) != 1 {
		t.Fatalf("version %q, schema %q, %d runs", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	d := run.Tool.Driver
	if d.Name != "harden" || d.Version != "0.0.0-test" || d.SemanticVersion != "0.0.0-test" || !strings.HasPrefix(d.InformationURI, "https://") {
		t.Errorf("tool.driver = %q %q %q", d.Name, d.Version, d.InformationURI)
	}
	// The broken fixture must show up as a failed invocation at its line.
	if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful {
		t.Errorf("invocations = %+v, want one that did not succeed", run.Invocations)
	} else if n := run.Invocations[0].ToolExecutionNotifications; len(n) != 1 || n[0].Level != "error" ||
		n[0].Locations[0].PhysicalLocation.ArtifactLocation.URI != "broken/Dockerfile" || n[0].Locations[0].PhysicalLocation.Region.StartLine != 1 {
		t.Errorf("notifications = %+v", n)
	}
	if run.ColumnKind != "utf16CodeUnits" {
		t.Errorf("columnKind = %q", run.ColumnKind)
	}
	if len(d.Rules) != len(transform.All()) {
		t.Errorf("%d rules in the table, want every rule (%d)", len(d.Rules), len(transform.All()))
	}
	ids := map[string]bool{}
	securityRules := 0
	for i, rule := range d.Rules {
		if rule.ID == "" || ids[rule.ID] {
			t.Errorf("rules[%d]: empty or duplicate id %q", i, rule.ID)
		}
		ids[rule.ID] = true
		if rule.Name == "" || rule.ShortDescription.Text == "" || rule.FullDescription.Text == "" || rule.Help.Text == "" || rule.Help.Markdown == "" {
			t.Errorf("rules[%d] %s: name, descriptions and help must all be set", i, rule.ID)
		}
		if u, err := url.Parse(rule.HelpURI); err != nil || u.Scheme != "https" {
			t.Errorf("rules[%d] %s: helpUri %q", i, rule.ID, rule.HelpURI)
		}
		if !sarifLevels[rule.DefaultConfiguration.Level] {
			t.Errorf("rules[%d] %s: level %q", i, rule.ID, rule.DefaultConfiguration.Level)
		}
		if len(rule.Properties.Tags) == 0 || len(rule.Properties.Tags) > 20 {
			t.Errorf("rules[%d] %s: %d tags (GitHub reads at most 20)", i, rule.ID, len(rule.Properties.Tags))
		}
		// GitHub files a result as a security alert, with this severity,
		// only when the rule has both the tag and a score in range.
		security := slices.Contains(rule.Properties.Tags, "security")
		if score, err := strconv.ParseFloat(rule.Properties.SecuritySeverity, 64); security != (err == nil) || security && (score < 0.1 || score > 10) {
			t.Errorf("rules[%d] %s: tags %q with security-severity %q", i, rule.ID, rule.Properties.Tags, rule.Properties.SecuritySeverity)
		}
		if r, ok := transform.Lookup(rule.ID); !ok || security != (r.SecuritySeverity > 0) {
			t.Errorf("rules[%d] %s: security tag %v does not follow the rule's SecuritySeverity", i, rule.ID, security)
		}
		if security {
			securityRules++
		}
	}

	if securityRules == 0 {
		t.Error("no rule is tagged security; code scanning would file secrets as plain warnings")
	}

	srcs := map[string][]byte{}
	for _, f := range r.Files {
		srcs[artifactLocation(f.Path, r.SrcRoot).URI] = f.Src
	}
	fixes := 0
	for i, res := range run.Results {
		if res.RuleIndex == nil || *res.RuleIndex < 0 || *res.RuleIndex >= len(d.Rules) || d.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("results[%d]: ruleIndex does not point at rule %s", i, res.RuleID)
		}
		if !sarifLevels[res.Level] || res.Message.Text == "" || len(res.Locations) == 0 {
			t.Errorf("results[%d]: level %q, message %q, %d locations", i, res.Level, res.Message.Text, len(res.Locations))
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		checkArtifact(t, loc.ArtifactLocation, run.OriginalURIBaseIDs)
		if reg := loc.Region; reg == nil || reg.StartLine < 1 || reg.StartColumn < 1 || reg.EndLine < reg.StartLine {
			t.Errorf("results[%d]: region %+v", i, reg)
		}
		for _, fix := range res.Fixes {
			fixes++
			if fix.Description.Text == "" || len(fix.ArtifactChanges) != 1 {
				t.Errorf("results[%d]: fix without description or change", i)
				continue
			}
			change := fix.ArtifactChanges[0]
			checkArtifact(t, change.ArtifactLocation, run.OriginalURIBaseIDs)
			src := srcs[change.ArtifactLocation.URI]
			var edits []dockerfile.Edit
			for _, rep := range change.Replacements {
				e := dockerfile.Edit{Start: offsetOf(t, src, rep.DeletedRegion.StartLine, rep.DeletedRegion.StartColumn), End: offsetOf(t, src, rep.DeletedRegion.EndLine, rep.DeletedRegion.EndColumn)}
				if rep.InsertedContent != nil {
					e.New = rep.InsertedContent.Text
				}
				edits = append(edits, e)
			}
			got, err := dockerfile.Apply(src, edits)
			if err != nil {
				t.Errorf("results[%d]: replacements do not apply: %v", i, err)
				continue
			}
			want := applyFinding(t, r, res.RuleID, res.Locations[0].PhysicalLocation.Region.StartLine, change.ArtifactLocation.URI)
			if string(got) != want {
				t.Errorf("results[%d] %s: replaying the SARIF fix gives\n%s\nwant\n%s", i, res.RuleID, got, want)
			}
		}
	}
	if fixes < 3 {
		t.Errorf("only %d fixes checked; the fixtures should exercise more", fixes)
	}
}

func TestSARIFVersions(t *testing.T) {
	for in, want := range map[string][2]string{
		"v1.2.3":                             {"1.2.3", "1.2.3"},
		"v0.0.0-20261127143000-abcdef012345": {"0.0.0-20261127143000-abcdef012345", "0.0.0-20261127143000-abcdef012345"},
		"devel":                              {"devel", ""},
		"1.4":                                {"1.4", ""},
		"vNext":                              {"vNext", ""},
	} {
		v, sem := sarifVersions(in)
		if v != want[0] || sem != want[1] {
			t.Errorf("sarifVersions(%q) = %q, %q; want %q, %q", in, v, sem, want[0], want[1])
		}
	}
}

func checkArtifact(t *testing.T, loc sarifArtifactLoc, bases map[string]struct {
	URI string `json:"uri"`
}) {
	t.Helper()
	if _, err := url.Parse(loc.URI); err != nil || loc.URI == "" {
		t.Errorf("artifact uri %q: %v", loc.URI, err)
	}
	if loc.URIBaseID != "" {
		if _, ok := bases[loc.URIBaseID]; !ok {
			t.Errorf("uriBaseId %q is not declared in originalUriBaseIds", loc.URIBaseID)
		}
	}
}

// offsetOf turns a SARIF line and UTF-16 column back into a byte offset.
func offsetOf(t *testing.T, src []byte, line, col int) int {
	t.Helper()
	lines := strings.SplitAfter(string(src), "\n")
	off := 0
	for _, l := range lines[:line-1] {
		off += len(l)
	}
	units := 0
	for i, r := range lines[line-1] {
		if units == col-1 {
			return off + i
		}
		units += len(utf16.Encode([]rune{r}))
	}
	if units == col-1 {
		return off + len(lines[line-1])
	}
	t.Fatalf("column %d is past line %d", col, line)
	return 0
}

// applyFinding applies the byte edits of the finding of rule at line, the
// way harden fix would, for comparison.
func applyFinding(t *testing.T, r *Report, ruleID string, line int, uri string) string {
	t.Helper()
	for _, f := range r.Files {
		if artifactLocation(f.Path, r.SrcRoot).URI != uri {
			continue
		}
		for _, fd := range f.Findings {
			if fd.Rule.ID == ruleID && fd.Line == line && fd.Fix != nil {
				out, err := dockerfile.Apply(f.Src, fd.Fix.Edits)
				if err != nil {
					t.Fatal(err)
				}
				return string(out)
			}
		}
	}
	t.Fatalf("no fixable %s finding on line %d of %s", ruleID, line, uri)
	return ""
}

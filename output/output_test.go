package output

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/golden"
	"github.com/harden-dev/harden/transform"
)

// The golden outputs render findings of small rules defined here, run by
// the real engine, so that they test rendering and do not change whenever a
// real rule's wording does. TestSARIFStructure runs the real rules.
var (
	testSecret = &transform.Rule{
		ID: "HD901", Name: "test-secret", Title: "secret in ENV", Severity: transform.Error, Safety: transform.ReportOnly,
		Doc: transform.Doc{Why: "ENV values ship in the image.", Bad: "FROM alpine\nENV TOKEN=x\n", Good: "FROM alpine\n"},
		Check: func(p *transform.Pass) {
			for _, ins := range p.File.Instructions {
				if ins.Keyword == "env" {
					p.Report(ins, "ENV stores a secret in the image; use RUN --mount=type=secret", nil)
				}
			}
		},
	}
	testPip = &transform.Rule{
		ID: "HD902", Name: "test-pip", Title: "pip keeps its cache", Severity: transform.Warning, Safety: transform.Safe, Hadolint: []string{"DL3042"},
		Doc: transform.Doc{Why: "The cache bloats the layer.", Bad: "FROM python\nRUN pip install x\n", Good: "FROM python\nRUN pip install --no-cache-dir x\n"},
		Check: func(p *transform.Pass) {
			p.Commands(func(c *dockerfile.Command) {
				if sub, _ := c.Arg(1); c.Name() == "pip" && sub == "install" && !c.HasArg("--no-cache-dir") {
					p.ReportAt(c, "pip install keeps its cache in the layer", &transform.SuggestedFix{
						Description: "added --no-cache-dir to pip install",
						Edits:       []dockerfile.Edit{c.InsertAfter(1, "--no-cache-dir")},
					})
				}
			})
		},
	}
	testSudo = &transform.Rule{
		ID: "HD903", Name: "test-sudo", Title: "sudo in RUN", Severity: transform.Warning, Safety: transform.ReportOnly, Hadolint: []string{"DL3004"},
		Doc: transform.Doc{Why: "sudo does not belong in images.", Bad: "FROM alpine\nRUN sudo true\n", Good: "FROM alpine\nRUN true\n"},
		Check: func(p *transform.Pass) {
			p.Commands(func(c *dockerfile.Command) {
				if len(c.Args) > 0 && c.Args[0] == "sudo" {
					p.ReportAt(c, "sudo in RUN: run the step as root before USER instead", nil)
				}
			})
		},
	}
	testMaintainer = &transform.Rule{
		ID: "HD904", Name: "test-maintainer", Title: "MAINTAINER | deprecated", Severity: transform.Info, Safety: transform.Safe, Hadolint: []string{"DL4000"},
		Doc: transform.Doc{Why: "Use a <label>.", Bad: "FROM alpine\nMAINTAINER x\n", Good: "FROM alpine\n"},
		Check: func(p *transform.Pass) {
			for _, ins := range p.File.Instructions {
				if ins.Keyword == "maintainer" {
					p.Report(ins, "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=<you>", &transform.SuggestedFix{
						Description: "removed the deprecated MAINTAINER | instruction",
						Edits:       []dockerfile.Edit{{Start: ins.Start, End: ins.End}},
					})
				}
			}
		},
	}
	testRules = []*transform.Rule{testSecret, testPip, testSudo, testMaintainer}
)

// fixture Dockerfiles: one with findings of every severity (fixable ones,
// a multi-line RUN, a non-ASCII line so SARIF columns differ from bytes),
// one clean, one that does not parse.
var fixtures = []struct{ path, src string }{
	{"services/api/Dockerfile", "FROM python:3.12\n" +
		"RUN echo \"Grüße aus Köln\" && sudo apt-get update\n" +
		"ENV API_TOKEN=abc123\n" +
		"RUN pip install flask \\\n" +
		" && sudo make install\n" +
		"MAINTAINER ops <ops@example.com>\n" +
		"CMD python app.py\n"},
	{"services/web/Dockerfile", "FROM nginxinc/nginx-unprivileged:1.27\n" +
		"COPY --chown=101:101 site/ /usr/share/nginx/html/\n"},
	{"broken/Dockerfile", "FROM\n"},
}

func fixtureReport(t *testing.T) *Report {
	t.Helper()
	r := &Report{Tool: DefaultTool("v0.0.0-test"), SrcRoot: "/work/repo", Rules: testRules}
	for _, fx := range fixtures {
		f := File{Path: fx.path, Src: []byte(fx.src)}
		f.Findings, f.Err = transform.Check(fx.path, f.Src, transform.Options{Rules: testRules, Level: transform.LevelStructural})
		r.Files = append(r.Files, f)
	}
	if r.Files[2].Err == nil {
		t.Fatal("the broken fixture parsed")
	}
	return r
}

func TestFindingsGolden(t *testing.T) {
	r := fixtureReport(t)
	for _, tt := range []struct {
		format Format
		golden string
	}{
		{Text, "findings.txt"},
		{JSON, "findings.json"},
		{SARIF, "findings.sarif"},
		{Markdown, "findings.md"},
		{GitHub, "findings.github"},
	} {
		t.Run(string(tt.format), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFindings(&buf, tt.format, r); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden), buf.Bytes())
		})
	}
}

func TestCleanReport(t *testing.T) {
	r := fixtureReport(t)
	r.Files = r.Files[1:2]
	var buf bytes.Buffer
	if err := WriteFindings(&buf, Text, r); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "no findings in 1 file\n"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	buf.Reset()
	if err := WriteFindings(&buf, GitHub, r); err != nil || buf.Len() != 0 {
		t.Errorf("github format printed %q (%v) for a clean file, want nothing", buf.String(), err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if got, _ := ParseFormat("MD"); got != Markdown {
		t.Errorf("ParseFormat(MD) = %q", got)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
}

func TestSummarizeAndGate(t *testing.T) {
	r := fixtureReport(t)
	s := Summarize(r.Files)
	if s.Files != 3 || s.Failed != 1 || s.FilesWithFindings != 1 || s.Findings != s.Errors+s.Warnings+s.Infos || s.Fixable == 0 {
		t.Errorf("summary = %+v", s)
	}
	if AtOrAbove(r.Files, transform.Info) != s.Findings || AtOrAbove(r.Files, transform.Error) != s.Errors {
		t.Errorf("AtOrAbove disagrees with the summary %+v", s)
	}
}

func TestEscapes(t *testing.T) {
	if got := escapeProperty("a,b:c%d\ne"); got != "a%2Cb%3Ac%25d%0Ae" {
		t.Errorf("escapeProperty = %q", got)
	}
	if got := escapeData("50% done\r\nnext"); got != "50%25 done%0D%0Anext" {
		t.Errorf("escapeData = %q", got)
	}
	if got := escapeCell("a | b <digest>\nc"); got != `a \| b &lt;digest&gt; c` {
		t.Errorf("escapeCell = %q", got)
	}
	if got := escapeCode("odd|name`x"); got != `odd\|name'x` {
		t.Errorf("escapeCode = %q", got)
	}
}

func TestArtifactLocation(t *testing.T) {
	tests := []struct {
		path, root string
		want       sarifArtifactLoc
	}{
		{"Dockerfile", "/work/repo", sarifArtifactLoc{URI: "Dockerfile", URIBaseID: srcRootID}},
		{"./svc/a b/Dockerfile", "/work/repo", sarifArtifactLoc{URI: "svc/a%20b/Dockerfile", URIBaseID: srcRootID}},
		{"/work/repo/svc/Dockerfile", "/work/repo", sarifArtifactLoc{URI: "svc/Dockerfile", URIBaseID: srcRootID}},
		{"/elsewhere/Dockerfile", "/work/repo", sarifArtifactLoc{URI: "file:///elsewhere/Dockerfile"}},
		{"../other/Dockerfile", "/work/repo", sarifArtifactLoc{URI: "file:///work/other/Dockerfile"}},
		{"svc/Dockerfile", "", sarifArtifactLoc{URI: "svc/Dockerfile", URIBaseID: srcRootID}},
		{"<stdin>", "/work/repo", sarifArtifactLoc{URI: "stdin"}},
	}
	for _, tt := range tests {
		if got := artifactLocation(tt.path, tt.root); got != tt.want {
			t.Errorf("artifactLocation(%q, %q) = %+v, want %+v", tt.path, tt.root, got, tt.want)
		}
	}
}

func TestLineIndex(t *testing.T) {
	src := []byte("ab\nÄö€𝄞x\n")
	l := newLineIndex(src)
	// "Ä" and "ö" are 2 bytes and 1 UTF-16 unit, "€" 3 and 1, "𝄞" 4 and 2.
	off := len("ab\nÄö€𝄞")
	if line, col := l.position(off); line != 2 || col != 1+1+1+1+2 {
		t.Errorf("position = %d:%d, want 2:6", line, col)
	}
	if col := l.utf16Column(2, len("Äö€𝄞")+1); col != 6 {
		t.Errorf("utf16Column = %d, want 6", col)
	}
	if line, col := l.position(0); line != 1 || col != 1 {
		t.Errorf("position(0) = %d:%d", line, col)
	}
}

func TestErrorLine(t *testing.T) {
	if got := errorLine(&dockerfile.Error{File: "x", Line: 7, Msg: "bad"}); got != 7 {
		t.Errorf("errorLine = %d", got)
	}
	if got := errorLine(errors.New("plain")); got != 0 {
		t.Errorf("errorLine(plain) = %d", got)
	}
}

func TestSecurityBandFollowsGitHub(t *testing.T) {
	for score, want := range map[float64]string{10: "critical", 9: "critical", 8.9: "high", 7: "high", 6.9: "medium", 4: "medium", 3.9: "low", 0.1: "low"} {
		if got := securityBand(score); got != want {
			t.Errorf("securityBand(%.1f) = %q, want %q", score, got, want)
		}
	}
}

package output

import (
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/mod/semver"

	"github.com/harden-dev/harden/transform"
)

// SARIF 2.1.0, the subset GitHub code scanning reads: a rule table under
// tool.driver, results that point into it by ruleIndex, physical locations
// relative to %SRCROOT%, and fixes as text replacements. Columns are counted
// in UTF-16 code units, SARIF's default, so they match editors even on lines
// with non-ASCII text.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	srcRootID    = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	Invocations        []sarifInvocation           `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	ColumnKind         string                      `json:"columnKind"`
	Results            []sarifResult               `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	InformationURI  string      `json:"informationUri,omitempty"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	Help                 sarifHelp          `json:"help"`
	HelpURI              string             `json:"helpUri"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags []string `json:"tags"`
	// SecuritySeverity is GitHub's rating of a security rule ("0.1" to
	// "10.0"); with the "security" tag it files the results as security
	// alerts with that severity.
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Hadolint         []string `json:"hadolint,omitempty"`
	Safety           string   `json:"safety"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	Fixes     []sarifFix      `json:"fixes,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifFix struct {
	Description     sarifText             `json:"description"`
	ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
}

type sarifArtifactChange struct {
	ArtifactLocation sarifArtifactLoc   `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion `json:"deletedRegion"`
	InsertedContent *sarifText  `json:"insertedContent,omitempty"`
}

func writeSARIF(w io.Writer, r *Report) error {
	rules := r.rules()
	index := map[string]int{}
	var table []sarifRule
	addRule := func(rule *transform.Rule) int {
		if i, ok := index[rule.ID]; ok {
			return i
		}
		index[rule.ID] = len(table)
		table = append(table, newSARIFRule(rule))
		return len(table) - 1
	}
	for _, rule := range rules {
		addRule(rule)
	}

	run := sarifRun{
		ColumnKind:  "utf16CodeUnits",
		Results:     []sarifResult{},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
	}
	if r.SrcRoot != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRootID: {URI: dirURI(r.SrcRoot)}}
	}
	inv := &run.Invocations[0]
	for _, f := range r.Files {
		loc := artifactLocation(f.Path, r.SrcRoot)
		if f.Err != nil {
			inv.ExecutionSuccessful = false
			n := sarifNotification{Level: "error", Message: sarifText{Text: errorText(f.Path, f.Err)}}
			phys := sarifPhysical{ArtifactLocation: loc}
			if line := errorLine(f.Err); line > 0 {
				phys.Region = &sarifRegion{StartLine: line}
			}
			n.Locations = []sarifLocation{{PhysicalLocation: phys}}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
			continue
		}
		lines := newLineIndex(f.Src)
		for _, fd := range f.Findings {
			res := sarifResult{
				RuleID:    fd.Rule.ID,
				RuleIndex: addRule(fd.Rule),
				Level:     sarifLevel(fd.Severity),
				Message:   sarifText{Text: fd.Message},
				Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
					ArtifactLocation: loc,
					Region: &sarifRegion{
						StartLine:   fd.Line,
						StartColumn: lines.utf16Column(fd.Line, fd.Column),
						EndLine:     max(fd.EndLine, fd.Line),
					},
				}}},
			}
			if fix := sarifFixFor(fd, loc, lines); fix != nil {
				res.Fixes = []sarifFix{*fix}
			}
			run.Results = append(run.Results, res)
		}
	}
	version, semantic := sarifVersions(r.Tool.Version)
	run.Tool = sarifTool{Driver: sarifDriver{Name: r.Tool.Name, Version: version, SemanticVersion: semantic, InformationURI: r.Tool.InformationURI, Rules: table}}
	return encodeJSON(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// sarifVersions writes a Go module version the way SARIF wants it: version
// starting with a digit ("1.2.3" for "v1.2.3"), and semanticVersion when it
// is one.
func sarifVersions(v string) (version, semantic string) {
	version = v
	if rest, ok := strings.CutPrefix(v, "v"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		version = rest
	}
	if sv := "v" + version; semver.IsValid(sv) && semver.Canonical(sv) == sv {
		semantic = version // only full SemVer 2.0, not "1.4"
	}
	return version, semantic
}

func newSARIFRule(r *transform.Rule) sarifRule {
	tags := []string{"dockerfile"}
	if r.Safety == transform.ReportOnly {
		tags = append(tags, "report-only")
	} else {
		tags = append(tags, "fixable")
	}
	props := sarifRuleProps{Hadolint: r.Hadolint, Safety: string(r.Safety)}
	if r.SecuritySeverity > 0 {
		tags = append(tags, "security")
		props.SecuritySeverity = strconv.FormatFloat(r.SecuritySeverity, 'f', 1, 64)
	}
	props.Tags = tags
	return sarifRule{
		ID:                   r.ID,
		Name:                 r.Name,
		ShortDescription:     sarifText{Text: r.Title},
		FullDescription:      sarifText{Text: r.Doc.Why},
		Help:                 sarifHelp{Text: RuleText(r), Markdown: RuleMarkdown(r)},
		HelpURI:              r.DocURL(),
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(r.Severity)},
		Properties:           props,
	}
}

func sarifLevel(s transform.Severity) string {
	switch s {
	case transform.Error:
		return "error"
	case transform.Warning:
		return "warning"
	}
	return "note"
}

// sarifFixFor turns a finding's byte-range edits into SARIF replacements.
func sarifFixFor(fd transform.Finding, loc sarifArtifactLoc, lines lineIndex) *sarifFix {
	if fd.Fix == nil || len(fd.Fix.Edits) == 0 || lines.src == nil {
		return nil
	}
	change := sarifArtifactChange{ArtifactLocation: loc}
	for _, e := range fd.Fix.Edits {
		if e.Start < 0 || e.End < e.Start || e.End > len(lines.src) {
			return nil // edits from another version of the file: no fix rather than a wrong one
		}
		startLine, startCol := lines.position(e.Start)
		endLine, endCol := lines.position(e.End)
		rep := sarifReplacement{DeletedRegion: sarifRegion{StartLine: startLine, StartColumn: startCol, EndLine: endLine, EndColumn: endCol}}
		if e.New != "" {
			rep.InsertedContent = &sarifText{Text: e.New}
		}
		change.Replacements = append(change.Replacements, rep)
	}
	return &sarifFix{Description: sarifText{Text: fd.Fix.Description}, ArtifactChanges: []sarifArtifactChange{change}}
}

// artifactLocation makes a SARIF location for a path: relative to
// %SRCROOT% when it is inside it, an absolute file URI otherwise.
func artifactLocation(p, srcRoot string) sarifArtifactLoc {
	if p == "<stdin>" || p == "-" {
		return sarifArtifactLoc{URI: "stdin"}
	}
	native := filepath.FromSlash(p)
	if !filepath.IsAbs(native) && srcRoot != "" {
		native = filepath.Join(srcRoot, native)
	}
	if filepath.IsAbs(native) && srcRoot != "" {
		if rel, err := filepath.Rel(srcRoot, native); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return sarifArtifactLoc{URI: escapePath(filepath.ToSlash(rel)), URIBaseID: srcRootID}
		}
	}
	if filepath.IsAbs(native) {
		return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(native)}).String()}
	}
	return sarifArtifactLoc{URI: escapePath(path.Clean(filepath.ToSlash(p))), URIBaseID: srcRootID}
}

// dirURI is a folder as a file URI ending in a slash, as SARIF requires for
// base URIs.
func dirURI(dir string) string {
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// escapePath percent-encodes each segment of a relative path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// lineIndex converts byte offsets and byte columns into SARIF's 1-based
// lines and UTF-16 columns.
type lineIndex struct {
	src    []byte
	starts []int
}

func newLineIndex(src []byte) lineIndex {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{src: src, starts: starts}
}

// position returns the line and UTF-16 column of byte offset off.
func (l lineIndex) position(off int) (int, int) {
	line := 1
	for line < len(l.starts) && l.starts[line] <= off {
		line++
	}
	return line, utf16Len(l.src[l.starts[line-1]:off]) + 1
}

// utf16Column converts a 1-based byte column on a line into a UTF-16 one.
func (l lineIndex) utf16Column(line, byteCol int) int {
	if l.src == nil || line < 1 || line > len(l.starts) {
		return byteCol
	}
	start := l.starts[line-1]
	end := min(start+byteCol-1, len(l.src))
	return utf16Len(l.src[start:end]) + 1
}

func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		n += max(utf16.RuneLen(r), 1)
		b = b[size:]
	}
	return n
}

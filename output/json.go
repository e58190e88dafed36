package output

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/transform"
)

// findingsDoc is the JSON form of a check: a flat list of findings, so that
// `jq '.findings[] | select(.severity == "error")'` needs no nesting, the
// files that could not be checked, and the counts.
type findingsDoc struct {
	Tool     toolJSON      `json:"tool"`
	Findings []findingJSON `json:"findings"`
	Errors   []errorJSON   `json:"errors"`
	Summary  Summary       `json:"summary"`
}

type toolJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// findingJSON is one finding; fix JSON uses the same shape.
type findingJSON struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	EndLine  int      `json:"endLine"`
	Severity string   `json:"severity"`
	RuleID   string   `json:"ruleId"`
	RuleName string   `json:"ruleName"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Hadolint []string `json:"hadolint"`
	DocURL   string   `json:"docUrl"`
	Fixable  bool     `json:"fixable"`
	// Fix says what `harden fix` would do about it.
	Fix string `json:"fix,omitempty"`
}

type errorJSON struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func newFindingJSON(path string, fd transform.Finding) findingJSON {
	out := findingJSON{
		Path:     path,
		Line:     fd.Line,
		Column:   fd.Column,
		EndLine:  max(fd.EndLine, fd.Line),
		Severity: fd.Severity.String(),
		RuleID:   fd.Rule.ID,
		RuleName: fd.Rule.Name,
		Title:    fd.Rule.Title,
		Message:  fd.Message,
		Hadolint: append([]string{}, fd.Rule.Hadolint...),
		DocURL:   fd.Rule.DocURL(),
		Fixable:  fd.Fix != nil,
	}
	if fd.Fix != nil {
		out.Fix = fd.Fix.Description
	}
	return out
}

func newErrorJSON(path string, err error) errorJSON {
	msg := errorText(path, err)
	var de *dockerfile.Error
	if errors.As(err, &de) {
		msg = de.Msg // the line has its own field
	}
	return errorJSON{Path: path, Line: errorLine(err), Message: msg}
}

func writeJSON(w io.Writer, r *Report) error {
	doc := findingsDoc{
		Tool:     toolJSON{Name: r.Tool.Name, Version: r.Tool.Version},
		Findings: []findingJSON{},
		Errors:   []errorJSON{},
		Summary:  Summarize(r.Files),
	}
	for _, f := range r.Files {
		if f.Err != nil {
			doc.Errors = append(doc.Errors, newErrorJSON(f.Path, f.Err))
			continue
		}
		for _, fd := range f.Findings {
			doc.Findings = append(doc.Findings, newFindingJSON(f.Path, fd))
		}
	}
	return encodeJSON(w, doc)
}

// encodeJSON writes indented JSON without HTML escaping, so that messages
// with <, > and & stay readable.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

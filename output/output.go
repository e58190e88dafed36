// Package output renders harden's results for people and machines:
// findings as text, JSON, SARIF 2.1.0, Markdown or GitHub workflow
// commands; rule documentation; and, for bots that open pull requests, the
// Markdown PR description and the JSON description of a fix run.
//
// Every renderer is deterministic: the same results give the same bytes, so
// outputs can be golden-tested and a bot re-running on fixed files sees no
// difference.
package output

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/transform"
)

// Format is a findings output format.
type Format string

const (
	Text     Format = "text"
	JSON     Format = "json"
	SARIF    Format = "sarif"
	Markdown Format = "markdown"
	GitHub   Format = "github"
)

// Formats lists every findings format, for help texts.
var Formats = []Format{Text, JSON, SARIF, Markdown, GitHub}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	if strings.EqualFold(s, "md") {
		return Markdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want text, json, sarif, markdown or github)", s)
}

// Tool identifies harden in machine-readable outputs.
type Tool struct {
	Name    string
	Version string
	// InformationURI is the project's home page.
	InformationURI string
}

// DefaultTool is harden at the given version.
func DefaultTool(version string) Tool {
	return Tool{Name: "harden", Version: version, InformationURI: "https://github.com/harden-dev/harden"}
}

// File is one checked file.
type File struct {
	// Path is the file as the user named it ("services/api/Dockerfile") or
	// "<stdin>".
	Path string
	// Src is the file's text; SARIF needs it to turn byte offsets into
	// line and column regions. It may be nil when Err is set.
	Src []byte
	// Findings in file order.
	Findings []transform.Finding
	// Err is set when the file could not be read or parsed.
	Err error
}

// Report is the outcome of checking many files.
type Report struct {
	Tool  Tool
	Files []File
	// Rules are the rules that ran, in order; SARIF lists them all so that
	// a dashboard knows which checks passed. Nil means transform.All().
	Rules []*transform.Rule
	// SrcRoot is the absolute folder relative paths are relative to (the
	// working directory). SARIF records it as %SRCROOT%; empty leaves it out.
	SrcRoot string
}

// WriteFindings renders a report in the given format.
func WriteFindings(w io.Writer, format Format, r *Report) error {
	switch format {
	case Text:
		return writeText(w, r)
	case JSON:
		return writeJSON(w, r)
	case SARIF:
		return writeSARIF(w, r)
	case Markdown:
		return writeMarkdown(w, r)
	case GitHub:
		return writeGitHub(w, r)
	}
	return fmt.Errorf("unknown format %q", format)
}

// Summary counts a report's findings.
type Summary struct {
	Files             int `json:"files"`
	FilesWithFindings int `json:"filesWithFindings"`
	Failed            int `json:"failed"`
	Findings          int `json:"findings"`
	Errors            int `json:"error"`
	Warnings          int `json:"warning"`
	Infos             int `json:"info"`
	Fixable           int `json:"fixable"`
}

// Summarize counts findings by severity across files.
func Summarize(files []File) Summary {
	s := Summary{Files: len(files)}
	for _, f := range files {
		if f.Err != nil {
			s.Failed++
			continue
		}
		if len(f.Findings) > 0 {
			s.FilesWithFindings++
		}
		for _, fd := range f.Findings {
			s.Findings++
			switch fd.Severity {
			case transform.Error:
				s.Errors++
			case transform.Warning:
				s.Warnings++
			default:
				s.Infos++
			}
			if fd.Fix != nil {
				s.Fixable++
			}
		}
	}
	return s
}

// AtOrAbove counts findings at severity min or higher.
func AtOrAbove(files []File, min transform.Severity) int {
	n := 0
	for _, f := range files {
		for _, fd := range f.Findings {
			if fd.Severity >= min {
				n++
			}
		}
	}
	return n
}

// errorLine is the line an input error points at, or 0.
func errorLine(err error) int {
	var de *dockerfile.Error
	if errors.As(err, &de) {
		return de.Line
	}
	return 0
}

// errorText is an input error without the file name in front, for outputs
// that already show the file next to it.
func errorText(path string, err error) string {
	var de *dockerfile.Error
	if errors.As(err, &de) {
		if de.Line > 0 {
			return fmt.Sprintf("line %d: %s", de.Line, de.Msg)
		}
		return de.Msg
	}
	return strings.TrimPrefix(err.Error(), path+": ")
}

func (r *Report) rules() []*transform.Rule {
	if r.Rules == nil {
		return transform.All()
	}
	return r.Rules
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

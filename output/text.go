package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/harden-dev/harden/transform"
)

// writeText prints one finding per line in the compiler style editors and
// terminals link ("path:line:col: severity: message [rule]"), its doc link
// below, and a summary. Files that could not be checked are left to the
// caller's error stream.
func writeText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	any := false
	for _, f := range r.Files {
		for _, fd := range f.Findings {
			any = true
			fmt.Fprintf(bw, "%s:%d:%d: %s: %s [%s]\n", f.Path, fd.Line, fd.Column, fd.Severity, fd.Message, ruleTag(fd))
			fmt.Fprintf(bw, "    %s\n", fd.Rule.DocURL())
		}
	}
	if any {
		bw.WriteString("\n")
	}
	bw.WriteString(summaryLine(Summarize(r.Files)) + "\n")
	return bw.Flush()
}

// ruleTag names a finding's rule: "HD407 sudo-in-run, DL3004, fixable".
func ruleTag(fd transform.Finding) string {
	parts := []string{fd.Rule.ID + " " + fd.Rule.Name}
	parts = append(parts, fd.Rule.Hadolint...)
	if fd.Fix != nil {
		parts = append(parts, "fixable")
	}
	return strings.Join(parts, ", ")
}

// summaryLine says in one sentence what a check found.
func summaryLine(s Summary) string {
	checked := s.Files - s.Failed
	var b strings.Builder
	if s.Findings == 0 {
		fmt.Fprintf(&b, "no findings in %s", plural(checked, "file", "files"))
	} else {
		var bySeverity []string
		for _, c := range []struct {
			n         int
			one, many string
		}{{s.Errors, "error", "errors"}, {s.Warnings, "warning", "warnings"}, {s.Infos, "info", "info"}} {
			if c.n > 0 {
				bySeverity = append(bySeverity, plural(c.n, c.one, c.many))
			}
		}
		fmt.Fprintf(&b, "%s (%s) in %d of %s", plural(s.Findings, "finding", "findings"), strings.Join(bySeverity, ", "), s.FilesWithFindings, plural(checked, "file", "files"))
		if s.Fixable > 0 {
			fmt.Fprintf(&b, "; %d fixable with harden fix", s.Fixable)
		}
	}
	if s.Failed > 0 {
		fmt.Fprintf(&b, "; %s could not be checked", plural(s.Failed, "file", "files"))
	}
	return b.String()
}

package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// writeMarkdown renders findings as a Markdown table, for a pull request
// comment or a GitHub job summary ($GITHUB_STEP_SUMMARY).
func writeMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	s := Summarize(r.Files)
	fmt.Fprintf(bw, "### harden: %s\n", summaryLine(s))
	if s.Findings > 0 {
		bw.WriteString("\n| Severity | Location | Rule | Finding |\n| --- | --- | --- | --- |\n")
		for _, f := range r.Files {
			for _, fd := range f.Findings {
				fix := ""
				if fd.Fix != nil {
					fix = " (`harden fix` fixes this)"
				}
				fmt.Fprintf(bw, "| %s | `%s:%d` | %s | %s%s |\n", fd.Severity, escapeCode(f.Path), fd.Line, ruleLink(fd.Rule.ID, fd.Rule.Name, fd.Rule.DocURL()), escapeCell(fd.Message), fix)
			}
		}
	}
	if s.Failed > 0 {
		bw.WriteString("\nCould not check:\n\n")
		for _, f := range r.Files {
			if f.Err != nil {
				fmt.Fprintf(bw, "- `%s`: %s\n", escapeCode(f.Path), escapeCell(errorText(f.Path, f.Err)))
			}
		}
	}
	return bw.Flush()
}

func ruleLink(id, name, url string) string {
	return fmt.Sprintf("[%s %s](%s)", id, name, url)
}

// escapeCode keeps a path inside `code` intact in a table cell: GitHub
// needs pipes escaped even there, while < and > are literal in code.
var codeEscaper = strings.NewReplacer("\r\n", " ", "\n", " ", "|", `\|`, "`", "'")

func escapeCode(s string) string { return codeEscaper.Replace(s) }

package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/harden-dev/harden/transform"
)

// writeGitHub prints GitHub Actions workflow commands, which the runner
// turns into annotations on the pull request's changed lines:
//
//	::warning file=Dockerfile,line=3,col=1,endLine=3,title=HD407 sudo-in-run::message
//
// Files that could not be checked become ::error annotations too, so a
// broken Dockerfile is visible where the others' findings are.
func writeGitHub(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.Files {
		path := githubPath(f.Path)
		if f.Err != nil {
			props := "file=" + escapeProperty(path)
			if line := errorLine(f.Err); line > 0 {
				props += fmt.Sprintf(",line=%d", line)
			}
			fmt.Fprintf(bw, "::error %s,title=harden could not check this file::%s\n", props, escapeData(errorText(f.Path, f.Err)))
			continue
		}
		for _, fd := range f.Findings {
			title := fd.Rule.ID + " " + fd.Rule.Name
			msg := fd.Message + "\n" + fd.Rule.DocURL()
			fmt.Fprintf(bw, "::%s file=%s,line=%d,col=%d,endLine=%d,title=%s::%s\n",
				githubLevel(fd.Severity), escapeProperty(path), fd.Line, fd.Column, max(fd.EndLine, fd.Line), escapeProperty(title), escapeData(msg))
		}
	}
	return bw.Flush()
}

func githubLevel(s transform.Severity) string {
	switch s {
	case transform.Error:
		return "error"
	case transform.Warning:
		return "warning"
	}
	return "notice"
}

// githubPath is the path as the runner resolves it against the workspace:
// slash-separated, without a leading "./".
func githubPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return p
}

// escapeData and escapeProperty follow the runner's escaping rules for
// workflow command messages and parameters.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

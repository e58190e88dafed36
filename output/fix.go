package output

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/harden-dev/harden/transform"
)

// FixFile is one file's outcome in a `harden fix` run, as the PR body and
// the fix JSON describe it.
type FixFile struct {
	// Path is the Dockerfile as the user named it.
	Path string
	// Result is the engine's outcome; nil when Err is set.
	Result *transform.Result
	// Written lists other files the run wrote for this Dockerfile, such as
	// a generated .dockerignore.
	Written []WrittenFile
	// Err is set when the file could not be read, parsed or written.
	Err error
	// Verification is what harden fix --verify proved; nil without it.
	Verification *Verification
}

// WrittenFile is a file written beside a Dockerfile.
type WrittenFile struct {
	Path        string
	Description string
}

// Changed reports whether the file's content changed or a companion file
// was written.
func (f FixFile) Changed() bool {
	return f.Err == nil && (f.Result != nil && f.Result.Changed() || len(f.Written) > 0)
}

// AnyChanged reports whether a fix run changed anything at all; a bot opens
// a pull request only then.
func AnyChanged(files []FixFile) bool {
	for _, f := range files {
		if f.Changed() {
			return true
		}
	}
	return false
}

// PRBody writes the Markdown description of an automated pull request: a
// table of what changed per file, each change with its rule and reason,
// the findings harden left for a person, the files it could not process,
// and sizeReport (Markdown from a size comparison, with its own heading;
// "" when no build was made). The text depends only on its inputs, so a
// second run on the fixed files gives the same "nothing to change" body.
func PRBody(w io.Writer, files []FixFile, sizeReport string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("## Harden Dockerfiles\n\n")

	changedFiles, changes, open, failed := 0, 0, 0, 0
	for _, f := range files {
		switch {
		case f.Err != nil:
			failed++
			continue
		case f.Changed():
			changedFiles++
		}
		changes += len(f.Result.Changes)
		open += len(f.Result.Findings)
	}
	checked := len(files) - failed
	if changedFiles == 0 {
		fmt.Fprintf(bw, "Nothing to change in %s.", plural(checked, "Dockerfile", "Dockerfiles"))
	} else {
		fmt.Fprintf(bw, "harden rewrote %d of %s with %s. Lines no rule touched are unchanged, "+
			"and every change below names the rule that made it and why.", changedFiles, plural(checked, "Dockerfile", "Dockerfiles"), plural(changes, "change", "changes"))
	}
	if open > 0 {
		fmt.Fprintf(bw, " %s harden could not settle on its own %s a decision from a reviewer.", plural(open, "finding", "findings"), pick(open, "needs", "need"))
	}
	bw.WriteString("\n")

	if changedFiles > 0 || open > 0 {
		bw.WriteString("\n| File | Changes | Findings left |\n| --- | ---: | ---: |\n")
		for _, f := range files {
			if f.Err != nil || !f.Changed() && len(f.Result.Findings) == 0 {
				continue
			}
			fmt.Fprintf(bw, "| `%s` | %d | %d |\n", escapeCode(f.Path), len(f.Result.Changes), len(f.Result.Findings))
		}
	}

	for _, f := range files {
		if f.Err != nil || !f.Changed() && len(f.Result.Findings) == 0 && f.Verification == nil {
			continue
		}
		fmt.Fprintf(bw, "\n### `%s`\n", escapeCode(f.Path))
		if len(f.Result.Changes) > 0 {
			bw.WriteString("\n| Original line | Rule | Change |\n| ---: | --- | --- |\n")
			for _, c := range byLine(f.Result.Changes) {
				fmt.Fprintf(bw, "| %s | %s | %s |\n", lineRange(c.Line, c.EndLine), ruleLink(c.Rule.ID, c.Rule.Name, c.Rule.DocURL()), escapeCell(c.Description))
			}
		}
		var notices []string
		for _, c := range byLine(f.Result.Changes) {
			notices = append(notices, c.Notices...)
		}
		if len(notices) > 0 {
			bw.WriteString("\n**Before you merge:**\n\n")
			for _, n := range notices {
				fmt.Fprintf(bw, "- %s\n", escapeCell(n))
			}
		}
		for _, wf := range f.Written {
			fmt.Fprintf(bw, "\nAlso wrote `%s`: %s\n", escapeCode(wf.Path), escapeCell(wf.Description))
		}
		if f.Verification != nil {
			writeVerification(bw, f.Verification)
		}
		if n := len(f.Result.Findings); n > 0 {
			fmt.Fprintf(bw, "\n<details><summary>%s left for a reviewer</summary>\n\n", plural(n, "finding", "findings"))
			bw.WriteString("| Line | Severity | Rule | Finding |\n| ---: | --- | --- | --- |\n")
			for _, fd := range f.Result.Findings {
				fmt.Fprintf(bw, "| %d | %s | %s | %s |\n", fd.Line, fd.Severity, ruleLink(fd.Rule.ID, fd.Rule.Name, fd.Rule.DocURL()), escapeCell(fd.Message))
			}
			bw.WriteString("\n</details>\n")
		}
	}

	if failed > 0 {
		bw.WriteString("\n### Not processed\n\n")
		for _, f := range files {
			if f.Err != nil {
				fmt.Fprintf(bw, "- `%s`: %s\n", escapeCode(f.Path), escapeCell(errorText(f.Path, f.Err)))
			}
		}
	}
	if s := strings.TrimSpace(sizeReport); s != "" {
		bw.WriteString("\n" + s + "\n")
	}
	again := "harden fix --write"
	if slices.ContainsFunc(files, func(f FixFile) bool { return f.Verification != nil }) {
		// A change --verify left out comes back without --verify.
		again = "harden fix --verify --write"
	}
	bw.WriteString("\n---\n<sub>Made by [harden](https://github.com/harden-dev/harden). " +
		"Review it like a colleague's change; running `" + again + "` again on this branch changes nothing.</sub>\n")
	return bw.Flush()
}

// byLine orders changes as a reviewer reads the file; changes on the same
// line keep the order the rules applied them in.
func byLine(changes []transform.Change) []transform.Change {
	out := slices.Clone(changes)
	slices.SortStableFunc(out, func(a, b transform.Change) int { return a.Line - b.Line })
	return out
}

func lineRange(from, to int) string {
	if to > from {
		return fmt.Sprintf("%d-%d", from, to)
	}
	return fmt.Sprint(from)
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fixDoc is the JSON description of a fix run, for bots.
type fixDoc struct {
	Tool    toolJSON      `json:"tool"`
	Changed bool          `json:"changed"`
	Files   []fixFileJSON `json:"files"`
	Summary fixSummary    `json:"summary"`
}

type fixFileJSON struct {
	Path     string        `json:"path"`
	Changed  bool          `json:"changed"`
	Changes  []changeJSON  `json:"changes"`
	Findings []findingJSON `json:"findings"`
	Written  []writtenJSON `json:"written"`
	Error    *errorJSON    `json:"error"`
	// Verification is set by fix --verify.
	Verification *verificationJSON `json:"verification,omitempty"`
}

type changeJSON struct {
	Line        int      `json:"line"`
	EndLine     int      `json:"endLine"`
	RuleID      string   `json:"ruleId"`
	RuleName    string   `json:"ruleName"`
	Safety      string   `json:"safety"`
	Description string   `json:"description"`
	Notices     []string `json:"notices,omitempty"`
	DocURL      string   `json:"docUrl"`
}

type writtenJSON struct {
	Path        string `json:"path"`
	Description string `json:"description"`
}

type fixSummary struct {
	Files    int `json:"files"`
	Changed  int `json:"changed"`
	Changes  int `json:"changes"`
	Findings int `json:"findings"`
	Failed   int `json:"failed"`
}

// FixJSON writes a fix run for bots: per file whether it changed, each
// change with its rule and reason, the findings left, companion files
// written, and errors.
func FixJSON(w io.Writer, tool Tool, files []FixFile) error {
	doc := fixDoc{Tool: toolJSON{Name: tool.Name, Version: tool.Version}, Files: []fixFileJSON{}}
	for _, f := range files {
		out := fixFileJSON{Path: f.Path, Changes: []changeJSON{}, Findings: []findingJSON{}, Written: []writtenJSON{}}
		doc.Summary.Files++
		if f.Err != nil {
			e := newErrorJSON(f.Path, f.Err)
			out.Error = &e
			doc.Summary.Failed++
			doc.Files = append(doc.Files, out)
			continue
		}
		out.Changed = f.Changed()
		for _, c := range f.Result.Changes {
			out.Changes = append(out.Changes, changeJSON{
				Line: c.Line, EndLine: max(c.EndLine, c.Line), RuleID: c.Rule.ID, RuleName: c.Rule.Name,
				Safety: string(c.Rule.Safety), Description: c.Description, Notices: c.Notices, DocURL: c.Rule.DocURL(),
			})
		}
		for _, fd := range f.Result.Findings {
			out.Findings = append(out.Findings, newFindingJSON(f.Path, fd))
		}
		for _, wf := range f.Written {
			out.Written = append(out.Written, writtenJSON(wf))
		}
		out.Verification = newVerificationJSON(f.Verification)
		if out.Changed {
			doc.Summary.Changed++
			doc.Changed = true
		}
		doc.Summary.Changes += len(out.Changes)
		doc.Summary.Findings += len(out.Findings)
		doc.Files = append(doc.Files, out)
	}
	return encodeJSON(w, doc)
}

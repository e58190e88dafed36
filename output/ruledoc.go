package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/harden-dev/harden/transform"
)

// Rule documentation, rendered from the rule values themselves so that the
// docs, `harden rules RULE` and SARIF's help never drift apart.

// RuleMarkdown is a rule's documentation page (docs/rules/<name>.md).
func RuleMarkdown(r *transform.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s %s\n\n", r.ID, r.Name)
	fmt.Fprintf(&b, "*%s*\n\n", r.Title)
	b.WriteString("| Severity | Fix | hadolint |\n| --- | --- | --- |\n")
	fmt.Fprintf(&b, "| %s | %s | %s |\n\n", r.Severity, safetyMarkdown(r.Safety), hadolintLinks(r.Hadolint))
	if r.SecuritySeverity > 0 {
		fmt.Fprintf(&b, "A security rule: GitHub code scanning files its results as %s alerts (security-severity %.1f).\n\n",
			securityBand(r.SecuritySeverity), r.SecuritySeverity)
	}
	fmt.Fprintf(&b, "## Why\n\n%s\n\n", r.Doc.Why)
	fmt.Fprintf(&b, "## Bad\n\n```dockerfile\n%s```\n\n", withNewline(r.Doc.Bad))
	fmt.Fprintf(&b, "## Good\n\n```dockerfile\n%s```\n\n", withNewline(r.Doc.Good))
	b.WriteString("## Silencing it\n\n")
	fmt.Fprintf(&b, "Where the rule is wrong for one instruction, say so in a comment right above it, "+
		"with the reason after the rule:\n\n```dockerfile\n# harden:ignore=%s <why this is fine here>\n```\n\n", r.Name)
	fmt.Fprintf(&b, "`# harden:ignore-file=%s` anywhere in a Dockerfile silences it for the whole file", r.Name)
	if len(r.Hadolint) > 0 {
		fmt.Fprintf(&b, ", and hadolint's `# hadolint ignore=%s` and `# hadolint global ignore=%s` are honoured too", r.Hadolint[0], r.Hadolint[0])
	}
	fmt.Fprintf(&b, ". To turn it off for a repository, or change its severity, use `.harden.yaml`:\n\n```yaml\nrules:\n  %s: off   # or info, warning, error\n```\n", r.Name)
	return b.String()
}

// RuleIndexMarkdown is the table of all rules (docs/rules/README.md).
func RuleIndexMarkdown(rules []*transform.Rule) string {
	var b strings.Builder
	b.WriteString("# harden rules\n\n")
	b.WriteString("Every rule harden applies or reports, in the order the engine runs them. " +
		"`harden rules` prints this list and `harden rules RULE` one rule's page. " +
		"These pages are generated from the rules themselves by `go generate ./internal/ruledocs`; " +
		"edit the rule, not the page.\n\n")
	b.WriteString("| ID | Rule | Severity | Fix | hadolint |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | [%s](%s.md): %s | %s | %s | %s |\n", r.ID, r.Name, r.Name, escapeCell(r.Title), r.Severity, safetyShort(r.Safety), hadolintCodes(r.Hadolint))
	}
	return b.String()
}

// RuleText is a rule's documentation for a terminal.
func RuleText(r *transform.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n\n", r.ID, r.Name, r.Title)
	fmt.Fprintf(&b, "Severity: %s\nFix:      %s\n", r.Severity, safetyText(r.Safety))
	if len(r.Hadolint) > 0 {
		fmt.Fprintf(&b, "hadolint: %s\n", strings.Join(r.Hadolint, ", "))
	}
	if r.SecuritySeverity > 0 {
		fmt.Fprintf(&b, "Security: %.1f (%s in GitHub code scanning)\n", r.SecuritySeverity, securityBand(r.SecuritySeverity))
	}
	fmt.Fprintf(&b, "Docs:     %s\n\n", r.DocURL())
	b.WriteString(wrap(r.Doc.Why, 78))
	b.WriteString("\n\nBad:\n\n")
	b.WriteString(indent(r.Doc.Bad, "    "))
	b.WriteString("\nGood:\n\n")
	b.WriteString(indent(r.Doc.Good, "    "))
	fmt.Fprintf(&b, "\nSilence it with \"# harden:ignore=%s <reason>\" above an instruction,\nor \"rules: {%s: off}\" in .harden.yaml.\n", r.Name, r.Name)
	return b.String()
}

func safetyMarkdown(s transform.Safety) string {
	switch s {
	case transform.Safe:
		return "safe: `harden fix` applies it"
	case transform.Structural:
		return "structural: `harden fix` applies it (not with `--level safe`)"
	}
	return "report only: harden explains, you decide"
}

func safetyText(s transform.Safety) string {
	return strings.ReplaceAll(safetyMarkdown(s), "`", "")
}

func safetyShort(s transform.Safety) string {
	if s == transform.ReportOnly {
		return "report only"
	}
	return string(s)
}

// hadolintWiki documents each hadolint rule.
const hadolintWiki = "https://github.com/hadolint/hadolint/wiki/"

func hadolintLinks(codes []string) string {
	if len(codes) == 0 {
		return "none"
	}
	links := make([]string, len(codes))
	for i, c := range codes {
		links[i] = "[" + c + "](" + hadolintWiki + c + ")"
	}
	return strings.Join(links, ", ")
}

func hadolintCodes(codes []string) string {
	if len(codes) == 0 {
		return ""
	}
	return strings.Join(codes, ", ")
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// wrap breaks text into lines of at most width columns at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(text) {
		switch {
		case col == 0:
		case col+1+len(word) > width:
			b.WriteString("\n")
			col = 0
		default:
			b.WriteString(" ")
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// escapeCell makes text safe inside a Markdown table cell: one line, no
// column breaks, and no "<digest>" that a renderer would take for HTML.
var cellEscaper = strings.NewReplacer("\r\n", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;")

// securityBand is how GitHub code scanning names a security-severity.
func securityBand(score float64) string {
	switch {
	case score >= 9:
		return "critical"
	case score >= 7:
		return "high"
	case score >= 4:
		return "medium"
	}
	return "low"
}

func escapeCell(s string) string { return cellEscaper.Replace(s) }

// ruleJSON is a rule as `harden rules --format json` lists it.
type ruleJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Title    string   `json:"title"`
	Severity string   `json:"severity"`
	Safety   string   `json:"safety"`
	Hadolint []string `json:"hadolint"`
	// SecuritySeverity is set for security rules (see transform.Rule).
	SecuritySeverity float64 `json:"securitySeverity,omitempty"`
	DocURL           string  `json:"docUrl"`
	Why              string  `json:"why"`
	Bad              string  `json:"bad"`
	Good             string  `json:"good"`
}

// RulesJSON writes rules and their documentation as a JSON array.
func RulesJSON(w io.Writer, rules []*transform.Rule) error {
	out := make([]ruleJSON, 0, len(rules))
	for _, r := range rules {
		out = append(out, ruleJSON{
			ID: r.ID, Name: r.Name, Title: r.Title, Severity: r.Severity.String(), Safety: string(r.Safety),
			Hadolint: append([]string{}, r.Hadolint...), SecuritySeverity: r.SecuritySeverity, DocURL: r.DocURL(),
			Why: r.Doc.Why, Bad: r.Doc.Bad, Good: r.Doc.Good,
		})
	}
	return encodeJSON(w, out)
}

package cmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/output"
	"github.com/harden-dev/harden/transform"
)

// RulesOptions are the flags and arguments of `harden rules`.
type RulesOptions struct {
	Streams *Streams

	Rules  []string
	Format string
}

// NewCmdRules builds `harden rules`. runF replaces the run function in
// tests.
func NewCmdRules(s *Streams, runF func(*RulesOptions) error) *cobra.Command {
	opts := &RulesOptions{Streams: s}
	c := &cobra.Command{
		Use:   "rules [RULE...]",
		Short: "List harden's rules, or explain one",
		Long: `rules lists every rule with its ID, name, severity, fix safety, hadolint codes and title,
in the order harden applies them. With RULE (an ID, a name or a hadolint code) it prints
that rule's documentation: why it matters, a bad and a good example, and how to silence it.

Fix safety: "safe" fixes keep the build's meaning and harden fix applies them; "structural"
fixes reshape the file (stages, base images, users) and are skipped by --level safe;
"report only" rules explain what to do and never edit.`,
		Example: `  harden rules                  # the table of all rules
  harden rules HD401            # explain one rule
  harden rules DL3002           # find a rule by its hadolint code
  harden rules --format json    # every rule and its documentation, for tools`,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Rules = args
			if runF != nil {
				return runF(opts)
			}
			return rulesRun(opts)
		},
	}
	c.Flags().StringVarP(&opts.Format, "format", "f", "text", "output format: text, json or markdown")
	return c
}

func rulesRun(opts *RulesOptions) error {
	format := strings.ToLower(opts.Format)
	switch format {
	case "text", "json", "markdown", "md":
	default:
		return usageError("unknown format %q (want text, json or markdown)", opts.Format)
	}
	rules := transform.All()
	if len(opts.Rules) > 0 {
		rules = rules[:0]
		for _, name := range opts.Rules {
			r, ok := transform.Lookup(name)
			if !ok {
				return usageError("unknown rule %q (run harden rules for the list)", name)
			}
			rules = append(rules, r)
		}
	}
	w := opts.Streams.Out
	switch {
	case format == "json":
		return output.RulesJSON(w, rules)
	case len(opts.Rules) == 0 && format == "text":
		return ruleTable(w, rules)
	case len(opts.Rules) == 0:
		_, err := io.WriteString(w, output.RuleIndexMarkdown(rules))
		return err
	}
	for i, r := range rules {
		page := output.RuleText(r)
		if format != "text" {
			page = output.RuleMarkdown(r)
		}
		if i > 0 {
			page = "\n" + page
		}
		if _, err := io.WriteString(w, page); err != nil {
			return err
		}
	}
	return nil
}

// ruleTable prints one rule per line in aligned columns.
func ruleTable(w io.Writer, rules []*transform.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSEVERITY\tFIX\tHADOLINT\tTITLE")
	for _, r := range rules {
		safety := string(r.Safety)
		if r.Safety == transform.ReportOnly {
			safety = "report-only"
		}
		hadolint := strings.Join(r.Hadolint, ",")
		if hadolint == "" {
			hadolint = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Severity, safety, hadolint, r.Title)
	}
	return tw.Flush()
}

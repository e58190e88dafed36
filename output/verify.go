package output

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/harden-dev/harden/transform"
)

// Verification is what `harden fix --verify` proved about one file by
// building and starting the images: which checks the proposed file passed,
// and which changes were left out because the image failed with them.
type Verification struct {
	// Status is "verified" (every change builds and starts), "reduced"
	// (some changes were left out, the rest builds and starts) or
	// "original-failed" (the original does not build or start, so
	// nothing is proposed).
	Status string
	// Checks lists what the proposed file passed, in order, e.g. "builds"
	// and "starts: port 8080/tcp accepted a connection (uid 10001)".
	Checks []string
	// Original says how the original fared, in the same words.
	Original string
	// OriginalLog shows why a failing original failed: the tail of the
	// failing step's log, or the container's last lines.
	OriginalLog []string
	// Dropped lists the changes left out, each with the failure.
	Dropped []DroppedChange
	// Note is anything else a reviewer must know, such as a smoke check
	// that cannot run on this machine.
	Note string
	// Builds is how many distinct files were built, Rounds how many
	// times harden-build ran.
	Builds, Rounds int
}

// DroppedChange is one rule's changes (or the generated .dockerignore)
// that the proposed file leaves out, and why.
type DroppedChange struct {
	// Rule is the rule; nil for the generated .dockerignore.
	Rule *transform.Rule
	// Changes describe what the full rewrite did with it.
	Changes []string
	// Tried names the file that had it and failed, e.g. "the full
	// rewrite".
	Tried string
	// Reason says how Tried failed, as a verb phrase that follows it:
	// "built but did not pass the smoke check: ...", "failed to build at
	// ...".
	Reason string
	// Step is the failing build step, when the build failed.
	Step string
	// Log is the tail of the failing step's log, or the container's last
	// lines.
	Log []string
}

// What names the dropped unit.
func (d DroppedChange) What() string {
	if d.Rule == nil {
		return "the generated .dockerignore"
	}
	return fmt.Sprintf("%s (%s)", d.Rule.Name, d.Rule.ID)
}

// Proposes reports whether the verification lets the file's changes be
// proposed at all.
func (v *Verification) Proposes() bool { return v == nil || v.Status != "original-failed" }

// writeVerification is the PR body's section on one verified file.
func writeVerification(bw *bufio.Writer, v *Verification) {
	switch v.Status {
	case "original-failed":
		fmt.Fprintf(bw, "\n**Nothing proposed.** %s, so harden cannot show that a change keeps it working.\n", capitalize(v.Original))
		if len(v.OriginalLog) > 0 {
			fence := codeFence(v.OriginalLog)
			fmt.Fprintf(bw, "\n%stext\n%s\n%s\n", fence, strings.Join(v.OriginalLog, "\n"), fence)
		}
	default:
		fmt.Fprintf(bw, "\n**Verified with BuildKit:** the proposed file %s; the original %s.", strings.Join(v.Checks, " and "), v.Original)
		if v.Status == "reduced" {
			fmt.Fprintf(bw, " Left out, because the image failed with %s:", pick(len(v.Dropped), "it", "them"))
		}
		bw.WriteString("\n")
	}
	if v.Note != "" {
		fmt.Fprintf(bw, "\n> %s\n", escapeCell(v.Note))
	}
	for _, d := range v.Dropped {
		bw.WriteString("\n")
		if d.Rule == nil {
			fmt.Fprintf(bw, "- the generated `.dockerignore`: %s %s\n", d.Tried, escapeCell(d.Reason))
		} else {
			fmt.Fprintf(bw, "- %s (%s): %s %s\n", ruleLink(d.Rule.ID, d.Rule.Name, d.Rule.DocURL()), plural(len(d.Changes), "change", "changes"), d.Tried, escapeCell(d.Reason))
			for _, c := range d.Changes {
				fmt.Fprintf(bw, "  - left out: %s\n", escapeCell(c))
			}
		}
		if len(d.Log) > 0 {
			fmt.Fprintf(bw, "\n  <details><summary>%s</summary>\n\n", logTitle(d))
			fence := codeFence(d.Log)
			fmt.Fprintf(bw, "  %stext\n", fence)
			for _, l := range d.Log {
				fmt.Fprintf(bw, "  %s\n", l)
			}
			fmt.Fprintf(bw, "  %s\n\n  </details>\n", fence)
		}
	}
	if v.Builds > 0 {
		fmt.Fprintf(bw, "\n<sub>%s in %s (`harden fix --verify`).</sub>\n", plural(v.Builds, "build", "builds"), plural(v.Rounds, "round", "rounds"))
	}
}

func logTitle(d DroppedChange) string {
	if d.Step != "" {
		return "last log lines of " + escapeCell(d.Step)
	}
	return "last lines the container printed"
}

// codeFence is a backtick fence longer than any run of backticks in lines.
func codeFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, r := range l {
			if r == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// verificationJSON is the fix JSON's "verification" of a file.
type verificationJSON struct {
	Status   string   `json:"status"`
	Checks   []string `json:"checks"`
	Original string   `json:"original"`
	// OriginalLog is set when the original failed.
	OriginalLog []string      `json:"originalLog,omitempty"`
	Dropped     []droppedJSON `json:"dropped"`
	Note        string        `json:"note,omitempty"`
	Builds      int           `json:"builds"`
	Rounds      int           `json:"rounds"`
}

type droppedJSON struct {
	// RuleID and RuleName are empty for the generated .dockerignore.
	RuleID   string   `json:"ruleId"`
	RuleName string   `json:"ruleName"`
	What     string   `json:"what"`
	Changes  []string `json:"changes"`
	Tried    string   `json:"tried"`
	Reason   string   `json:"reason"`
	Step     string   `json:"step,omitempty"`
	Log      []string `json:"log"`
}

func newVerificationJSON(v *Verification) *verificationJSON {
	if v == nil {
		return nil
	}
	out := &verificationJSON{Status: v.Status, Checks: append([]string{}, v.Checks...), Original: v.Original, OriginalLog: v.OriginalLog, Dropped: []droppedJSON{},
		Note: v.Note, Builds: v.Builds, Rounds: v.Rounds}
	for _, d := range v.Dropped {
		j := droppedJSON{What: d.What(), Changes: append([]string{}, d.Changes...), Tried: d.Tried, Reason: d.Reason, Step: d.Step, Log: append([]string{}, d.Log...)}
		if d.Rule != nil {
			j.RuleID, j.RuleName = d.Rule.ID, d.Rule.Name
		}
		out.Dropped = append(out.Dropped, j)
	}
	return out
}

// Package transform holds harden's rules and the engine that applies them.
//
// A rule is a small value (ID, name, title, doc, severity, safety) with a
// Check function that reports findings, each with an optional fix made of
// byte-range edits, in the spirit of golang.org/x/tools/go/analysis. The
// engine applies fixes rule by rule, re-parses after every change, refuses
// any fix that would leave a file BuildKit cannot parse or a RUN whose shell
// no longer parses or loses a command the fix did not mean to touch (the
// rule's other fixes still apply), and stops at a fixed point.
package transform

import (
	"fmt"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
)

// Severity orders findings for CI gates.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	default:
		return "error"
	}
}

// MarshalText writes the severity's name in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

// Safety says what kind of change a rule's fix makes.
type Safety string

const (
	// ReportOnly rules never edit; they explain what to do instead.
	ReportOnly Safety = "report"
	// Safe fixes keep the build's meaning: flags, cleanup, equivalent forms.
	Safe Safety = "safe"
	// Structural fixes reshape the file: stages, base images, users.
	Structural Safety = "structural"
)

// Doc is a rule's documentation, shown by `harden rules RULE` and in SARIF.
type Doc struct {
	Why  string // why the rule exists, in a paragraph
	Bad  string // a Dockerfile the rule flags
	Good string // the same Dockerfile as the rule wants it
}

// Rule is one hardening rule.
type Rule struct {
	ID       string // stable code, e.g. "HD101"
	Name     string // kebab-case name, e.g. "pip-no-cache-dir"
	Title    string // one line
	Severity Severity
	// SecuritySeverity rates a security rule from 0.1 to 10, as CVSS
	// does, for GitHub code scanning (SARIF's security-severity: 9 and up
	// critical, 7 high, 4 medium, below that low). It is 0 for rules about
	// size, cache hygiene and style.
	SecuritySeverity float64
	Safety           Safety
	Hadolint         []string // hadolint codes this rule covers, e.g. "DL3042"
	Doc              Doc
	// Check reports findings for one parsed file.
	Check func(p *Pass)
}

// Matches reports whether s names the rule by ID, name or hadolint code.
func (r *Rule) Matches(s string) bool {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, r.ID) || strings.EqualFold(s, r.Name) {
		return true
	}
	for _, h := range r.Hadolint {
		if strings.EqualFold(s, h) {
			return true
		}
	}
	return false
}

// DocURL is where the rule's documentation lives.
func (r *Rule) DocURL() string { return DocBaseURL + r.Name + ".md" }

// DocBaseURL prefixes rule documentation links.
const DocBaseURL = "https://github.com/harden-dev/harden/blob/main/docs/rules/"

// Finding is one problem in one file.
type Finding struct {
	Rule     *Rule
	Severity Severity
	File     string
	Line     int // 1-based
	Column   int // 1-based, in bytes
	EndLine  int
	Message  string
	// Fix is nil when the rule cannot prove a change safe; Message then
	// carries the advice.
	Fix *SuggestedFix
	// Unpinned are image references the fix writes (or, without a fix,
	// would write) by tag only where the base was pinned by digest.
	Unpinned []string
}

// SuggestedFix is a set of edits that together resolve a finding.
type SuggestedFix struct {
	// Description says what the fix does and why, for change summaries and
	// PR bodies.
	Description string
	// Notices are what people must do or know before the change ships: an
	// interface change (a port that moved), a migration operators run.
	// PR bodies list them apart, so that a reviewer cannot miss them.
	Notices []string
	Edits   []dockerfile.Edit
}

// Pass is what a rule sees while checking one file.
type Pass struct {
	Rule *Rule
	File *dockerfile.File
	// Context is the build context, or nil when unknown (stdin).
	Context *buildctx.Context
	// Level is the fix level in force; rules only report structural fixes
	// when it allows them.
	Level Level
	// Facts is what detection found about the app, or nil.
	Facts *detect.Result
	// Images maps build images to runtime images.
	Images baseimage.Mapping
	// User is the runtime user structural rules create.
	User RuntimeUser
	// MigrateVolumes lets non-root-user switch images whose VOLUMEs hold
	// existing data, whose owner an operator changes on upgrade.
	MigrateVolumes bool
	// Digests are the looked-up digests of image references (see
	// Options.Digests); nil when none were looked up.
	Digests map[string]Resolved

	findings []Finding
}

// RuntimeUser is the account structural rules create in a runtime image
// that does not ship one.
type RuntimeUser struct {
	Name string
	UID  int
	// GID is the group's id; zero means the same as UID.
	GID int
}

// Group returns the group id to create.
func (u RuntimeUser) Group() int {
	if u.GID == 0 {
		return u.UID
	}
	return u.GID
}

// DefaultUser is a system account with a UID outside the ranges distros
// and base images allocate, so it never collides with an existing user.
var DefaultUser = RuntimeUser{Name: "app", UID: 10001}

var noFacts = &detect.Result{Ecosystem: detect.Unknown}

// facts never returns nil, so rules can read fields without checks.
func (p *Pass) facts() *detect.Result {
	if p.Facts == nil {
		return noFacts
	}
	return p.Facts
}

// Report records a finding at an instruction.
func (p *Pass) Report(ins *dockerfile.Instruction, msg string, fix *SuggestedFix) {
	p.findings = append(p.findings, Finding{
		Rule:     p.Rule,
		Severity: p.Rule.Severity,
		File:     p.File.Name,
		Line:     ins.Line,
		Column:   ins.KeywordStart - p.File.LineStart(ins.Line) + 1,
		EndLine:  ins.EndLine,
		Message:  msg,
		Fix:      fix,
	})
}

// ReportAt records a finding at a shell command inside an instruction.
func (p *Pass) ReportAt(c *dockerfile.Command, msg string, fix *SuggestedFix) {
	ins := c.Script.Ins
	p.findings = append(p.findings, Finding{
		Rule:     p.Rule,
		Severity: p.Rule.Severity,
		File:     p.File.Name,
		Line:     c.Line(),
		Column:   c.Column(),
		EndLine:  ins.EndLine,
		Message:  msg,
		Fix:      fix,
	})
}

// ReportSeverity records a finding at an instruction with a severity of
// its own, for a case the rule knows to be less (or more) serious than its
// usual one: a placeholder credential for localhost is only a note.
func (p *Pass) ReportSeverity(ins *dockerfile.Instruction, sev Severity, msg string, fix *SuggestedFix) {
	p.Report(ins, msg, fix)
	p.findings[len(p.findings)-1].Severity = sev
}

// ReportAtSeverity is ReportSeverity at a shell command.
func (p *Pass) ReportAtSeverity(c *dockerfile.Command, sev Severity, msg string, fix *SuggestedFix) {
	p.ReportAt(c, msg, fix)
	p.findings[len(p.findings)-1].Severity = sev
}

// Scripts calls fn for every RUN whose shell code harden can parse. RUNs in
// another shell, or with syntax the shell parser rejects, are skipped: no
// rule edits what it cannot read. Exec-form RUNs are included (Form is
// ExecForm and AST is nil).
func (p *Pass) Scripts(fn func(s *dockerfile.Script)) {
	for _, ins := range p.File.Instructions {
		if ins.Keyword != "run" {
			continue
		}
		if s, err := ins.Script(); err == nil {
			fn(s)
		}
	}
}

// Commands calls fn for every simple command in every parsable RUN.
func (p *Pass) Commands(fn func(c *dockerfile.Command)) {
	p.Scripts(func(s *dockerfile.Script) {
		for _, c := range s.Commands {
			fn(c)
		}
	})
}

// Level selects which fixes the engine applies.
type Level int

const (
	// LevelSafe applies only safe fixes.
	LevelSafe Level = iota
	// LevelStructural also applies structural rewrites (the default).
	LevelStructural
)

// ParseLevel reads "safe" or "structural".
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "safe":
		return LevelSafe, nil
	case "structural", "all", "":
		return LevelStructural, nil
	}
	return 0, fmt.Errorf("unknown level %q (want safe or structural)", s)
}

func (l Level) allows(s Safety) bool {
	return s != Structural || l >= LevelStructural
}

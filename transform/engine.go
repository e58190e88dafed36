package transform

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
)

// maxPasses bounds the fixed-point loop. Every rule's fix removes the
// condition it reports, so real files settle in two passes; the bound only
// guards against two rules undoing each other.
const maxPasses = 8

// Options configure a run of the engine.
type Options struct {
	// Rules to run, in order; nil means All().
	Rules []*Rule
	// Level limits which fixes are applied.
	Level Level
	// Context is the build context, or nil when unknown.
	Context *buildctx.Context
	// Severity overrides a rule's severity by rule ID.
	Severity map[string]Severity
	// Facts is detection's result for the app, or nil.
	Facts *detect.Result
	// Images overrides base-image choices.
	Images baseimage.Mapping
	// User is the runtime user to create; zero means DefaultUser.
	User RuntimeUser
	// MigrateVolumes lets non-root-user add a user to images with VOLUMEs
	// (see Pass.MigrateVolumes).
	MigrateVolumes bool
	// Digests are the current digests of image references, keyed by the
	// reference as a rule writes it with global ARGs expanded
	// ("python:3.12-slim"). Rules that write another runtime image for a
	// base pinned by digest pin it with them; nil means none were looked up
	// (plain fix never looks any up).
	Digests map[string]Resolved
}

// Change is one applied fix, traced back to the input's lines.
type Change struct {
	Rule        *Rule
	Description string
	// Notices are the fix's notices (see SuggestedFix.Notices).
	Notices []string
	// Line and EndLine locate the change in the input file.
	Line, EndLine int
	// Start and End are the input byte range the change touched (equal for
	// a pure insertion).
	Start, End int
	// Unpinned are the image references the change wrote by tag only for
	// a base that was pinned by digest (see Result.Unpinned).
	Unpinned []string
}

// Result is the outcome of fixing one file.
type Result struct {
	Name   string
	Input  []byte
	Output []byte
	// Changes lists every applied fix in the order applied.
	Changes []Change
	// Findings are those still open in Output: problems without a safe fix,
	// fixes above the chosen level, and fixes the engine refused.
	Findings []Finding
	// File is Output parsed, for callers that go on to read it (the
	// .dockerignore plan, builds) without parsing it again.
	File *dockerfile.File
	// Unpinned are the image references, with global ARGs expanded, that
	// the changes wrote (or an open finding would write) by tag only where
	// the base image was pinned by digest and Options.Digests knew no
	// digest for them: the references to look up before running again.
	Unpinned []string
}

// Changed reports whether the output differs from the input.
func (r *Result) Changed() bool { return string(r.Input) != string(r.Output) }

// Check parses src and reports every finding without changing anything.
func Check(name string, src []byte, opts Options) ([]Finding, error) {
	f, err := dockerfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	return CheckFile(f, opts), nil
}

// CheckFile reports every finding in an already parsed file.
func CheckFile(f *dockerfile.File, opts Options) []Finding {
	var out []Finding
	for _, r := range opts.rules() {
		out = append(out, runRule(r, f, opts)...)
	}
	sortFindings(out)
	return out
}

// Fix parses src, applies rule fixes until nothing changes and returns the
// hardened text. It fails only when the input itself cannot be parsed; a
// fix that would break the file is dropped and reported as a finding.
func Fix(name string, src []byte, opts Options) (*Result, error) {
	f, err := dockerfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	return FixFile(f, opts)
}

// FixFile is Fix for an already parsed file; callers that parsed it for
// detection do not parse it twice.
func FixFile(f *dockerfile.File, opts Options) (*Result, error) {
	name, src := f.Name, f.Src
	res := &Result{Name: name, Input: src}
	var history []dockerfile.OffsetMap // one per applied step, oldest first
	// refused holds the fixes a guard turned down, by refusalKey, with the
	// reason; the rule's finding stays open with that reason instead.
	refused := map[string]string{}

	for pass := 0; ; pass++ {
		changed := false
		var open []Finding
		for _, r := range opts.rules() {
			var cands []Finding
			for _, fd := range runRule(r, f, opts) {
				if fd.Fix == nil || len(fd.Fix.Edits) == 0 {
					open = append(open, fd)
					continue
				}
				why := ""
				if len(refused) > 0 { // tracing the key costs; most files have no refusal
					why = refused[refusalKey(fd, history)]
				}
				if why != "" {
					open = append(open, refusal(fd, why))
				} else {
					cands = append(cands, fd)
				}
			}
			for len(cands) > 0 {
				edits, applied, rest := pickFixes(f, cands)
				open = append(open, rest...)
				if len(edits) == 0 {
					break
				}
				next, why := tryFixes(f, edits)
				if why == "" {
					step := dockerfile.NewOffsetMap(edits)
					for _, a := range applied {
						res.Changes = append(res.Changes, traceChange(r, a, f, history, src))
					}
					history = append(history, step)
					f = next
					changed = true
					break
				}
				// Find the fixes that fail on their own, refuse them and
				// retry the rule's others. When each passes alone and only
				// their combination fails, apply the first now and leave
				// the rest for the next pass.
				cands = cands[:0]
				for _, a := range applied {
					if _, why := tryFixes(f, a.Fix.Edits); why != "" {
						refused[refusalKey(a, history)] = why
						open = append(open, refusal(a, why))
					} else {
						cands = append(cands, a)
					}
				}
				if len(cands) == len(applied) {
					open = append(open, cands[1:]...)
					cands = cands[:1]
				}
			}
		}
		if !changed {
			res.Findings = open
			break
		}
		if pass+1 == maxPasses {
			return nil, &dockerfile.Error{File: name, Msg: "harden's rules did not settle on a fixed point; please report this file"}
		}
	}
	res.Output, res.File = f.Src, f
	sortFindings(res.Findings)
	res.Unpinned = unpinned(res)
	return res, nil
}

// tryFixes applies edits and runs the guards on the result: the edits must
// change the text (a fix that rewrites what is there with the same bytes
// would be found again on every pass), the file must still parse with
// BuildKit, and every RUN the edits touch must still parse as shell and
// keep the commands the edits did not touch. why says what failed.
func tryFixes(f *dockerfile.File, edits []dockerfile.Edit) (*dockerfile.File, string) {
	out, err := dockerfile.Apply(f.Src, edits)
	if err == nil && bytes.Equal(out, f.Src) {
		return nil, "it would change nothing"
	}
	var next *dockerfile.File
	if err == nil {
		// The new parse is the check that BuildKit still accepts the file.
		next, err = dockerfile.Parse(f.Name, out)
	}
	if err != nil {
		return nil, fmt.Sprintf("the result would not parse (%v)", err)
	}
	if why := checkShell(f, next, edits); why != "" {
		return nil, why
	}
	return next, ""
}

// refusalKey names a fix across passes: its rule and its edits traced back
// to the input, so that the same fix found again on a later pass is known.
func refusalKey(fd Finding, history []dockerfile.OffsetMap) string {
	var b strings.Builder
	b.WriteString(fd.Rule.ID)
	for _, e := range fd.Fix.Edits {
		start, end := e.Start, e.End
		for i := len(history) - 1; i >= 0; i-- {
			start, end = history[i].Before(start), history[i].Before(end)
		}
		fmt.Fprintf(&b, "|%d-%d:%s", start, end, e.New)
	}
	return b.String()
}

// refusal turns a finding whose fix a guard refused into an open finding
// that says what harden did not apply and why.
func refusal(fd Finding, why string) Finding {
	fd.Message = fmt.Sprintf("%s; harden did not apply its fix (%s) because %s; please report this file", fd.Message, fd.Fix.Description, why)
	fd.Fix = nil
	fd.Severity = max(fd.Severity, Warning)
	return fd
}

func (o Options) rules() []*Rule {
	if o.Rules == nil {
		return All()
	}
	return o.Rules
}

// runRule runs one rule and drops suppressed findings.
func runRule(r *Rule, f *dockerfile.File, opts Options) []Finding {
	user := opts.User
	if user.Name == "" {
		user = DefaultUser
	}
	p := &Pass{Rule: r, File: f, Context: opts.Context, Level: opts.Level, Facts: opts.Facts, Images: opts.Images, User: user, MigrateVolumes: opts.MigrateVolumes, Digests: opts.Digests}
	r.Check(p)
	out := p.findings[:0]
	for _, fd := range p.findings {
		if suppressed(f, r, fd.Line) {
			continue
		}
		if sev, ok := opts.Severity[r.ID]; ok {
			fd.Severity = sev
		}
		if fd.Fix != nil && !opts.Level.allows(r.Safety) {
			fd.Fix = nil
		}
		out = append(out, fd)
	}
	return out
}

// pickFixes takes the fixes of one rule's findings that do not overlap each
// other; the rest stay open and are retried on the next pass.
func pickFixes(f *dockerfile.File, findings []Finding) (edits []dockerfile.Edit, applied, open []Finding) {
	for _, fd := range findings {
		if fd.Fix == nil || len(fd.Fix.Edits) == 0 {
			open = append(open, fd)
			continue
		}
		conflict := false
		for _, e := range fd.Fix.Edits {
			for _, taken := range edits {
				if dockerfile.Overlap(e, taken) {
					conflict = true
				}
			}
		}
		if conflict || dockerfile.Validate(f.Src, fd.Fix.Edits) != nil {
			open = append(open, fd)
			continue
		}
		edits = append(edits, fd.Fix.Edits...)
		applied = append(applied, fd)
	}
	return edits, applied, open
}

// traceChange maps an applied fix back to the input's bytes and lines.
func traceChange(r *Rule, fd Finding, f *dockerfile.File, history []dockerfile.OffsetMap, input []byte) Change {
	start, end := len(f.Src), 0
	for _, e := range fd.Fix.Edits {
		start = min(start, e.Start)
		end = max(end, e.End)
	}
	for i := len(history) - 1; i >= 0; i-- {
		start, end = history[i].Before(start), history[i].Before(end)
	}
	end = max(end, start)
	return Change{
		Rule:        r,
		Description: fd.Fix.Description,
		Notices:     fd.Fix.Notices,
		Start:       start,
		End:         end,
		Line:        lineAt(input, start),
		EndLine:     lineAt(input, max(start, end-1)),
		Unpinned:    fd.Unpinned,
	}
}

func lineAt(src []byte, off int) int {
	off = min(off, len(src))
	return 1 + strings.Count(string(src[:off]), "\n")
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.Rule.ID, b.Rule.ID)
	})
}

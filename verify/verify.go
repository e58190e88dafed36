// Package verify decides which of harden's changes to a Dockerfile to
// propose once the images can be built and started (harden fix --verify).
//
// Static analysis cannot see every path an app writes or every library it
// loads at run time, so the proof is the image itself: the original is
// built and started first, then the full rewrite. When the rewrite fails
// and the original did not, the search looks for the largest set of
// changes that still builds and starts: it leaves out each structural
// change in turn (one rule's changes at a time: the user, the split, the
// base swap, the dependency reordering); when no single one is to blame,
// it starts again from the original and adds the generated ignore file and
// the safe rules (all at once when that passes, else one by one), then the
// structural rules one by one, keeping each that still passes. The result
// is maximal, not necessarily maximum: no change that was left out works
// when added back alone to what was kept before it.
//
// The package knows nothing of BuildKit: Plan.Make computes a variant of
// the file in process (the engine with fewer rules) and Plan.Run builds and
// starts a round of them, through harden-build. Variants whose text is the
// same are built once, and a round stops as soon as its answer is known:
// the first round at the first failure (a broken original needs no
// rewrite started), the leave-one-out round at the first variant that
// works, tried in the order that keeps the most changes.
package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/transform"
)

// Unit is one thing the search keeps or leaves out as a whole: every
// change one rule made, or the generated ignore file.
type Unit struct {
	// Rule is the rule; nil for the ignore file.
	Rule *transform.Rule
}

// IgnoreFile is the unit of the .dockerignore harden would write.
var IgnoreFile = Unit{}

// Structural reports whether the unit reshapes the file (a stage, a base,
// a user): those are left out one at a time first.
func (u Unit) Structural() bool { return u.Rule != nil && u.Rule.Safety == transform.Structural }

func (u Unit) String() string {
	if u.Rule == nil {
		return "the generated .dockerignore"
	}
	return fmt.Sprintf("%s (%s)", u.Rule.Name, u.Rule.ID)
}

// Candidate is one version of the Dockerfile to build and start.
type Candidate struct {
	// Keep are the units whose changes it has.
	Keep []Unit
	// Result is the engine's outcome for it (Output is the file).
	Result *transform.Result
	// Ignore is the ignore file its build uses; nil leaves the context's
	// own .dockerignore in force.
	Ignore []byte
}

func (c *Candidate) key() string {
	if c.Ignore == nil {
		return string(c.Result.Output) + "\x00-"
	}
	return string(c.Result.Output) + "\x00+" + string(c.Ignore)
}

// Plan is what a search needs.
type Plan struct {
	// Units are what the full rewrite changed, in the order the engine
	// applies them, the ignore file first.
	Units []Unit
	// Make computes the candidate with exactly the changes of keep.
	Make func(keep []Unit) (*Candidate, error)
	// Run builds and starts a round of candidates, in order, and returns
	// a verdict for each; with stop, the round ends at the first that
	// works or fails, and the rest are Skipped.
	Run func(round []Round, stop buildjob.StopAt) ([]buildjob.Verdict, error)
}

// Round is one candidate in a round, with a name for progress and errors.
type Round struct {
	Name      string
	Candidate *Candidate
}

// Status is the outcome of a search.
type Status string

const (
	// Verified: the full rewrite builds and starts.
	Verified Status = "verified"
	// Reduced: some changes were left out; the rest builds and starts.
	Reduced Status = "reduced"
	// OriginalFailed: the original itself does not build or start, so
	// nothing can be proved and nothing is proposed.
	OriginalFailed Status = "original-failed"
)

// Outcome is what the search found.
type Outcome struct {
	Status Status
	// Chosen is the candidate to propose; nil when the original failed.
	Chosen *Candidate
	// Original and Proposed are the verdicts of the original and of the
	// chosen candidate (the original's again when every change was left
	// out).
	Original, Proposed buildjob.Verdict
	// Dropped are the units left out, each with the failure that it
	// caused, in the order of Plan.Units.
	Dropped []Drop
	// Builds is how many distinct files were built and tried to the end,
	// Rounds how many times harden-build was run.
	Builds, Rounds int
}

// Drop is a unit left out and why.
type Drop struct {
	Unit Unit
	// Tried is the candidate that had the unit and failed, described as
	// a person reads it ("the full rewrite", "the safe changes with
	// non-root-user (HD409)").
	Tried string
	// Verdict is how it failed.
	Verdict buildjob.Verdict
}

// Search runs the search; an error means it could not be carried out
// (harden-build failed, or a smoke check could not run for a reason of the
// moment, such as a port taken on the host).
func Search(p Plan) (*Outcome, error) {
	s := &search{plan: p, seen: map[string]buildjob.Verdict{}}
	return s.run()
}

type search struct {
	plan Plan
	seen map[string]buildjob.Verdict
	out  Outcome
}

// trial is a candidate to try and what it is called.
type trial struct {
	name string
	keep []Unit
	cand *Candidate
}

func (s *search) try(name string, keep []Unit) (*trial, error) {
	c, err := s.plan.Make(keep)
	if err != nil {
		return nil, err
	}
	return &trial{name: name, keep: keep, cand: c}, nil
}

// works reports whether a verdict counts as working (buildjob's Works).
func works(v buildjob.Verdict) bool { return v.Works() }

// evaluate builds and starts the trials not seen before, in one round.
func (s *search) evaluate(stop buildjob.StopAt, trials ...*trial) error {
	var round []Round
	queued := map[string]bool{}
	for _, t := range trials {
		k := t.cand.key()
		if _, ok := s.seen[k]; ok || queued[k] {
			continue
		}
		queued[k] = true
		round = append(round, Round{Name: t.name, Candidate: t.cand})
	}
	if len(round) == 0 {
		return nil
	}
	verdicts, err := s.plan.Run(round, stop)
	if err != nil {
		return err
	}
	if len(verdicts) != len(round) {
		return fmt.Errorf("harden-build answered %d verdicts for %d candidates", len(verdicts), len(round))
	}
	s.out.Rounds++
	for i, v := range verdicts {
		if v.Skipped {
			continue
		}
		if v.Built && v.Smoke.Status == buildjob.SmokeUnavailable && !v.Smoke.Machine {
			return fmt.Errorf("%s: the smoke check could not run: %s", round[i].Name, v.Smoke.Reason)
		}
		s.out.Builds++
		s.seen[round[i].Candidate.key()] = v
	}
	return nil
}

func (s *search) verdict(t *trial) buildjob.Verdict { return s.seen[t.cand.key()] }

func (s *search) run() (*Outcome, error) {
	all := s.plan.Units
	orig, err := s.try("the original", nil)
	if err != nil {
		return nil, err
	}
	full, err := s.try("the full rewrite", all)
	if err != nil {
		return nil, err
	}
	if err := s.evaluate(buildjob.StopAtFailing, orig, full); err != nil {
		return nil, err
	}
	s.out.Original = s.verdict(orig)
	if !works(s.out.Original) {
		s.out.Status = OriginalFailed
		return &s.out, nil
	}
	if works(s.verdict(full)) {
		return s.choose(full, Verified), nil
	}

	var structural, rest []Unit
	for _, u := range all {
		if u.Structural() {
			structural = append(structural, u)
		} else {
			rest = append(rest, u)
		}
	}

	// Leave out each structural change in turn, keeping the most changes
	// first: the rule with the fewest changes, and at equal counts the one
	// applied last (a user is added once the file's shape is settled, so
	// nothing builds on it). The first that works is the answer.
	blame := slices.Clone(structural)
	count := func(u Unit) int {
		return len(slices.DeleteFunc(slices.Clone(full.cand.Result.Changes), func(c transform.Change) bool { return c.Rule != u.Rule }))
	}
	slices.SortStableFunc(blame, func(a, b Unit) int {
		if d := count(a) - count(b); d != 0 {
			return d
		}
		return slices.Index(all, b) - slices.Index(all, a)
	})
	var without []*trial
	for _, u := range blame {
		t, err := s.try("the full rewrite without "+u.String(), remove(all, u))
		if err != nil {
			return nil, err
		}
		without = append(without, t)
	}
	if err := s.evaluate(buildjob.StopAtWorking, without...); err != nil {
		return nil, err
	}
	for i, t := range without {
		if v, ok := s.seen[t.cand.key()]; ok && works(v) {
			s.drop(blame[i], "the full rewrite", s.verdict(full))
			return s.choose(t, Reduced), nil
		}
	}

	// Greedy from the original: the ignore file and the safe changes,
	// together if they pass together, then each structural change.
	base, baseTrial := []Unit(nil), orig
	if len(rest) > 0 {
		safe, err := s.try("the safe changes only", rest)
		if err != nil {
			return nil, err
		}
		if err := s.evaluate("", safe); err != nil {
			return nil, err
		}
		if works(s.verdict(safe)) {
			base, baseTrial = rest, safe
		} else {
			for _, u := range rest {
				if baseTrial, base, err = s.add(baseTrial, base, u); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, u := range structural {
		if baseTrial, base, err = s.add(baseTrial, base, u); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(s.out.Dropped, func(a, b Drop) int { return slices.Index(all, a.Unit) - slices.Index(all, b.Unit) })
	return s.choose(baseTrial, Reduced), nil
}

// add tries base with u; it keeps u when that passes, else drops it.
func (s *search) add(baseTrial *trial, base []Unit, u Unit) (*trial, []Unit, error) {
	keep := order(s.plan.Units, append(slices.Clone(base), u))
	name := s.describe(keep)
	t, err := s.try(name, keep)
	if err != nil {
		return nil, nil, err
	}
	if err := s.evaluate("", t); err != nil {
		return nil, nil, err
	}
	if works(s.verdict(t)) {
		return t, t.keep, nil
	}
	s.drop(u, name, s.verdict(t))
	return baseTrial, base, nil
}

// describe names the candidate with the changes of keep, as a person
// reads it: "the safe changes with non-root-user (HD409)".
func (s *search) describe(keep []Unit) string {
	var safe, structural []string
	allSafe := true
	for _, u := range s.plan.Units {
		switch {
		case slices.Contains(keep, u) && u.Structural():
			structural = append(structural, u.String())
		case slices.Contains(keep, u):
			safe = append(safe, u.String())
		case !u.Structural():
			allSafe = false
		}
	}
	switch {
	case len(keep) == 0:
		return "the original"
	case len(keep) == len(s.plan.Units):
		return "the full rewrite"
	case allSafe && len(safe) > 0 && len(structural) == 0:
		return "the safe changes only"
	case allSafe && len(safe) > 0:
		return "the safe changes with " + join(structural)
	}
	return "the original with " + join(append(safe, structural...))
}

// join lists items as "a", "a and b", "a, b and c".
func join(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func (s *search) drop(u Unit, tried string, v buildjob.Verdict) {
	s.out.Dropped = append(s.out.Dropped, Drop{Unit: u, Tried: tried, Verdict: v})
}

func (s *search) choose(t *trial, status Status) *Outcome {
	s.out.Status, s.out.Chosen, s.out.Proposed = status, t.cand, s.verdict(t)
	return &s.out
}

func remove(units []Unit, u Unit) []Unit {
	return slices.DeleteFunc(slices.Clone(units), func(x Unit) bool { return x == u })
}

// order returns keep in the order of all.
func order(all, keep []Unit) []Unit {
	var out []Unit
	for _, u := range all {
		if slices.Contains(keep, u) {
			out = append(out, u)
		}
	}
	return out
}

// Kept reports whether the outcome kept u.
func (o *Outcome) Kept(u Unit) bool {
	return o.Chosen != nil && slices.Contains(o.Chosen.Keep, u)
}

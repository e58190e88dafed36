package verify

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/transform"
)

var (
	pip   = Unit{transform.PipNoCacheDir}
	exec  = Unit{transform.ExecFormCmd}
	deps  = Unit{transform.DepsBeforeSource}
	split = Unit{transform.MultiStageBuild}
	user  = Unit{transform.NonRootUser}
)

// lab is a fake world: a candidate's text lists the units it keeps, and
// fails decides whether an image with those units works.
type lab struct {
	units  []Unit
	fails  func(keep []Unit) *buildjob.Verdict
	rounds [][]string
}

func (l *lab) plan() Plan {
	return Plan{Units: l.units, Make: l.make, Run: l.run}
}

func (l *lab) make(keep []Unit) (*Candidate, error) {
	res := &transform.Result{}
	var names []string
	for _, u := range keep {
		if u.Rule != nil {
			res.Changes = append(res.Changes, transform.Change{Rule: u.Rule})
			if u == split {
				res.Changes = append(res.Changes, transform.Change{Rule: u.Rule}, transform.Change{Rule: u.Rule})
			}
		}
		names = append(names, u.String())
	}
	res.Output = []byte(strings.Join(names, "+"))
	c := &Candidate{Keep: keep, Result: res}
	if slices.Contains(keep, IgnoreFile) {
		c.Ignore = []byte(".git\n")
	}
	return c, nil
}

// run answers as harden-build does: in order, and with stop, the rest of
// the round skipped once the answer is known.
func (l *lab) run(round []Round, stop buildjob.StopAt) ([]buildjob.Verdict, error) {
	var names []string
	var out []buildjob.Verdict
	settled := false
	for _, r := range round {
		if settled {
			out = append(out, buildjob.Verdict{Name: r.Name, Skipped: true})
			continue
		}
		names = append(names, r.Name)
		v := buildjob.Verdict{Name: r.Name, Built: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokePassed, UID: 10001}}
		if bad := l.fails(r.Candidate.Keep); bad != nil {
			v = *bad
			v.Name = r.Name
		}
		out = append(out, v)
		settled = stop == buildjob.StopAtWorking && v.Works() || stop == buildjob.StopAtFailing && !v.Works()
	}
	l.rounds = append(l.rounds, names)
	return out, nil
}

func startFails(reason string) *buildjob.Verdict {
	return &buildjob.Verdict{Built: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokeFailed, Reason: reason, Output: []string{"PermissionError"}}}
}

func buildFails(step string) *buildjob.Verdict {
	return &buildjob.Verdict{Failure: &buildjob.BuildFailure{Message: "exit code: 1", Step: step}}
}

func has(keep []Unit, us ...Unit) bool {
	for _, u := range us {
		if !slices.Contains(keep, u) {
			return false
		}
	}
	return true
}

func kept(o *Outcome) []Unit { return o.Chosen.Keep }

func dropped(o *Outcome) []Unit {
	var out []Unit
	for _, d := range o.Dropped {
		out = append(out, d.Unit)
	}
	return out
}

func TestEverythingWorksIsOneRound(t *testing.T) {
	l := &lab{units: []Unit{IgnoreFile, pip, split, user}, fails: func([]Unit) *buildjob.Verdict { return nil }}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != Verified || !slices.Equal(kept(o), l.units) || len(o.Dropped) != 0 || o.Rounds != 1 || o.Builds != 2 {
		t.Errorf("outcome %+v, rounds %q", o, l.rounds)
	}
	if !slices.Equal(l.rounds[0], []string{"the original", "the full rewrite"}) {
		t.Errorf("round 1: %q", l.rounds[0])
	}
}

func TestABrokenOriginalProposesNothing(t *testing.T) {
	l := &lab{units: []Unit{pip, user}, fails: func(keep []Unit) *buildjob.Verdict {
		if len(keep) == 0 {
			return startFails("the process exited before port 8080 answered")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != OriginalFailed || o.Chosen != nil || o.Original.Smoke.Status != buildjob.SmokeFailed || o.Rounds != 1 || o.Builds != 1 {
		t.Errorf("outcome %+v", o)
	}
	if !slices.Equal(l.rounds[0], []string{"the original"}) {
		t.Errorf("the rewrite need not be started once the original failed: %q", l.rounds)
	}
}

func TestOneStructuralCulpritIsLeftOut(t *testing.T) {
	l := &lab{units: []Unit{IgnoreFile, pip, deps, split, user}, fails: func(keep []Unit) *buildjob.Verdict {
		if has(keep, user) {
			return startFails("the process exited before port 8080 answered")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != Reduced || !slices.Equal(kept(o), []Unit{IgnoreFile, pip, deps, split}) || !slices.Equal(dropped(o), []Unit{user}) {
		t.Fatalf("kept %v, dropped %v", kept(o), dropped(o))
	}
	d := o.Dropped[0]
	if d.Tried != "the full rewrite" || d.Verdict.Smoke.Status != buildjob.SmokeFailed || !o.Proposed.Works() {
		t.Errorf("drop %+v, proposed %+v", d, o.Proposed)
	}
	// The user and the dependency order have a change each, the split
	// three: the user, applied last, is left out first, and that works.
	want := []string{"the full rewrite without non-root-user (HD409)"}
	if o.Rounds != 2 || o.Builds != 3 || !slices.Equal(l.rounds[1], want) {
		t.Errorf("round 2 = %q, want %q; %d builds", l.rounds[1], want, o.Builds)
	}
}

func TestTwoCulpritsAreFoundGreedily(t *testing.T) {
	l := &lab{units: []Unit{pip, exec, deps, split, user}, fails: func(keep []Unit) *buildjob.Verdict {
		switch {
		case has(keep, split):
			return buildFails("[builder 3/4] RUN pip install -r requirements.txt")
		case has(keep, user):
			return startFails("no answer on port 8080 within 30s")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept(o), []Unit{pip, exec, deps}) || !slices.Equal(dropped(o), []Unit{split, user}) {
		t.Fatalf("kept %v, dropped %v", kept(o), dropped(o))
	}
	if d := o.Dropped[0]; d.Tried != "the safe changes with deps-before-source (HD501) and multi-stage-build (HD502)" || d.Verdict.Failure == nil {
		t.Errorf("split dropped for %+v", d)
	}
	if d := o.Dropped[1]; d.Tried != "the safe changes with deps-before-source (HD501) and non-root-user (HD409)" || d.Verdict.Smoke.Reason != "no answer on port 8080 within 30s" {
		t.Errorf("user dropped for %+v", d)
	}
	// The original and rewrite; the three without-one, none of which
	// works; the safe changes; with deps. With split and with user, added
	// to that, are the rewrite without user and without split: built
	// already.
	want := [][]string{{"the original", "the full rewrite"},
		{"the full rewrite without non-root-user (HD409)", "the full rewrite without deps-before-source (HD501)", "the full rewrite without multi-stage-build (HD502)"},
		{"the safe changes only"}, {"the safe changes with deps-before-source (HD501)"}}
	if o.Rounds != 4 || o.Builds != 7 || len(l.rounds) != len(want) {
		t.Fatalf("rounds %d, builds %d: %q", o.Rounds, o.Builds, l.rounds)
	}
	for i := range want {
		if !slices.Equal(l.rounds[i], want[i]) {
			t.Errorf("round %d = %q, want %q", i+1, l.rounds[i], want[i])
		}
	}
}

func TestASafeCulpritIsNarrowedDown(t *testing.T) {
	l := &lab{units: []Unit{IgnoreFile, pip, exec, split, user}, fails: func(keep []Unit) *buildjob.Verdict {
		if has(keep, IgnoreFile) {
			return startFails("FileNotFoundError: '.env'")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept(o), []Unit{pip, exec, split, user}) || !slices.Equal(dropped(o), []Unit{IgnoreFile}) {
		t.Fatalf("kept %v, dropped %v", kept(o), dropped(o))
	}
	if o.Dropped[0].Tried != "the original with the generated .dockerignore" || o.Chosen.Ignore != nil {
		t.Errorf("drop %+v, ignore %q", o.Dropped[0], o.Chosen.Ignore)
	}
}

func TestAnInteractionDropsTheSmallerSide(t *testing.T) {
	// Each works alone; together they fail. Leaving out the user keeps
	// the split's three changes.
	l := &lab{units: []Unit{pip, split, user}, fails: func(keep []Unit) *buildjob.Verdict {
		if has(keep, split, user) {
			return startFails("the process exited after 0.2s (wanted it running for 3s)")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept(o), []Unit{pip, split}) || !slices.Equal(dropped(o), []Unit{user}) || o.Rounds != 2 {
		t.Errorf("kept %v, dropped %v, rounds %d", kept(o), dropped(o), o.Rounds)
	}
}

func TestSameTextIsBuiltOnce(t *testing.T) {
	// With one structural unit, the rewrite without it is the safe-only
	// file: one build serves both.
	l := &lab{units: []Unit{pip, user}, fails: func(keep []Unit) *buildjob.Verdict {
		if has(keep, user) {
			return startFails("exited")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if o.Builds != 3 || len(l.rounds[1]) != 1 || !slices.Equal(kept(o), []Unit{pip}) {
		t.Errorf("builds %d, rounds %q, kept %v", o.Builds, l.rounds, kept(o))
	}
}

func TestEverythingDroppedLeavesTheOriginal(t *testing.T) {
	l := &lab{units: []Unit{pip, user}, fails: func(keep []Unit) *buildjob.Verdict {
		if len(keep) > 0 {
			return buildFails("[2/3] RUN pip install --no-cache-dir flask")
		}
		return nil
	}}
	o, err := Search(l.plan())
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != Reduced || len(kept(o)) != 0 || !slices.Equal(dropped(o), []Unit{pip, user}) || o.Proposed.Name != "the original" || o.Builds != 4 {
		t.Errorf("outcome %+v", o)
	}
}

func TestSmokeThatCannotRunHere(t *testing.T) {
	machine := func(keep []Unit) *buildjob.Verdict {
		return &buildjob.Verdict{Built: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokeUnavailable, Machine: true, Reason: "smoke check unavailable: must run as root"}}
	}
	o, err := Search((&lab{units: []Unit{pip, user}, fails: machine}).plan())
	if err != nil || o.Status != Verified {
		t.Errorf("without root the builds are what is verified: %+v, %v", o, err)
	}
	busy := func(keep []Unit) *buildjob.Verdict {
		return &buildjob.Verdict{Built: true, Smoke: buildjob.SmokeVerdict{Status: buildjob.SmokeUnavailable, Reason: "port 8080 already answers on this host"}}
	}
	if _, err := Search((&lab{units: []Unit{pip, user}, fails: busy}).plan()); err == nil || !strings.Contains(err.Error(), "the original: the smoke check could not run: port 8080 already answers") {
		t.Errorf("a check that could not run this time proves nothing: %v", err)
	}
}

func TestErrorsStopTheSearch(t *testing.T) {
	boom := errors.New("harden-build: cannot reach BuildKit")
	p := Plan{Units: []Unit{pip}, Make: (&lab{}).make, Run: func([]Round, buildjob.StopAt) ([]buildjob.Verdict, error) { return nil, boom }}
	if _, err := Search(p); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	p.Run = func([]Round, buildjob.StopAt) ([]buildjob.Verdict, error) { return []buildjob.Verdict{{}}, nil }
	if _, err := Search(p); err == nil || !strings.Contains(err.Error(), "1 verdicts for 2 candidates") {
		t.Errorf("err = %v", err)
	}
}

package transform

import (
	"strings"
	"testing"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/runmodel"
)

// TestNonRootRewritesCanWriteWhatTheAppWrites holds every rewrite that
// switches a Dockerfile of the testdata to a non-root USER to the model of
// the original app: each path the model says the app writes (VOLUMEs
// aside, which are the operator's to migrate) is writable by that user in
// the rewritten file, and when the app uses a home folder, the user's
// home exists and is theirs. Ownership is worked out from the rewritten
// Dockerfile's own instructions (runmodel.OwnershipOf).
func TestNonRootRewritesCanWriteWhatTheAppWrites(t *testing.T) {
	checked := 0
	for _, c := range testCorpus(t) {
		in, err := dockerfile.Parse(c.name, c.src)
		if err != nil {
			continue
		}
		opts := corpusOptions(t, c)
		res, err := Fix(c.name, c.src, opts)
		if err != nil {
			continue // TestProperties reports it
		}
		before, _ := finalUser(in)
		after, _ := finalUser(res.File)
		if after == "" || rootUser(after) || after == before {
			continue
		}
		checked++
		model := modelOf(opts, in)
		outFacts := imageFactsOf(res.File.FinalStage())
		outModel := modelOf(opts, res.File)
		user := resolveUser(after, outModel)
		own := runmodel.OwnershipOf(res.File, nil, opts.Context, baseUserOf(outFacts))
		for _, w := range model.Writes {
			if w.Volume {
				continue
			}
			if ok, why := own.Writable(w, user); !ok {
				t.Errorf("%s: the rewrite runs as %s, which cannot do %s %s (%s): %s\nowners: %v\n%s",
					c.name, after, w.Kind, w.Path, w.Why.String(), why, own.Paths(), res.Output)
			}
		}
		if model.Home != nil && !own.HomeUsable(user.Home, user) {
			t.Errorf("%s: the app uses a home folder (%s), but %s's home %q is missing or not theirs\n%s",
				c.name, model.Home.String(), after, user.Home, res.Output)
		}
	}
	if checked < 20 {
		t.Errorf("only %d rewrites switched to a non-root user; the corpus or the rule is broken", checked)
	}
	t.Logf("%d non-root rewrites checked against the model", checked)
}

func imageFactsOf(st *dockerfile.Stage) detect.ImageFacts {
	root := rootImage(st)
	switch {
	case root.Scratch:
		return detect.Image("scratch")
	case root.Known:
		return detect.Image(root.Ref)
	}
	return detect.ImageFacts{}
}

func modelOf(opts Options, f *dockerfile.File) *runmodel.Model {
	p := &Pass{File: f, Context: opts.Context}
	return p.runModel(f.FinalStage(), imageFactsOf(f.FinalStage()))
}

func baseUserOf(facts detect.ImageFacts) *runmodel.User {
	if facts.User == nil {
		return nil
	}
	return facts.RunImage().User
}

// resolveUser turns a USER value into the account it names, with its home,
// from the rewritten file's own users.
func resolveUser(ref string, m *runmodel.Model) runmodel.User {
	name, _, _ := strings.Cut(ref, ":")
	u := runmodel.User{Name: name, UID: -1, GID: -1}
	if n := atoiOrMinus(name); n >= 0 {
		u = runmodel.User{UID: n, GID: -1}
	}
	for _, known := range m.Users {
		if known.Stage != "" {
			continue
		}
		if known.Name == u.Name && u.Name != "" || known.UID == u.UID && u.UID >= 0 {
			u.Name, u.UID, u.Home = known.Name, known.UID, known.Home
			if !known.HomeExists && u.Home != "" {
				u.Home = "" // a home the account's creation does not make
			}
			if u.UID < 0 && known.UID >= 0 {
				u.UID = known.UID
			}
		}
	}
	if u.Home == "" && u.UID == 65532 {
		u.Name, u.Home = "nonroot", "/home/nonroot"
	}
	for _, e := range envHome(m) {
		u.Home = e
	}
	return u
}

// envHome is HOME as an ENV of the model's stage sets it.
func envHome(m *runmodel.Model) []string { return m.EnvHome() }

func atoiOrMinus(s string) int {
	if s == "" {
		return -1
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

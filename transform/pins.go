package transform

import (
	"slices"
	"strings"

	"github.com/harden-dev/harden/baseimage"
)

// Resolved is what looking up the current digest of an image reference
// found. The engine never looks anything up itself: fix --build, fix
// --verify and report ask harden-build, which asks the BuildKit they build
// with, for the references a first run left without a pin (Result.Unpinned),
// and run the engine again with the answers (Options.Digests).
type Resolved struct {
	// Digest is the manifest digest the tag pointed to ("sha256:<hex>"):
	// for a multi-platform image the digest of its index, as `docker
	// buildx imagetools inspect` prints it. Empty when the lookup failed.
	Digest string
	// Failure says why the lookup failed (a tag that does not exist, a
	// registry out of reach).
	Failure string
}

// resolvedDigest is the digest to write after runtime, an image another
// than base that a rule writes for a stage built on base: known only when
// base is pinned by digest, runtime is not, and a lookup found one. Both
// are references with global ARGs expanded.
func (p *Pass) resolvedDigest(base, runtime string) string {
	b, r := baseimage.Parse(base), baseimage.Parse(runtime)
	if b.Digest == "" || r.Digest != "" || base == runtime {
		return ""
	}
	return p.Digests[runtime].Digest
}

// pinClauses are the clauses of a change summary about the pin of written,
// the runtime image a rule writes (global ARGs expanded) for a stage whose
// base was base. lost is written when it ends up without a digest although
// base had one, for Result.Unpinned; it is "" otherwise.
//
// The clauses say only what follows from the output: that written carries
// the digest a lookup resolved for its tag on the day of this build, or that
// it carries none (and, when a lookup failed, why).
func (p *Pass) pinClauses(base, written string) (clauses []string, lost string) {
	b, w := baseimage.Parse(base), baseimage.Parse(written)
	if b.Digest == "" || written == base {
		return nil, ""
	}
	if w.Digest != "" {
		tag := w
		tag.Digest = ""
		if res, ok := p.Digests[tag.String()]; ok && res.Digest == w.Digest {
			return []string{tag.String() + " is pinned to " + w.Digest + ", the digest BuildKit resolved for that tag on the day of this build"}, ""
		}
		return nil, "" // pinned by the mapping itself (an override with a digest)
	}
	b.Digest = ""
	clauses = []string{written + " is pinned by tag only, not by digest as " + b.String() + " was"}
	if res, ok := p.Digests[written]; ok && res.Digest == "" {
		clauses = append(clauses, "looking up the digest of "+written+" through BuildKit failed: "+oneClause(res.Failure))
	}
	return clauses, written
}

// oneClause flattens a message into a single summary clause: summaries
// are split into clauses at "; " and printed one change a line.
func oneClause(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "; ", ", ")
	if s == "" {
		return "no reason given"
	}
	return s
}

// lostPins marks the finding just reported: its fix writes (or, without
// a fix, would write) the image references refs by tag only, where the
// base image they replace was pinned by digest.
func (p *Pass) lostPins(refs ...string) {
	if len(refs) == 0 || len(p.findings) == 0 {
		return
	}
	fd := &p.findings[len(p.findings)-1]
	fd.Unpinned = append(fd.Unpinned, refs...)
}

// lostPin is the list for lostPins of what pinClauses returned as lost.
func lostPin(ref string) []string {
	if ref == "" {
		return nil
	}
	return []string{ref}
}

// unpinned collects the references the applied changes and the open
// findings of a result wrote or would write without a pin, sorted once each.
func unpinned(res *Result) []string {
	var refs []string
	for _, c := range res.Changes {
		refs = append(refs, c.Unpinned...)
	}
	for _, f := range res.Findings {
		refs = append(refs, f.Unpinned...)
	}
	slices.Sort(refs)
	return slices.Compact(refs)
}

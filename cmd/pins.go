package cmd

import (
	"bytes"
	"strings"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/transform"
)

// digestLookup finds the current digest of each image reference, or why it
// could not. Only the commands that build with BuildKit anyway (fix
// --build, fix --verify, report) have one; plain fix never looks anything
// up, so that it works offline and its output depends on the file alone.
type digestLookup func(refs []string) map[string]transform.Resolved

// pinAgain gives back the pins a rewrite dropped: when the engine wrote
// another runtime image, by tag only, for a base pinned by digest, the
// digests of those tags are looked up and the engine runs again with them,
// which pins each one it found and says why for the others. The digests
// stay in p's options, so that fix --verify's variants pin alike. With no
// lookup, or nothing unpinned, res is returned as it is.
func pinAgain(p *prepared, res *transform.Result, lookup digestLookup) (*transform.Result, error) {
	if lookup == nil || res == nil || len(res.Unpinned) == 0 {
		return res, nil
	}
	p.options.Digests = lookup(res.Unpinned)
	return transform.FixFile(p.file, p.options)
}

// buildKitLookup looks digests up through harden-build and the BuildKit it
// reaches (host and tls as for the builds), for platform ("" is the
// daemon's). A lookup that cannot run at all (BuildKit out of reach, a
// harden-build from another release) is a failure of every reference with
// harden-build's reason, not an error: the rewrite keeps the tags and its
// summary says why they are not pinned.
func buildKitLookup(host string, tls buildjob.TLS, platform string) digestLookup {
	return func(refs []string) map[string]transform.Resolved {
		var answer buildjob.ResolveResult
		var stderr bytes.Buffer
		job := buildjob.Job{Kind: buildjob.KindResolve, BuildKitHost: host, TLS: tls, Platform: platform, Images: refs}
		code, err := buildjob.RunJSON(job, &answer, &stderr)
		failure := ""
		switch {
		case err != nil:
			failure = err.Error()
		case code != buildjob.ExitOK:
			failure = firstLine(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "harden: "))
			if failure == "" {
				failure = buildjob.Program + " failed without a reason"
			}
		}
		out := make(map[string]transform.Resolved, len(refs))
		for _, ref := range refs {
			out[ref] = transform.Resolved{Failure: failure}
		}
		if failure != "" {
			return out
		}
		for _, im := range answer.Images {
			if _, asked := out[im.Ref]; asked {
				out[im.Ref] = transform.Resolved{Digest: im.Digest, Failure: im.Error}
			}
		}
		for ref, r := range out {
			if r.Digest == "" && r.Failure == "" {
				out[ref] = transform.Resolved{Failure: buildjob.Program + " gave no answer for it"}
			}
		}
		return out
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

package report

import (
	"context"
	"encoding/json"
	"io"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/buildjob"
)

// digestResolver is the part of build.Client a resolve job needs.
type digestResolver interface {
	ResolveDigests(ctx context.Context, refs []string, platform string) ([]build.Resolved, error)
}

// serveResolve answers a KindResolve job: the digest each image's tag
// points to, or why it could not be looked up. A reference that does not
// resolve is an answer, not a failed job: harden keeps it by tag and says
// why.
func serveResolve(ctx context.Context, r digestResolver, job buildjob.Job, out io.Writer) error {
	found, err := r.ResolveDigests(ctx, job.Images, job.Platform)
	if err != nil {
		return err
	}
	res := buildjob.ResolveResult{Protocol: buildjob.Protocol, Images: make([]buildjob.ResolvedImage, len(found))}
	for i, f := range found {
		res.Images[i] = buildjob.ResolvedImage{Ref: f.Ref, Digest: f.Digest}
		if f.Err != nil {
			res.Images[i].Error = f.Err.Error()
		}
	}
	return json.NewEncoder(out).Encode(res)
}

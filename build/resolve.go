package build

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolved is the lookup of one image reference's current digest.
type Resolved struct {
	// Ref is the reference as asked.
	Ref string
	// Digest is what the tag points to (sha256:...); empty when Err is set.
	Digest string
	Err    error
}

// ResolveDigests looks up the digest each of refs ("python:3.12-slim",
// "gcr.io/distroless/static-debian12:nonroot") points to today, the way a
// build of FROM ref would: through this BuildKit, its registry mirrors and
// the user's registry credentials, always asking the registry rather than
// a cache. Nothing is built. A reference that does not resolve gets its own
// error; the returned error is for a session that could not run at all.
//
// platform ("linux/arm64") is the platform being built; empty means the
// daemon's own, as in a build without --platform. BuildKit checks that the
// image has that platform, but the digest is that of what the tag names:
// for a multi-platform image the index, which is what `docker buildx
// imagetools inspect` prints and what a FROM pinned for every platform
// needs, not the one platform's manifest.
func (c *Client) ResolveDigests(ctx context.Context, refs []string, platform string) ([]Resolved, error) {
	var plat *ocispecs.Platform
	if platform != "" {
		p, err := platforms.Parse(platform)
		if err != nil {
			return nil, fmt.Errorf("platform %q: %w", platform, err)
		}
		p = platforms.Normalize(p)
		plat = &p
	}
	out := make([]Resolved, len(refs))
	opt := bkclient.SolveOpt{Session: []session.Attachable{registryAuth(io.Discard)}}
	_, err := c.bk.Build(ctx, opt, "harden", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		for i, ref := range refs {
			out[i] = resolveOne(ctx, gw, ref, plat)
		}
		return gateway.NewResult(), nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func resolveOne(ctx context.Context, gw gateway.Client, ref string, plat *ocispecs.Platform) Resolved {
	res := Resolved{Ref: ref}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		res.Err = fmt.Errorf("%s is not an image reference: %w", ref, err)
		return res
	}
	if _, pinned := named.(reference.Digested); pinned {
		res.Err = errors.New(ref + " is pinned already")
		return res
	}
	full := reference.TagNameOnly(named).String() // docker.io/library/python:3.12-slim
	_, dgst, _, err := gw.ResolveImageConfig(ctx, full, sourceresolver.Opt{
		LogName:  "resolve " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: plat, ResolveMode: llb.ResolveModeForcePull.String()},
	})
	switch {
	case err != nil:
		res.Err = err
	case dgst == "":
		res.Err = errors.New("BuildKit returned no digest for " + full)
	default:
		res.Digest = dgst.String()
	}
	return res
}

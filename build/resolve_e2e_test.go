package build_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/harden-dev/harden/internal/bktest"
)

// TestResolveDigestsAsPushed looks digests up through BuildKit and its
// registry mirror: a single image's tag resolves to its manifest digest, a
// multi-platform tag to its index digest (what imagetools inspect prints),
// and a tag that is missing, or an index without the platform being built,
// to an error of its own while the others still resolve.
func TestResolveDigestsAsPushed(t *testing.T) {
	c, env := connect(t)
	single := env.PushStandIn(t, "python:3.10-slim", bktest.PythonSlim, "3.10.14")

	base, err := bktest.NewStandIn(bktest.Busybox, "")
	if err != nil {
		t.Fatal(err)
	}
	var adds []mutate.IndexAddendum
	for _, arch := range []string{runtime.GOARCH, "s390x"} {
		cf, err := base.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, err := mutate.ConfigFile(base, cf)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	index, err := env.Registry.PushIndex("gcr.io/example/multi:1", mutate.AppendManifests(empty.Index, adds...))
	if err != nil {
		t.Fatal(err)
	}

	refs := []string{"python:3.10-slim", "gcr.io/example/multi:1", "python:3.10-nosuchtag"}
	got, err := c.ResolveDigests(context.Background(), refs, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(refs) {
		t.Fatalf("%d answers for %d references", len(got), len(refs))
	}
	for i, want := range []string{single.String(), index.String()} {
		if got[i].Ref != refs[i] || got[i].Err != nil || got[i].Digest != want {
			t.Errorf("%s: got %+v, want digest %s", refs[i], got[i], want)
		}
	}
	if got[2].Err == nil || got[2].Digest != "" || !strings.Contains(got[2].Err.Error(), "not found") {
		t.Errorf("a missing tag must fail on its own: %+v", got[2])
	}
	t.Logf("a missing tag: %v", got[2].Err)

	// The index has no arm/v5 image: BuildKit refuses it for that build.
	got, err = c.ResolveDigests(context.Background(), []string{"gcr.io/example/multi:1"}, "linux/arm/v5")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "no match for platform") {
		t.Errorf("an index without the platform being built must fail for that: %+v", got[0])
	}
}

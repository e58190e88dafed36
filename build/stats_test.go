package build_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
)

func image(t *testing.T, cfg v1.Config, sizes ...int) v1.Image {
	t.Helper()
	var layers []v1.Layer
	for i, n := range sizes {
		l, err := bktest.Layer(bktest.File{Path: "/data/" + string(rune('a'+i)), Data: bktest.RandomBytes(n)})
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := bktest.Image(cfg, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestMeasureSumsLayers(t *testing.T) {
	img := image(t, v1.Config{User: "app", ExposedPorts: map[string]struct{}{"9000/udp": {}, "8080/tcp": {}}}, 10_000, 200_000, 0)
	s, err := build.Measure(img)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	var compressed, uncompressed int64
	for _, l := range layers {
		rc, _ := l.Compressed()
		gz, _ := io.ReadAll(rc)
		rc.Close()
		compressed += int64(len(gz))
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, zr)
		uncompressed += n
	}
	if s.CompressedSize != compressed || s.UncompressedSize != uncompressed || s.Layers != 3 {
		t.Errorf("got %d/%d bytes in %d layers, want %d/%d in 3", s.CompressedSize, s.UncompressedSize, s.Layers, compressed, uncompressed)
	}
	// Tar pads each file to 512 bytes and ends with two zero blocks.
	if uncompressed < 210_000 || uncompressed > 210_000+3*(512*6) {
		t.Errorf("uncompressed %d is not 210 kB of files plus tar headers", uncompressed)
	}
	if s.User != "app" || s.IsRoot() || len(s.ExposedPorts) != 2 || s.ExposedPorts[0] != "8080/tcp" {
		t.Errorf("config: %+v", s)
	}
}

func TestIsRoot(t *testing.T) {
	for user, want := range map[string]bool{"": true, "root": true, "0": true, "0:0": true, "root:app": true, "10001": false, "app": false, "10001:0": false} {
		if got := (build.Stats{User: user}).IsRoot(); got != want {
			t.Errorf("User %q: IsRoot %v, want %v", user, got, want)
		}
	}
}

// An index as BuildKit writes for multi-platform builds with attestations.
func TestOpenImagePicksPlatformAndSkipsAttestations(t *testing.T) {
	amd := image(t, v1.Config{User: "amd"}, 100)
	arm := image(t, v1.Config{User: "arm"}, 100)
	att := image(t, v1.Config{User: "attestation"}, 100)
	inner := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	dir := t.TempDir()
	if _, err := layout.Write(dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})); err != nil {
		t.Fatal(err)
	}
	for platform, want := range map[string]string{"linux/amd64": "amd", "linux/arm64": "arm", "": "arm"} {
		img, err := build.OpenImage(dir, platform)
		if err != nil {
			t.Fatalf("%q: %v", platform, err)
		}
		cf, _ := img.ConfigFile()
		if cf.Config.User != want {
			t.Errorf("platform %q opened the %q image, want %q", platform, cf.Config.User, want)
		}
	}
	if _, err := build.OpenImage(dir, "linux/s390x"); err == nil {
		t.Error("no s390x image, yet OpenImage found one")
	}
}

package build

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Stats are the measures harden reports for one image.
type Stats struct {
	// Digest is the image manifest digest.
	Digest string `json:"digest"`
	// CompressedSize is the sum of the layer blobs: what a registry stores and
	// a pull downloads.
	CompressedSize int64 `json:"compressed_size"`
	// UncompressedSize is the sum of the unpacked layer tars: what
	// `docker images` shows and the disk an unpacked image costs.
	UncompressedSize int64             `json:"uncompressed_size"`
	Layers           int               `json:"layers"`
	User             string            `json:"user"`
	Entrypoint       []string          `json:"entrypoint,omitempty"`
	Cmd              []string          `json:"cmd,omitempty"`
	Env              []string          `json:"env,omitempty"`
	WorkingDir       string            `json:"working_dir,omitempty"`
	ExposedPorts     []string          `json:"exposed_ports,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	// BuildTime is the wall time of the solve, export included; zero for an
	// image that was only measured.
	BuildTime time.Duration `json:"build_time_ns"`
}

// IsRoot reports whether the configured user is root as far as the config
// alone can tell: empty, "root" or uid 0, with any group. A user name other
// than root may still map to uid 0 in the image's /etc/passwd; the smoke
// check reads the uid a process really gets.
func (s Stats) IsRoot() bool {
	user, _, _ := strings.Cut(s.User, ":")
	return user == "" || user == "root" || user == "0"
}

// OpenImage returns the image stored in an OCI layout directory. When the
// layout holds several (a multi-platform index), platform ("os/arch[/variant]")
// selects one; empty picks the first image. Attestation manifests are skipped.
func OpenImage(dir, platform string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	var want *v1.Platform
	if platform != "" {
		if want, err = v1.ParsePlatform(platform); err != nil {
			return nil, fmt.Errorf("platform %q: %w", platform, err)
		}
	}
	img, err := findImage(idx, want, 0)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return img, nil
}

var errNoImage = errors.New("no image manifest found")

func findImage(idx v1.ImageIndex, want *v1.Platform, depth int) (v1.Image, error) {
	if depth > 4 {
		return nil, errors.New("image indexes nested too deeply")
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		switch {
		case d.MediaType.IsImage():
			if want != nil && d.Platform != nil && !d.Platform.Satisfies(*want) {
				continue
			}
			return idx.Image(d.Digest)
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			img, err := findImage(child, want, depth+1)
			if errors.Is(err, errNoImage) {
				continue
			}
			return img, err
		}
	}
	return nil, errNoImage
}

// Measure computes Stats from an image. Every layer is decompressed once to
// count its bytes, so the cost is proportional to the image size.
func Measure(img v1.Image) (Stats, error) { return measure(img, true) }

// measure is Measure; without uncompressed, UncompressedSize stays 0 and
// no layer is read.
func measure(img v1.Image, uncompressed bool) (Stats, error) {
	var s Stats
	dg, err := img.Digest()
	if err != nil {
		return s, fmt.Errorf("image digest: %w", err)
	}
	s.Digest = dg.String()

	layers, err := img.Layers()
	if err != nil {
		return s, fmt.Errorf("image layers: %w", err)
	}
	s.Layers = len(layers)
	for i, l := range layers {
		size, err := l.Size()
		if err != nil {
			return s, fmt.Errorf("layer %d size: %w", i, err)
		}
		s.CompressedSize += size
		if !uncompressed {
			continue
		}
		n, err := uncompressedSize(l)
		if err != nil {
			return s, fmt.Errorf("layer %d: %w", i, err)
		}
		s.UncompressedSize += n
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return s, fmt.Errorf("image config: %w", err)
	}
	c := cf.Config
	s.User, s.Entrypoint, s.Cmd, s.Env, s.WorkingDir = c.User, c.Entrypoint, c.Cmd, c.Env, c.WorkingDir
	s.Labels = c.Labels
	for p := range c.ExposedPorts {
		s.ExposedPorts = append(s.ExposedPorts, p)
	}
	slices.Sort(s.ExposedPorts)
	return s, nil
}

func uncompressedSize(l v1.Layer) (int64, error) {
	mt, err := l.MediaType()
	if err != nil {
		return 0, err
	}
	if mt == types.OCIUncompressedLayer || mt == types.DockerUncompressedLayer {
		return l.Size()
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, fmt.Errorf("decompress: %w", err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return 0, fmt.Errorf("decompress: %w", err)
	}
	return n, nil
}

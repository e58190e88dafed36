package bktest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// MirroredRegistries are the registries buildkitd is told to fetch from the
// loopback registry. An image pushed as gcr.io/distroless/static lands in
// the loopback registry as distroless/static, which is where BuildKit's
// mirror lookup for gcr.io lands too.
var MirroredRegistries = []string{
	"docker.io", "gcr.io", "ghcr.io", "quay.io", "cgr.dev",
	"mcr.microsoft.com", "public.ecr.aws", "registry.k8s.io",
}

// Registry is go-containerregistry's in-memory registry served on a free
// loopback port.
type Registry struct {
	// Addr is host:port, e.g. 127.0.0.1:41234.
	Addr string
	srv  *http.Server
}

// StartRegistry serves an empty registry on 127.0.0.1.
func StartRegistry() (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registry listener: %w", err)
	}
	r := &Registry{
		Addr: ln.Addr().String(),
		srv: &http.Server{
			Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
			ReadHeaderTimeout: 10 * time.Second,
		},
	}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("bktest: registry on %s stopped: %v", r.Addr, err)
		}
	}()
	return r, nil
}

// Close stops the registry; its content is lost.
func (r *Registry) Close() error { return r.srv.Close() }

// Ref maps an image name as a Dockerfile writes it (busybox, python:3.11,
// gcr.io/distroless/static:nonroot) to its place in this registry.
func (r *Registry) Ref(image string) (name.Reference, error) {
	src, err := name.ParseReference(image)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %w", image, err)
	}
	repo := src.Context().RepositoryStr()
	sep := ":"
	if _, ok := src.(name.Digest); ok {
		sep = "@"
	}
	return name.ParseReference(r.Addr+"/"+repo+sep+src.Identifier(), name.Insecure)
}

// Push stores img under the name a Dockerfile uses for it and returns its
// manifest digest (for tests that pin FROM name@sha256:...).
func (r *Registry) Push(image string, img v1.Image) (v1.Hash, error) {
	ref, err := r.Ref(image)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(ref, img); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s to %s: %w", image, ref, err)
	}
	return img.Digest()
}

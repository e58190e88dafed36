package bktest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"sync"
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
// loopback port. Images can be pushed at once (Push) or registered to be
// made on first pull (Lazy), so a test run only pays for the stand-ins its
// Dockerfiles use.
type Registry struct {
	// Addr is host:port, e.g. 127.0.0.1:41234.
	Addr string
	srv  *http.Server

	mu    sync.Mutex
	lazy  map[string]*lazyImage // "repo:tag" in this registry -> maker
	files *fileBlobs            // blobs served from files rather than memory
}

type lazyImage struct {
	image string // the name Dockerfiles use
	make  func() (v1.Image, error)
	once  sync.Once
	err   error
}

// internalHeader marks the registry's own pushes of lazy images, which must
// not wait for themselves.
const internalHeader = "X-Bktest-Internal"

var manifestPath = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)

// StartRegistry serves an empty registry on 127.0.0.1.
func StartRegistry() (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registry listener: %w", err)
	}
	r := &Registry{Addr: ln.Addr().String(), lazy: map[string]*lazyImage{}, files: newFileBlobs()}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(r.files))
	r.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if m := manifestPath.FindStringSubmatch(req.URL.Path); m != nil && req.Header.Get(internalHeader) == "" {
				if err := r.materialize(m[1] + ":" + m[2]); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
			inner.ServeHTTP(w, req)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("bktest: registry on %s stopped: %v", r.Addr, err)
		}
	}()
	return r, nil
}

// Lazy registers image to be made by mk and pushed the first time anyone
// asks for its manifest.
func (r *Registry) Lazy(image string, mk func() (v1.Image, error)) error {
	ref, err := r.Ref(image)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lazy[ref.Context().RepositoryStr()+":"+ref.Identifier()] = &lazyImage{image: image, make: mk}
	return nil
}

func (r *Registry) materialize(key string) error {
	r.mu.Lock()
	li := r.lazy[key]
	r.mu.Unlock()
	if li == nil {
		return nil
	}
	li.once.Do(func() {
		img, err := li.make()
		if err == nil {
			_, err = r.push(li.image, img, remote.WithTransport(headerTransport{}))
		}
		if err != nil {
			li.err = fmt.Errorf("make stand-in %s: %w", li.image, err)
		}
	})
	return li.err
}

// headerTransport marks requests as the registry's own.
type headerTransport struct{}

func (headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(internalHeader, "1")
	return http.DefaultTransport.RoundTrip(req)
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
// manifest digest (for tests that pin FROM name@sha256:...). It replaces a
// default stand-in of that name, which would otherwise be made and pushed
// over it on the first pull.
func (r *Registry) Push(image string, img v1.Image) (v1.Hash, error) {
	if err := r.dropLazy(image); err != nil {
		return v1.Hash{}, err
	}
	return r.push(image, img)
}

// PushIndex stores a multi-platform image index under image, as Push does
// for one image, and returns its digest.
func (r *Registry) PushIndex(image string, idx v1.ImageIndex) (v1.Hash, error) {
	if err := r.dropLazy(image); err != nil {
		return v1.Hash{}, err
	}
	ref, err := r.Ref(image)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		return v1.Hash{}, fmt.Errorf("push index %s to %s: %w", image, ref, err)
	}
	return idx.Digest()
}

// dropLazy forgets the lazy image registered under image, if any.
func (r *Registry) dropLazy(image string) error {
	ref, err := r.Ref(image)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.lazy, ref.Context().RepositoryStr()+":"+ref.Identifier())
	return nil
}

func (r *Registry) push(image string, img v1.Image, opts ...remote.Option) (v1.Hash, error) {
	ref, err := r.Ref(image)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s to %s: %w", image, ref, err)
	}
	return img.Digest()
}

package bktest

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fileBlobs is the registry's blob store: blobs registered with serveFile
// are read from their files (the realistic bases' layers are hundreds of MB,
// already on disk in the cache), everything else lives in memory as before.
type fileBlobs struct {
	mem registry.BlobHandler

	mu    sync.Mutex
	files map[v1.Hash]string
}

func newFileBlobs() *fileBlobs {
	return &fileBlobs{mem: registry.NewInMemoryBlobHandler(), files: map[v1.Hash]string{}}
}

// serveFile makes the blob h available from path, so that pushing an image
// with that layer uploads nothing.
func (b *fileBlobs) serveFile(h v1.Hash, path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[h] = path
}

func (b *fileBlobs) file(h v1.Hash) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.files[h]
	return p, ok
}

func (b *fileBlobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	if p, ok := b.file(h); ok {
		return os.Open(p)
	}
	return b.mem.Get(ctx, repo, h)
}

func (b *fileBlobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	if p, ok := b.file(h); ok {
		fi, err := os.Stat(p)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	return b.mem.(registry.BlobStatHandler).Stat(ctx, repo, h)
}

func (b *fileBlobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	if _, ok := b.file(h); ok {
		// Already here: drain it so the upload completes and its digest is checked.
		_, err := io.Copy(io.Discard, rc)
		return err
	}
	return b.mem.(registry.BlobPutHandler).Put(ctx, repo, h, rc)
}

func (b *fileBlobs) Delete(ctx context.Context, repo string, h v1.Hash) error {
	if _, ok := b.file(h); ok {
		return nil // the cache's file is not the registry's to delete
	}
	return b.mem.(registry.BlobDeleteHandler).Delete(ctx, repo, h)
}

package smoke

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	whiteoutPrefix = ".wh."
	// opaqueMarker in a directory hides everything lower layers put there.
	opaqueMarker = ".wh..wh..opq"
)

// Unpack applies the image's layers in order onto dir, the way a container
// runtime builds a rootfs: whiteout entries delete what lower layers added,
// and ownership, modes and modification times come from the tar headers.
// Every path is resolved inside dir (os.Root), so a hostile layer cannot
// write outside it through ".." or symlinks. Device nodes are skipped: the
// runtime mounts its own /dev.
func Unpack(img v1.Image, dir string) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("image layers: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for i, l := range layers {
		if err := unpackLayer(root, l); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return nil
}

func unpackLayer(root *os.Root, l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return applyTar(root, tar.NewReader(rc))
}

// applyTar writes one layer. created records what this layer wrote, because
// an opaque marker hides only lower layers' entries, not its own siblings.
func applyTar(root *os.Root, tr *tar.Reader) error {
	created := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := cleanPath(hdr.Name)
		if name == "" {
			continue // the root itself
		}
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == opaqueMarker:
			if err := clearLower(root, dir, created); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
			continue
		case strings.HasPrefix(base, whiteoutPrefix):
			if err := removeAll(root, path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
			continue
		}
		if err := writeEntry(root, name, hdr, tr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		created[name] = true
	}
}

func writeEntry(root *os.Root, name string, hdr *tar.Header, r io.Reader) error {
	// A directory over a directory only updates metadata; anything else
	// replaces what lower layers had at that path.
	if fi, err := root.Lstat(name); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := root.RemoveAll(name); err != nil {
			return err
		}
	}
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case tar.TypeReg:
		f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := root.Symlink(hdr.Linkname, name); err != nil {
			return err
		}
		return root.Lchown(name, hdr.Uid, hdr.Gid)
	case tar.TypeLink:
		target := cleanPath(hdr.Linkname)
		if target == "" {
			return fmt.Errorf("hard link to %q", hdr.Linkname)
		}
		// The link shares the target's inode, owner and mode.
		return root.Link(target, name)
	default:
		return nil // devices, fifos: the runtime provides /dev
	}
	// Owner before mode: chown clears setuid/setgid bits.
	if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	mode := hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if err := root.Chmod(name, mode); err != nil {
		return err
	}
	// Interpreters compare mtimes (Python's .pyc against its source), so keep them.
	return root.Chtimes(name, hdr.ModTime, hdr.ModTime)
}

// clearLower removes the entries of dir that lower layers created.
func clearLower(root *os.Root, dir string, created map[string]bool) error {
	if dir == "" {
		dir = "."
	}
	f, err := root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		p := path.Join(dir, n)
		if p == "." || created[path.Clean(p)] {
			continue
		}
		if err := root.RemoveAll(path.Clean(p)); err != nil {
			return err
		}
	}
	return nil
}

func removeAll(root *os.Root, name string) error {
	err := root.RemoveAll(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// cleanPath makes a tar entry name relative to the root: "./usr/bin/" and
// "/usr/bin" both become "usr/bin", and ".." cannot climb above the root.
func cleanPath(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

package bktest

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layerRecord describes an OCI layer stored as a gzip file on disk, with the
// hashes computed while it was written, so that opening it again costs
// nothing (a base layer is hundreds of MB: hashing it on every test start
// would take seconds).
type layerRecord struct {
	File         string  `json:"file"` // name in the cache directory
	Digest       v1.Hash `json:"digest"`
	DiffID       v1.Hash `json:"diff_id"`
	Size         int64   `json:"size"`         // compressed
	Uncompressed int64   `json:"uncompressed"` // the tar
}

// treeLayerOptions choose what writeTreeLayer leaves out.
type treeLayerOptions struct {
	// Empty lists directories, relative to the tree, that are kept but
	// written without their contents: the kernel file systems a runtime
	// mounts (proc, sys, dev).
	Empty []string
}

// writeTreeLayer writes the layer that turns the tree lower into the tree
// upper, gzip-compressed, to path: everything upper adds or changes, and an
// OCI whiteout (.wh.name) for each entry it no longer has. With lower empty
// the layer holds all of upper. Entries count as unchanged when type, mode,
// owner, size, modification time and link target all match, which holds
// for files a copy (cp -a) carried over untouched.
func writeTreeLayer(path, lower, upper string, opts treeLayerOptions) (layerRecord, error) {
	lf := layerRecord{File: filepath.Base(path)}
	f, err := os.Create(path)
	if err != nil {
		return lf, err
	}
	defer f.Close()
	compressedHash, rawHash := sha256.New(), sha256.New()
	compressed := &countWriter{w: io.MultiWriter(f, compressedHash)}
	zw, err := gzip.NewWriterLevel(compressed, gzip.DefaultCompression)
	if err != nil {
		return lf, err
	}
	raw := &countWriter{w: io.MultiWriter(zw, rawHash)}
	tw := tar.NewWriter(raw)
	d := treeDiff{lower: lower, upper: upper, tw: tw, empty: opts.Empty, links: map[fileID]string{}}
	if err := d.dir("."); err != nil {
		return lf, fmt.Errorf("layer of %s: %w", upper, err)
	}
	if err := tw.Close(); err != nil {
		return lf, err
	}
	if err := zw.Close(); err != nil {
		return lf, err
	}
	if err := f.Close(); err != nil {
		return lf, err
	}
	lf.Digest, lf.DiffID = sha256Hash(compressedHash), sha256Hash(rawHash)
	lf.Size, lf.Uncompressed = compressed.n, raw.n
	return lf, nil
}

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type fileID struct{ dev, ino uint64 }

type treeDiff struct {
	lower, upper string // lower is "" for a layer holding all of upper
	tw           *tar.Writer
	empty        []string
	// links maps an inode of upper to the first name this layer wrote it
	// under, so further names become hard links as in the tree.
	links map[fileID]string
}

// dir writes the changes below rel (a directory in upper, "." for the
// root), children in name order.
func (d *treeDiff) dir(rel string) error {
	entries, err := os.ReadDir(filepath.Join(d.upper, rel))
	if err != nil {
		return err
	}
	if rel != "." && slices.Contains(d.empty, rel) {
		return nil
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	// What lower has here and upper does not is deleted. Nothing to do when
	// lower has a non-directory here: writing the directory replaced it.
	if lowerDir := d.lowerPath(rel); lowerDir != "" {
		if fi, err := os.Lstat(lowerDir); err == nil && fi.IsDir() {
			lowerEntries, err := os.ReadDir(lowerDir)
			if err != nil {
				return err
			}
			for _, e := range lowerEntries {
				if names[e.Name()] {
					continue
				}
				wh := filepath.ToSlash(filepath.Join(rel, ".wh."+e.Name()))
				if err := d.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: wh, Mode: 0o644, ModTime: layerTime}); err != nil {
					return err
				}
			}
		}
	}
	for _, e := range entries { // os.ReadDir sorts by name
		if err := d.entry(filepath.Join(rel, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func (d *treeDiff) lowerPath(rel string) string {
	if d.lower == "" {
		return ""
	}
	return filepath.Join(d.lower, rel)
}

func (d *treeDiff) entry(rel string) error {
	p := filepath.Join(d.upper, rel)
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no stat_t", p)
	}
	var lowerFI fs.FileInfo
	if lp := d.lowerPath(rel); lp != "" {
		lowerFI, _ = os.Lstat(lp) // absent: new in upper
	}
	unchanged := lowerFI != nil && sameEntry(fi, p, lowerFI, d.lowerPath(rel))
	if !unchanged {
		if err := d.write(rel, p, fi, st); err != nil {
			return err
		}
	}
	if fi.IsDir() {
		return d.dir(rel)
	}
	return nil
}

// sameEntry reports whether an entry of upper is the one lower has.
// Directories compare without their modification time, which changes
// whenever a child does: a changed child is written on its own.
func sameEntry(a fs.FileInfo, aPath string, b fs.FileInfo, bPath string) bool {
	if a.Mode() != b.Mode() {
		return false
	}
	sa, sb := a.Sys().(*syscall.Stat_t), b.Sys().(*syscall.Stat_t)
	if sa == nil || sb == nil || sa.Uid != sb.Uid || sa.Gid != sb.Gid {
		return false
	}
	switch {
	case a.IsDir():
		return true
	case a.Mode()&fs.ModeSymlink != 0:
		ta, errA := os.Readlink(aPath)
		tb, errB := os.Readlink(bPath)
		return errA == nil && errB == nil && ta == tb
	case a.Mode().IsRegular():
		return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
	default: // devices and fifos
		return sa.Rdev == sb.Rdev
	}
}

func (d *treeDiff) write(rel, p string, fi fs.FileInfo, st *syscall.Stat_t) error {
	name := filepath.ToSlash(rel)
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(fi.Mode().Perm()),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: fi.ModTime().Truncate(time.Second),
	}
	for bit, flag := range map[fs.FileMode]int64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
		if fi.Mode()&bit != 0 {
			hdr.Mode |= flag
		}
	}
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case mode.IsRegular():
		id := fileID{uint64(st.Dev), st.Ino}
		if first, ok := d.links[id]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return d.tw.WriteHeader(hdr)
		}
		if st.Nlink > 1 {
			d.links[id] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
	case mode&fs.ModeCharDevice != 0, mode&fs.ModeDevice != 0:
		hdr.Typeflag = tar.TypeBlock
		if mode&fs.ModeCharDevice != 0 {
			hdr.Typeflag = tar.TypeChar
		}
		hdr.Devmajor, hdr.Devminor = int64(major(st.Rdev)), int64(minor(st.Rdev))
	case mode&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil // sockets do not belong in a layer
	}
	if caps, ok := fileCapabilities(p); ok {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": caps}
	}
	if err := d.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if n, err := io.Copy(d.tw, f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	} else if n != hdr.Size {
		return fmt.Errorf("%s changed size while being packed", p)
	}
	return nil
}

func major(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func minor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// fileCapabilities returns a file's security.capability attribute (ping and
// the like keep working without setuid), if it has one.
func fileCapabilities(p string) (string, bool) {
	buf := make([]byte, 64)
	n, err := syscall.Getxattr(p, "security.capability", buf)
	if err != nil || n <= 0 {
		return "", false
	}
	return string(buf[:n]), true
}

// fileLayer is a v1.Layer read from a layer file of the cache.
type fileLayer struct {
	path string
	rec  layerRecord
}

func (l fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

func (l fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &gzipFile{Reader: zr, f: f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error {
	return errors.Join(g.Reader.Close(), g.f.Close())
}

func (l fileLayer) Digest() (v1.Hash, error)            { return l.rec.Digest, nil }
func (l fileLayer) DiffID() (v1.Hash, error)            { return l.rec.DiffID, nil }
func (l fileLayer) Size() (int64, error)                { return l.rec.Size, nil }
func (l fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// check confirms that the file is still the one recorded, by size: enough
// to notice a truncated or replaced cache entry without reading it.
func (l fileLayer) check() error {
	fi, err := os.Stat(l.path)
	if err != nil {
		return err
	}
	if fi.Size() != l.rec.Size {
		return fmt.Errorf("%s has %d bytes, its record says %d", l.path, fi.Size(), l.rec.Size)
	}
	return nil
}

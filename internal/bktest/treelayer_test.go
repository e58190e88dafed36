package bktest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/harden-dev/harden/smoke"
)

// tree writes files into a new directory: a value ending in "/" makes a
// directory, "->target" a symlink, anything else a file with that content.
func tree(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		v := entries[n]
		switch {
		case v == "/":
			err := os.MkdirAll(p, 0o755)
			check(t, err)
		case strings.HasPrefix(v, "->"):
			check(t, os.Symlink(strings.TrimPrefix(v, "->"), p))
		default:
			check(t, os.WriteFile(p, []byte(v), 0o644))
		}
	}
	return dir
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// copyTree copies src as cp -a does (cp -a is what the base builds use).
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if out, err := execCommand("cp", "-a", src, dst); err != nil {
		t.Fatalf("cp -a: %v %s", err, out)
	}
	return dst
}

// describe maps each path of a tree to its type, permissions and content
// or link target: what a container would see.
func describe(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			out[rel] = fmt.Sprintf("dir %o", fi.Mode().Perm())
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link " + target
		default:
			data, _ := os.ReadFile(p)
			out[rel] = fmt.Sprintf("file %o %q", fi.Mode().Perm(), data)
		}
		return nil
	})
	check(t, err)
	return out
}

func layerEntries(t *testing.T, path string) map[string]*tar.Header {
	t.Helper()
	f, err := os.Open(path)
	check(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	check(t, err)
	tr := tar.NewReader(zr)
	out := map[string]*tar.Header{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		check(t, err)
		out[strings.TrimSuffix(hdr.Name, "/")] = hdr
	}
}

// A layer of changes on top of the full layer of the lower tree unpacks to
// exactly the upper tree, and holds only what changed.
func TestTreeLayerOfChangesRecreatesTheUpperTree(t *testing.T) {
	lower := tree(t, map[string]string{
		"etc/kept":               "same",
		"etc/changed":            "old",
		"etc/same-size":          "abc",
		"etc/gone":               "bye",
		"var/old/a":              "a",
		"var/old/deep/b":         "b",
		"usr/bin/tool":           "v1",
		"usr/bin/alias":          "->tool",
		"usr/lib/becomes-dir":    "file",
		"usr/lib/becomes-file/x": "x",
		"proc/":                  "/",
	})
	upper := copyTree(t, lower)
	// What a package install does: change, add, delete, relink, replace.
	check(t, os.WriteFile(filepath.Join(upper, "etc/changed"), []byte("new content"), 0o644))
	check(t, os.WriteFile(filepath.Join(upper, "etc/same-size"), []byte("xyz"), 0o644))
	check(t, os.Remove(filepath.Join(upper, "etc/gone")))
	check(t, os.RemoveAll(filepath.Join(upper, "var/old")))
	check(t, os.MkdirAll(filepath.Join(upper, "opt/app"), 0o750))
	check(t, os.WriteFile(filepath.Join(upper, "opt/app/run"), []byte("#!/bin/sh\n"), 0o755))
	check(t, os.Link(filepath.Join(upper, "opt/app/run"), filepath.Join(upper, "opt/app/run-too")))
	check(t, os.Remove(filepath.Join(upper, "usr/bin/alias")))
	check(t, os.Symlink("other", filepath.Join(upper, "usr/bin/alias")))
	check(t, os.Remove(filepath.Join(upper, "usr/lib/becomes-dir")))
	check(t, os.MkdirAll(filepath.Join(upper, "usr/lib/becomes-dir/sub"), 0o755))
	check(t, os.RemoveAll(filepath.Join(upper, "usr/lib/becomes-file")))
	check(t, os.WriteFile(filepath.Join(upper, "usr/lib/becomes-file"), []byte("now a file"), 0o600))
	check(t, os.WriteFile(filepath.Join(upper, "proc/kernel-stuff"), []byte("never packed"), 0o644))

	out := t.TempDir()
	opts := treeLayerOptions{Empty: []string{"proc"}}
	base, err := writeTreeLayer(filepath.Join(out, "base.tar.gz"), "", lower, opts)
	check(t, err)
	diff, err := writeTreeLayer(filepath.Join(out, "diff.tar.gz"), lower, upper, opts)
	check(t, err)

	entries := layerEntries(t, filepath.Join(out, "diff.tar.gz"))
	for _, name := range []string{"etc/kept", "usr/bin/tool", "proc/kernel-stuff"} {
		if _, ok := entries[name]; ok {
			t.Errorf("%s is in the layer of changes", name)
		}
	}
	for _, name := range []string{"etc/changed", "etc/.wh.gone", "var/.wh.old", "opt/app/run", "usr/bin/alias", "usr/lib/becomes-dir/sub", "usr/lib/becomes-file"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("%s is missing from the layer of changes; it has %v", name, keys(entries))
		}
	}
	if h := entries["opt/app/run-too"]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "opt/app/run" {
		t.Errorf("second name of a hard link: %+v", h)
	}

	img, err := Image(emptyConfig(), fileLayer{filepath.Join(out, "base.tar.gz"), base}, fileLayer{filepath.Join(out, "diff.tar.gz"), diff})
	check(t, err)
	got := filepath.Join(t.TempDir(), "rootfs")
	check(t, smoke.Unpack(img, got))
	check(t, os.Remove(filepath.Join(upper, "proc/kernel-stuff")))
	want := describe(t, upper)
	have := describe(t, got)
	for p, w := range want {
		if have[p] != w {
			t.Errorf("%s: unpacked %q, want %q", p, have[p], w)
		}
	}
	for p := range have {
		if _, ok := want[p]; !ok {
			t.Errorf("%s is in the unpacked tree, not in the upper one", p)
		}
	}
}

// The records hold the real hashes and sizes of the file and of its tar,
// so the registry can serve the file under them without reading it first.
func TestTreeLayerRecordMatchesItsFile(t *testing.T) {
	dir := tree(t, map[string]string{"a": "alpha", "b/c": strings.Repeat("x", 100000)})
	path := filepath.Join(t.TempDir(), "l.tar.gz")
	rec, err := writeTreeLayer(path, "", dir, treeLayerOptions{})
	check(t, err)
	data, err := os.ReadFile(path)
	check(t, err)
	if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != rec.Digest.Hex || int64(len(data)) != rec.Size {
		t.Errorf("digest %s/%d bytes, record %s/%d", got, len(data), rec.Digest.Hex, rec.Size)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(data)))
	check(t, err)
	raw, err := io.ReadAll(zr)
	check(t, err)
	if got := fmt.Sprintf("%x", sha256.Sum256(raw)); got != rec.DiffID.Hex || int64(len(raw)) != rec.Uncompressed {
		t.Errorf("diff id %s/%d bytes, record %s/%d", got, len(raw), rec.DiffID.Hex, rec.Uncompressed)
	}
	if err := (fileLayer{path, rec}).check(); err != nil {
		t.Error(err)
	}
	check(t, os.WriteFile(path, data[:len(data)-1], 0o644))
	if err := (fileLayer{path, rec}).check(); err == nil {
		t.Error("a truncated layer file passes the check")
	}
}

// Layers registered as files are served from them: pushing the image
// uploads nothing, and pulling returns the file's bytes.
func TestRegistryServesLayerFiles(t *testing.T) {
	reg, err := StartRegistry()
	check(t, err)
	defer reg.Close()
	dir := tree(t, map[string]string{"hello": "world"})
	path := filepath.Join(t.TempDir(), "l.tar.gz")
	rec, err := writeTreeLayer(path, "", dir, treeLayerOptions{})
	check(t, err)
	reg.files.serveFile(rec.Digest, path)
	img, err := Image(emptyConfig(), fileLayer{path, rec})
	check(t, err)
	if _, err := reg.Push("example/files:1", img); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.files.mem.(registry.BlobStatHandler).Stat(context.Background(), "example/files", rec.Digest); err == nil {
		t.Error("the layer was uploaded into memory although its file was registered")
	}
	ref, err := reg.Ref("example/files:1")
	check(t, err)
	pulled, err := remote.Image(ref)
	check(t, err)
	layers, err := pulled.Layers()
	check(t, err)
	rc, err := layers[0].Compressed()
	check(t, err)
	got, err := io.ReadAll(rc)
	rc.Close()
	check(t, err)
	want, _ := os.ReadFile(path)
	if string(got) != string(want) {
		t.Error("the pulled layer is not the file's content")
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func emptyConfig() v1.Config { return v1.Config{Cmd: []string{"sh"}} }

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

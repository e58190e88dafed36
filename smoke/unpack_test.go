package smoke_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: unpacking with image ownership needs root")
	}
}

func layer(t *testing.T, files ...bktest.File) v1.Layer {
	t.Helper()
	l, err := bktest.Layer(files...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func unpack(t *testing.T, layers ...v1.Layer) (string, error) {
	t.Helper()
	img, err := bktest.Image(v1.Config{}, layers...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	return dir, smoke.Unpack(img, dir)
}

func exists(dir, p string) bool {
	_, err := os.Lstat(filepath.Join(dir, p))
	return err == nil
}

func TestUnpackAppliesWhiteouts(t *testing.T) {
	needRoot(t)
	lower := layer(t,
		bktest.File{Path: "/a/gone", Data: []byte("x")},
		bktest.File{Path: "/a/kept", Data: []byte("x")},
		bktest.File{Path: "/b/old/deep", Data: []byte("x")},
		bktest.File{Path: "/b/old2", Data: []byte("x")},
		bktest.File{Path: "/c/file", Data: []byte("lower")},
		bktest.File{Path: "/d", Data: []byte("a file that becomes a directory")},
	)
	upper := layer(t,
		bktest.File{Path: "/a/.wh.gone"},
		bktest.File{Path: "/b/new", Data: []byte("x")}, // same layer as the marker: survives
		bktest.File{Path: "/b/.wh..wh..opq"},
		bktest.File{Path: "/c/file", Data: []byte("upper")},
		bktest.File{Path: "/d/inside", Data: []byte("x")},
	)
	dir, err := unpack(t, lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"a/gone": false, "a/kept": true, "a/.wh.gone": false,
		"b/old": false, "b/old2": false, "b/new": true, "b/.wh..wh..opq": false,
		"d/inside": true,
	} {
		if exists(dir, p) != want {
			t.Errorf("%s exists = %v, want %v", p, !want, want)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "c/file")); string(data) != "upper" {
		t.Errorf("c/file = %q, want the upper layer's content", data)
	}
}

func TestUnpackKeepsOwnershipModesAndLinks(t *testing.T) {
	needRoot(t)
	dir, err := unpack(t, layer(t,
		bktest.File{Path: "/bin/tool", Data: []byte("#!/bin/sh\n"), Mode: 0o755 | os.ModeSetuid},
		bktest.File{Path: "/home/app", Dir: true, Mode: 0o700, UID: 10001, GID: 10002},
		bktest.File{Path: "/home/app/.profile", Data: []byte("x"), UID: 10001, GID: 10002},
		bktest.File{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
		bktest.File{Path: "/bin/alias", Link: "/bin/tool"},
	), rawLayer(t, &tar.Header{Typeflag: tar.TypeLink, Name: "bin/tool-hard", Linkname: "bin/tool"}))
	if err != nil {
		t.Fatal(err)
	}
	check := func(p string, mode os.FileMode, uid, gid uint32) {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != mode || st.Uid != uid || st.Gid != gid {
			t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", p, fi.Mode(), st.Uid, st.Gid, mode, uid, gid)
		}
	}
	check("bin/tool", 0o755|os.ModeSetuid, 0, 0)
	check("home/app", os.ModeDir|0o700, 10001, 10002)
	check("home/app/.profile", 0o644, 10001, 10002)
	check("tmp", os.ModeDir|os.ModeSticky|0o777, 0, 0)
	if target, err := os.Readlink(filepath.Join(dir, "bin/alias")); err != nil || target != "/bin/tool" {
		t.Errorf("symlink: %q, %v", target, err)
	}
	a, _ := os.Stat(filepath.Join(dir, "bin/tool"))
	b, err := os.Stat(filepath.Join(dir, "bin/tool-hard"))
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("hard link does not share the target's inode: %v", err)
	}
}

// rawLayer writes tar entries as given: no parent directories added, for
// what bktest.File cannot express (hard links, "..", missing parents).
func rawLayer(t *testing.T, entries ...*tar.Header) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestUnpackCannotEscapeTheRootfs(t *testing.T) {
	needRoot(t)
	outside := t.TempDir()
	// ".." is clamped to the root; a symlink pointing out is not followed.
	_, err := unpack(t,
		layer(t, bktest.File{Path: "/escape", Link: outside}),
		rawLayer(t, &tar.Header{Typeflag: tar.TypeReg, Name: "escape/pwned", Size: 1, Mode: 0o644}),
	)
	if err == nil {
		t.Error("writing through a symlink that leaves the rootfs succeeded")
	}
	if exists(outside, "pwned") {
		t.Fatal("a layer wrote outside the rootfs")
	}
	dir, err := unpack(t, rawLayer(t, &tar.Header{Typeflag: tar.TypeReg, Name: "../../etc/evil", Size: 1, Mode: 0o644}))
	if err != nil {
		t.Fatal(err)
	}
	if !exists(dir, "etc/evil") {
		t.Error("../../etc/evil should land in the rootfs's etc")
	}
}

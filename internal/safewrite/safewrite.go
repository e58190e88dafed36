// Package safewrite replaces files whole and only inside a repository.
//
// harden writes Dockerfiles, ignore files and templates into checkouts it
// does not control: bots run it on the branches of untrusted pull
// requests. A Dockerfile or .dockerignore there may be a symbolic link,
// and a write that followed it blindly could overwrite any file the bot's
// user can write. So a write goes through a link only to a file inside the
// repository (the git checkout around the path, or the folder being
// processed when there is none), replaces that file through a temporary
// file and a rename (a crash or a full disk never leaves half a file), and
// keeps the link itself.
package safewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// RefusedError says why a write was refused. Nothing was written.
type RefusedError struct {
	Path   string // the path as the caller named it
	Reason string
}

func (e *RefusedError) Error() string {
	return e.Path + ": " + e.Reason + "; nothing was written"
}

// Root is the repository a write to path may change: the nearest folder at
// or above path's folder that holds .git, else folder (the one being
// processed) when path is inside it, else path's own folder. The result is
// absolute.
func Root(path, folder string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Dir(path)
	}
	dir := filepath.Dir(abs)
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	if folder != "" {
		if fb, err := filepath.Abs(folder); err == nil && within(abs, fb) {
			return fb
		}
	}
	return dir
}

// Target is the file a write to path replaces: path itself, or the file a
// symbolic link (in path's last element or any folder above it) leads to.
// It refuses, with a *RefusedError, when that file is outside the
// repository (Root(path, folder)), is a folder, or when a link's target is
// missing or the links loop.
func Target(path, folder string) (string, error) {
	root := Root(path, folder)
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	refuse := func(format string, a ...any) (string, error) {
		return "", &RefusedError{Path: path, Reason: fmt.Sprintf(format, a...)}
	}
	st, err := os.Lstat(abs)
	var real string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A new file: where its folder really is decides.
		dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
		if err != nil {
			return "", err
		}
		real = filepath.Join(dir, filepath.Base(abs))
	case err != nil:
		return "", err
	case st.Mode()&fs.ModeSymlink != 0:
		dest, _ := os.Readlink(abs)
		real, err = filepath.EvalSymlinks(abs)
		switch {
		case isLoop(err):
			return refuse("is a symbolic link that leads back to itself (%s)", dest)
		case errors.Is(err, fs.ErrNotExist):
			return refuse("is a symbolic link to %s, which does not exist; harden does not create files through links", dest)
		case err != nil:
			return "", err
		}
	case st.IsDir():
		return refuse("is a folder")
	default:
		if real, err = filepath.EvalSymlinks(abs); err != nil {
			return "", err
		}
	}
	if st, err := os.Stat(real); err == nil && st.IsDir() {
		return refuse("leads to the folder %s, not a file", real)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	if !within(real, realRoot) {
		return refuse("leads to %s, outside the repository %s; harden writes only inside it (a link in an untrusted checkout must not redirect a write); to change that file, name it itself", real, root)
	}
	return real, nil
}

// BrokenLink explains why path, a symbolic link, cannot be read: its
// target is missing or the links loop. It returns nil for anything else.
func BrokenLink(path string) error {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	dest, _ := os.Readlink(path)
	_, err = filepath.EvalSymlinks(path)
	switch {
	case isLoop(err):
		return fmt.Errorf("%s: is a symbolic link that leads back to itself (%s)", path, dest)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: is a symbolic link to %s, which does not exist", path, dest)
	}
	return nil
}

// within reports whether p is dir or inside it; both are clean and
// absolute.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func isLoop(err error) bool {
	if errors.Is(err, syscall.ELOOP) {
		return true
	}
	// filepath.EvalSymlinks gives up after 255 links with its own error.
	return err != nil && strings.Contains(err.Error(), "too many links")
}

// Write is one file to write.
type Write struct {
	Path string
	Data []byte
}

// File writes data to path, as Target resolves it, through a temporary
// file in the same folder and a rename. An existing file keeps its mode
// (and owner, when running as root); a new one is readable by all like any
// source file. A link keeps pointing at the file it led to.
func File(path string, data []byte, folder string) error {
	return Files([]Write{{Path: path, Data: data}}, folder)
}

// Files writes each file as File does. Every target is resolved first:
// when one is refused, none is written.
func Files(files []Write, folder string) error {
	real := make([]string, len(files))
	for i, f := range files {
		var err error
		if real[i], err = Target(f.Path, folder); err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := replace(real[i], f.Data); err != nil {
			return err
		}
	}
	return nil
}

// replace writes data to the file at real (no link in its last element)
// atomically.
func replace(real string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	st, statErr := os.Stat(real)
	if statErr == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".harden-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if statErr == nil {
		chownLike(tmp, st)
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), real); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}

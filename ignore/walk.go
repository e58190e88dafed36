package ignore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
)

// DefaultMaxEntries bounds a context walk. Real contexts hold thousands of
// entries; a walk that reaches a million has wandered into a home folder or
// a disk image, and stopping keeps one bad folder from stalling a bot run.
const DefaultMaxEntries = 1_000_000

// Size is what a build context sends to the builder.
type Size struct {
	// Files counts everything that is not a folder (files and symlinks).
	Files int `json:"files"`
	// Bytes is the total size of the regular files.
	Bytes int64 `json:"bytes"`
}

// errTooMany stops a walk at the entry bound.
var errTooMany = errors.New("too many entries")

// sentEntry is one path the builder receives.
type sentEntry struct {
	path string // slash-separated, relative to the context root
	dir  bool
	mode fs.FileMode
	size int64
}

// walkSent calls visit for every path that reaches the builder through
// patterns, in walk order (a folder before its contents). It runs fsutil's
// own filter, the code BuildKit's client uses to send a local context, so
// parent-folder exclusion and re-inclusion behave exactly as in a build;
// only the file system underneath is harden's. It returns partial=true
// when the walk stopped at max entries.
func walkSent(fsys fs.FS, patterns []string, max int, visit func(sentEntry) error) (partial bool, err error) {
	if max <= 0 {
		max = DefaultMaxEntries
	}
	src := &contextFS{fsys: fsys, max: max}
	filtered, err := fsutil.NewFilterFS(src, &fsutil.FilterOpt{ExcludePatterns: patterns})
	if err != nil {
		return false, fmt.Errorf("ignore patterns: %w", err)
	}
	err = filtered.Walk(context.Background(), "/", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return visit(sentEntry{path: filepath.ToSlash(p), dir: d.IsDir(), mode: info.Mode(), size: info.Size()})
	})
	if errors.Is(err, errTooMany) {
		return true, nil
	}
	return false, err
}

// measure returns the size of what patterns let through.
func measure(fsys fs.FS, patterns []string, max int) (Size, bool, error) {
	var s Size
	partial, err := walkSent(fsys, patterns, max, func(e sentEntry) error {
		s.add(e)
		return nil
	})
	return s, partial, err
}

func (s *Size) add(e sentEntry) {
	if e.dir {
		return
	}
	s.Files++
	if e.mode.IsRegular() {
		s.Bytes += e.size
	}
}

// contextFS presents an io/fs file system (a folder on disk, or a MapFS in
// tests) as the fsutil.FS that fsutil's filter walks. It never follows
// symlinks, like fsutil's own walker, and stops after max entries.
type contextFS struct {
	fsys fs.FS
	max  int
	seen int
}

func (c *contextFS) Walk(ctx context.Context, _ string, fn fs.WalkDirFunc) error {
	return fs.WalkDir(c.fsys, ".", func(p string, d fs.DirEntry, walkErr error) error {
		if p == "." {
			return walkErr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c.seen++
		if c.seen > c.max {
			return errTooMany
		}
		if walkErr != nil {
			return fn(filepath.FromSlash(p), nil, walkErr)
		}
		info, err := d.Info()
		if err != nil {
			return fn(filepath.FromSlash(p), nil, err)
		}
		st := &types.Stat{
			Path:    filepath.FromSlash(p),
			Mode:    uint32(info.Mode()),
			Size:    info.Size(),
			ModTime: info.ModTime().UnixNano(),
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if target, err := fs.ReadLink(c.fsys, p); err == nil {
				st.Linkname = target
			}
		}
		return fn(st.Path, &fsutil.DirEntryInfo{Stat: st}, nil)
	})
}

func (c *contextFS) Open(p string) (io.ReadCloser, error) {
	return c.fsys.Open(filepath.ToSlash(p))
}

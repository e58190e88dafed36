// Package buildctx gives read access to a Docker build context: the files a
// build would send, as BuildKit would filter them through .dockerignore.
package buildctx

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Context is a build context folder.
type Context struct {
	// Dir is the folder on disk, for messages; empty for in-memory contexts.
	Dir string
	// FS reads the context's files with slash-separated relative paths.
	FS fs.FS
	// IgnoreFile is the ignore file in force ("" when there is none).
	IgnoreFile string
	// IgnorePatterns are its patterns as BuildKit reads them.
	IgnorePatterns []string

	ignore *patternmatcher.PatternMatcher

	mu   sync.Mutex
	memo map[string]*memoEntry
}

// Open opens the context folder dir for the Dockerfile at dockerfilePath
// (a path on disk, or just a name for a Dockerfile in dir). The ignore file
// is the one BuildKit reads: <name>.dockerignore beside the Dockerfile,
// else the context's .dockerignore.
func Open(dir, dockerfilePath string) (*Context, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errors.New("build context is not a folder")}
	}
	if dockerfilePath != "" && filepath.Dir(dockerfilePath) != "." && !sameDir(filepath.Dir(dockerfilePath), dir) {
		own := dockerfilePath + ".dockerignore"
		if data, err := os.ReadFile(own); err == nil {
			c := &Context{Dir: dir, FS: os.DirFS(dir)}
			return c, c.setIgnore(own, data)
		}
		return FromFS(os.DirFS(dir), dir, "")
	}
	return FromFS(os.DirFS(dir), dir, filepath.Base(dockerfilePath))
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// FromFS makes a context over any file system (tests use fstest.MapFS).
func FromFS(fsys fs.FS, dir, dockerfileName string) (*Context, error) {
	c := &Context{Dir: dir, FS: fsys}
	candidates := []string{".dockerignore"}
	if dockerfileName != "" {
		candidates = []string{path.Base(dockerfileName) + ".dockerignore", ".dockerignore"}
	}
	for _, name := range candidates {
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return c, c.setIgnore(name, data)
	}
	return c, nil
}

func (c *Context) setIgnore(name string, data []byte) error {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return &fs.PathError{Op: "parse", Path: filepath.Join(c.Dir, name), Err: err}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return &fs.PathError{Op: "parse", Path: filepath.Join(c.Dir, name), Err: err}
	}
	c.IgnoreFile, c.IgnorePatterns, c.ignore = name, patterns, pm
	return nil
}

// Memo returns the value fn computes for key, computing it once per
// context. Rules use it for scans of the whole context, which would
// otherwise repeat on every pass of the engine. fn runs without the
// context's lock, so it may use Memo for another key (a rule's scan built
// on the shared listing of the context); concurrent callers of one key wait
// for the first.
func (c *Context) Memo(key string, fn func() any) any {
	c.mu.Lock()
	if c.memo == nil {
		c.memo = map[string]*memoEntry{}
	}
	e, ok := c.memo[key]
	if !ok {
		e = &memoEntry{}
		c.memo[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.value = fn() })
	return e.value
}

type memoEntry struct {
	once  sync.Once
	value any
}

// Clean turns a path as written in a COPY source ("./a/b/", "/a") into the
// context-relative form fs.FS wants ("a/b"); "." is the root.
func Clean(p string) string {
	p = path.Clean("/" + strings.ReplaceAll(p, `\`, "/"))
	if p == "/" {
		return "."
	}
	return p[1:]
}

// Exists reports whether the path is in the context folder, ignored or not.
func (c *Context) Exists(p string) bool {
	if c == nil {
		return false
	}
	_, err := fs.Stat(c.FS, Clean(p))
	return err == nil
}

// Ignored reports whether .dockerignore keeps the path out of the build.
func (c *Context) Ignored(p string) bool {
	if c == nil || c.ignore == nil {
		return false
	}
	p = Clean(p)
	if p == "." {
		return false
	}
	ok, err := c.ignore.MatchesOrParentMatches(p)
	return err == nil && ok
}

// Sent reports whether the path exists and reaches the builder.
func (c *Context) Sent(p string) bool { return c.Exists(p) && !c.Ignored(p) }

// ReadHead returns up to n bytes from the start of a file.
func (c *Context) ReadHead(p string, n int) ([]byte, error) {
	f, err := c.FS.Open(Clean(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:m], nil
}

// Glob lists context paths matching a COPY-style source pattern.
func (c *Context) Glob(pattern string) ([]string, error) {
	if c == nil {
		return nil, nil
	}
	return fs.Glob(c.FS, Clean(pattern))
}

package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/harden-dev/harden/buildctx"
)

// Bounds keep detection fast and safe on any folder a user or a bot points
// it at: a monorepo with a committed node_modules, a home directory, a
// context full of generated files.
const (
	// maxWalkEntries stops the walk; what was seen so far is used.
	maxWalkEntries = 30_000
	// maxDepth is how deep below the context root the walk goes.
	maxDepth = 8
	// maxManifestSize is the largest manifest or version file read.
	maxManifestSize = 1 << 20
	// maxSniffFiles and sniffHead bound reading source files for hints
	// (Go package clauses, Flask apps, listening ports).
	maxSniffFiles = 400
	sniffHead     = 16 << 10
)

// skipDirs hold dependencies, caches, history and build output, never the
// application's own manifests.
var skipDirs = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		".git": true, ".hg": true, ".svn": true,
		"node_modules": true, "bower_components": true, ".pnpm-store": true, ".yarn": true,
		"vendor": true, ".bundle": true,
		".venv": true, "venv": true, "__pycache__": true, "site-packages": true,
		".tox": true, ".nox": true, ".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true,
		"target": true, ".gradle": true, ".m2": true, "obj": true,
		".next": true, ".nuxt": true, ".svelte-kit": true, ".angular": true, ".turbo": true, ".cache": true,
		".idea": true, ".terraform": true, "coverage": true,
	}
})

// scan is a bounded listing of a build context plus size-limited reads.
// Problems become notes; nothing here fails detection.
type scan struct {
	ctx   *buildctx.Context
	fsys  fs.FS
	files []string        // regular files, slash-separated, sorted
	has   map[string]bool // the same, as a set
	dirs  map[string][]string
	// truncated is set when the walk stopped early.
	truncated bool
	notes     []Evidence
	noted     map[string]bool
	sniffed   int
	parsed    map[string]any
}

func newScan(ctx *buildctx.Context) *scan {
	s := &scan{ctx: ctx, has: map[string]bool{}, dirs: map[string][]string{}, noted: map[string]bool{}, parsed: map[string]any{}}
	if ctx == nil || ctx.FS == nil {
		return s
	}
	s.fsys = ctx.FS
	s.walk()
	return s
}

// walk lists the context breadth first: the folders of one level are read
// in parallel (listing folders is bound by system calls, not the CPU),
// then taken in sorted order, so that the result and the files kept when
// the entry budget runs out do not depend on timing. Breadth first also
// means a truncated walk keeps the shallow files, where manifests live.
func (s *scan) walk() {
	budget := maxWalkEntries
	level := []string{"."}
	for depth := 0; len(level) > 0; depth++ {
		listed := s.readDirs(level)
		var next []string
		for i, dir := range level {
			if listed[i].err != nil {
				if dir == "." {
					s.note(".", 0, "cannot list the build context: "+errText(listed[i].err))
					return
				}
				s.note(dir, 0, "cannot read: "+errText(listed[i].err))
				continue
			}
			if dir != "." && isVirtualenv(listed[i].entries) {
				continue
			}
			var names []string
			for _, e := range listed[i].entries {
				if budget--; budget < 0 {
					s.truncated = true
					break
				}
				p := join(dir, e.Name())
				if e.IsDir() {
					if !skipDirs()[e.Name()] && depth < maxDepth {
						next = append(next, p)
					}
					continue
				}
				if !e.Type().IsRegular() && e.Type()&fs.ModeSymlink == 0 {
					continue
				}
				s.files = append(s.files, p)
				s.has[p] = true
				names = append(names, e.Name())
			}
			if len(names) > 0 {
				s.dirs[dir] = names
			}
			if s.truncated {
				break
			}
		}
		if s.truncated {
			s.note(".", 0, fmt.Sprintf("the build context has more than %d entries; detection looked at the first %d, the shallowest", maxWalkEntries, maxWalkEntries))
			break
		}
		level = next
	}
	sort.Strings(s.files)
}

// isVirtualenv spots a virtual environment under any name ("env",
// ".python"): a folder holding pyvenv.cfg.
func isVirtualenv(entries []fs.DirEntry) bool {
	for _, e := range entries {
		if e.Name() == "pyvenv.cfg" {
			return true
		}
	}
	return false
}

type listing struct {
	entries []fs.DirEntry
	err     error
}

// readDirs lists folders in parallel, keeping their order.
func (s *scan) readDirs(dirs []string) []listing {
	out := make([]listing, len(dirs))
	parallel(len(dirs), func(i int) {
		out[i].entries, out[i].err = fs.ReadDir(s.fsys, dirs[i])
	})
	return out
}

// parallel runs fn(0..n-1) on a few goroutines.
func parallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(ioWorkers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ioWorkers is how many files or folders are read at a time.
const ioWorkers = 8

// exists reports whether the context holds the file p. Files under skipped
// folders are found by asking the file system directly.
func (s *scan) exists(p string) bool {
	if s.fsys == nil {
		return false
	}
	if s.has[p] {
		return true
	}
	if !s.truncated && !underSkipped(p) {
		return false
	}
	st, err := fs.Stat(s.fsys, p)
	return err == nil && !st.IsDir()
}

func underSkipped(p string) bool {
	for part := range strings.SplitSeq(p, "/") {
		if skipDirs()[part] {
			return true
		}
	}
	return false
}

// isDir reports whether p is a folder the walk entered (or the root).
func (s *scan) isDir(p string) bool {
	if p == "." {
		return s.fsys != nil
	}
	prefix := p + "/"
	i := sort.SearchStrings(s.files, prefix)
	return i < len(s.files) && strings.HasPrefix(s.files[i], prefix)
}

// inDir lists the file names directly inside dir.
func (s *scan) inDir(dir string) []string { return s.dirs[dir] }

// under lists the files below dir at most depth folders down (1: directly
// inside), in sorted order.
func (s *scan) under(dir string, depth int) []string {
	var out []string
	prefix := ""
	if dir != "." {
		prefix = dir + "/"
	}
	i := sort.SearchStrings(s.files, prefix)
	for ; i < len(s.files) && strings.HasPrefix(s.files[i], prefix); i++ {
		if strings.Count(s.files[i][len(prefix):], "/") < depth {
			out = append(out, s.files[i])
		}
	}
	return out
}

// glob lists files directly in dir whose name matches pattern.
func (s *scan) glob(dir, pattern string) []string {
	var out []string
	for _, name := range s.inDir(dir) {
		if ok, _ := path.Match(pattern, name); ok {
			out = append(out, join(dir, name))
		}
	}
	return out
}

// read returns the file's content, or nil after noting why it cannot be
// used: missing files are not noted, since callers ask about optional ones.
func (s *scan) read(p string) []byte {
	return s.readLimit(p, maxManifestSize)
}

func (s *scan) readLimit(p string, limit int64) []byte {
	if s.fsys == nil {
		return nil
	}
	f, err := s.fsys.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.note(p, 0, "cannot read: "+errText(err))
		}
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			s.note(p, 0, "is a folder, not a file")
			return nil
		}
		if st.Size() > limit {
			s.note(p, 0, fmt.Sprintf("is %d bytes, over the %d KiB limit for a file harden reads; ignored", st.Size(), limit>>10))
			return nil
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		s.note(p, 0, "cannot read: "+errText(err))
		return nil
	}
	if int64(len(data)) > limit {
		s.note(p, 0, fmt.Sprintf("is over the %d KiB limit for a file harden reads; ignored", limit>>10))
		return nil
	}
	if bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0 {
		s.note(p, 0, "holds binary data, not text; ignored")
		return nil
	}
	return data
}

// sniff returns the start of a source file, within a budget on how many
// source files one detection reads; ok is false once the budget is spent.
func (s *scan) sniff(p string) (data []byte, ok bool) {
	if s.sniffed >= maxSniffFiles {
		s.budgetSpent()
		return nil, false
	}
	s.sniffed++
	if s.fsys == nil {
		return nil, true
	}
	return readHead(s.fsys, p, sniffHead), true
}

// budgetSpent notes, once, that source files were left unread.
func (s *scan) budgetSpent() {
	s.note(".", 0, fmt.Sprintf("read the first %d source files only; hints in the others (ports, app objects, cgo) were not looked for", maxSniffFiles))
}

// sniffAll reads the start of many source files at once, within the
// same budget as sniff; entries past the budget or unreadable are nil.
// Reading source files is bound by system calls, not by the CPU, so a few
// readers in parallel finish well before one would (the context's fs.FS
// must allow concurrent reads, as os.DirFS and fstest.MapFS do).
func (s *scan) sniffAll(paths []string, size int) [][]byte {
	out := make([][]byte, len(paths))
	n := min(len(paths), maxSniffFiles-s.sniffed)
	if n < len(paths) {
		s.budgetSpent()
	}
	if n <= 0 || s.fsys == nil {
		return out
	}
	s.sniffed += n
	parallel(n, func(i int) { out[i] = readHead(s.fsys, paths[i], size) })
	return out
}

func readHead(fsys fs.FS, p string, size int) []byte {
	f, err := fsys.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, size)
	n, _ := io.ReadFull(f, buf)
	return buf[:n]
}

// ignored reports whether .dockerignore keeps p out of the build.
func (s *scan) ignored(p string) bool { return s.ctx != nil && s.ctx.Ignored(p) }

// note records a problem with a file once.
func (s *scan) note(file string, line int, why string) {
	key := fmt.Sprintf("%s:%d:%s", file, line, why)
	if s.noted[key] {
		return
	}
	s.noted[key] = true
	s.notes = append(s.notes, Evidence{File: file, Line: line, Why: why})
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// join is path.Join for context paths, where "." is the root.
func join(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return path.Join(dir, name)
}

// rel returns p relative to dir ("." when equal).
func rel(dir, p string) string {
	if dir == "." || dir == "" {
		return p
	}
	if p == dir {
		return "."
	}
	return strings.TrimPrefix(p, dir+"/")
}

package ignore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"

	"github.com/harden-dev/harden/buildctx"
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

// errRestart abandons a walk that met a path its narrowed matcher was not
// built for (see filterWalk.narrow).
var errRestart = errors.New("restart the walk")

// sentEntry is one path the builder receives.
type sentEntry struct {
	path string // slash-separated, relative to the context root
	dir  bool
	mode fs.FileMode
	size int64
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

// contextTree is the build context as one run has read it. A plan walks the
// context several times (what the old file sends, what the new one sends,
// who excludes what); each folder is listed and each entry stat'ed once,
// on the first walk that reaches it, and later walks run from memory. The
// context is taken to be a snapshot, as BuildKit's client takes it.
type contextTree struct {
	fsys     fs.FS
	root     *node
	rootErr  error
	rootRead bool
	all      []*node // every entry read, for narrowing a matcher
	spare    []*node // a finished walk's output, for the next one's
}

// node is one entry of the context.
type node struct {
	path  string // slash-separated, relative to the root; "." for the root
	entry fs.DirEntry

	info     fs.FileInfo
	infoErr  error
	infoRead bool

	kids    []*node
	kidsErr error
	listed  bool
}

func newContextTree(fsys fs.FS) *contextTree {
	return &contextTree{fsys: fsys}
}

// sharedTree is the listing of a build context that every walk of one run
// over it shares. A tree is not safe for concurrent walks; harden uses a
// context from one goroutine at a time (its rules, then its ignore plan).
func sharedTree(ctx *buildctx.Context) *contextTree {
	return ctx.Memo("ignore.contextTree", func() any { return newContextTree(ctx.FS) }).(*contextTree)
}

// withRoot takes info as what Stat(".") returns, for a caller that has it.
func (t *contextTree) withRoot(info fs.FileInfo) *contextTree {
	t.root = &node{path: ".", entry: fs.FileInfoToDirEntry(info), info: info, infoRead: true}
	t.rootRead = true
	return t
}

func (t *contextTree) rootNode() (*node, error) {
	if !t.rootRead {
		t.rootRead = true
		info, err := fs.Stat(t.fsys, ".")
		if err != nil {
			t.rootErr = err
		} else {
			t.root = &node{path: ".", entry: fs.FileInfoToDirEntry(info), info: info, infoRead: true}
		}
	}
	return t.root, t.rootErr
}

// maxKept bounds the entries a tree keeps, some 20 MB: a context larger
// than that is read again by each walk past it, as it was before there
// was a tree, rather than held whole in memory.
const maxKept = 1 << 16

// children lists a folder as fs.WalkDir does (sorted, possibly partly,
// with the error); fresh is set when it was read now.
func (t *contextTree) children(n *node) (kids []*node, err error, fresh bool) {
	if n.listed {
		return n.kids, n.kidsErr, false
	}
	entries, err := fs.ReadDir(t.fsys, n.path)
	kids = make([]*node, len(entries))
	block := make([]node, len(entries))
	for i, e := range entries {
		block[i] = node{path: childPath(n.path, e.Name()), entry: e}
		kids[i] = &block[i]
	}
	if len(t.all)+len(kids) <= maxKept {
		n.listed, n.kids, n.kidsErr = true, kids, err
		t.all = append(t.all, kids...)
	}
	return kids, err, true
}

// childPath is path.Join(dir, name), as fs.WalkDir names entries, without
// its cleaning pass for the names a listing holds.
func childPath(dir, name string) string {
	switch {
	case name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/'):
		return path.Join(dir, name)
	case dir == ".":
		return name
	}
	return dir + "/" + name
}

// rootEntries lists the context's root; ok is false when that failed or
// the tree does not keep the listing.
func (t *contextTree) rootEntries() (entries []*node, ok bool) {
	root, err := t.rootNode()
	if err != nil || !root.entry.IsDir() {
		return nil, false
	}
	kids, err, _ := t.children(root)
	return kids, err == nil && root.listed
}

// mayHold reports whether the root can hold name: false when its listing
// has no entry by that name in any case (a case-insensitive file system
// opens Readme.md as README.md), so that opening it would fail.
func (t *contextTree) mayHold(name string) bool {
	entries, ok := t.rootEntries()
	return !ok || slices.ContainsFunc(entries, func(n *node) bool { return strings.EqualFold(n.entry.Name(), name) })
}

func (n *node) stat() (fs.FileInfo, error) {
	if !n.infoRead {
		n.infoRead = true
		n.info, n.infoErr = n.entry.Info()
	}
	return n.info, n.infoErr
}

func (n *node) sent() sentEntry {
	return sentEntry{path: n.path, dir: n.info.IsDir(), mode: n.info.Mode(), size: n.info.Size()}
}

// walkSent calls visit for every path that reaches the builder through the
// list, in walk order (a folder before its contents), and returns
// partial=true when the walk stopped at max entries.
//
// It decides as fsutil's filter decides when BuildKit's client sends a
// local context, step for step, with patternmatcher matching every path:
// a folder the patterns exclude is skipped unless a "!" pattern may
// re-include something inside it, and is sent after all, before its
// contents, when one does. It never follows symlinks, and counts every
// entry it looks at, excluded or not, towards max. What it does not share
// with fsutil is the cost: the context is read once per run, and patterns
// are compiled once and only where they can match. TestWalkMatchesFsutil
// and TestWalkMatchesFsutilOnRandomLists hold it to fsutil's answers.
func (t *contextTree) walkSent(l *patternList, max int, visit func(sentEntry) error) (partial bool, err error) {
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if l.err != nil {
		return false, fmt.Errorf("ignore patterns: invalid excludepatterns: %s: %w", l.pats, l.err)
	}
	w := &filterWalk{tree: t, list: l, max: max, filtering: len(l.items) > 0, out: t.spare[:0]}
	t.spare = nil // in use; a visit may start another walk
	w.choose()
	err = w.run()
	if errors.Is(err, errRestart) {
		w.pm, w.keep = l.wholeMatcher(), nil
		err = w.run()
	}
	// Visiting after the walk lets a narrowed walk start again unseen; the
	// sequence, and where a visit's error stops it, is the same.
	defer func() { t.spare = w.out[:0] }()
	for _, n := range w.out {
		if err := visit(n.sent()); err != nil {
			return false, err
		}
	}
	if errors.Is(err, errTooMany) {
		return true, nil
	}
	return false, err
}

// filterWalk is one walk of walkSent.
type filterWalk struct {
	tree      *contextTree
	list      *patternList
	max, seen int
	filtering bool // the list has patterns; without, fsutil does not filter

	// pm matches with parent results as fsutil does; nil when the list is
	// matched pattern by pattern (see choose). keep marks the patterns a
	// narrowed pm holds.
	pm   *patternmatcher.PatternMatcher
	keep []bool

	stack []walkedDir
	out   []*node
}

// walkedDir is a folder the walk is inside.
type walkedDir struct {
	n      *node
	prefix string // path + "/"
	info   patternmatcher.MatchInfo
	sent   bool
}

// maxNarrowed bounds the entries a matcher is narrowed over: past it,
// checking every entry against every pattern costs more than compiling
// them.
const maxNarrowed = 512

// choose picks how the walk matches. Without "!" patterns, fsutil never
// enters an excluded folder, so every path it looks at has no excluded
// parent, and MatchesUsingParentResults gives what matching the list
// pattern by pattern gives. With them, it uses patternmatcher's parent
// results, from a PatternMatcher narrowed to the patterns that can match
// some entry an earlier walk read: the others never match, so they never
// change the result, and they are never compiled. An entry read for the
// first time that one of them could match restarts the walk with all
// patterns.
func (w *filterWalk) choose() {
	l := w.list
	switch {
	case !w.filtering:
	case l.fast && !l.exclusions:
	case !l.fast || l.whole != nil || len(w.tree.all) == 0 || len(w.tree.all) > maxNarrowed:
		// Also when an earlier walk built whole: what it compiled stays.
		w.pm = l.wholeMatcher()
	default:
		w.keep = make([]bool, len(l.items))
		all := true
		for i, it := range l.items {
			for _, n := range w.tree.all {
				if it.one.text.admits(filepath.FromSlash(n.path)) {
					w.keep[i] = true
					break
				}
			}
			all = all && w.keep[i]
		}
		if all {
			w.pm, w.keep = l.wholeMatcher(), nil
		} else {
			w.pm = l.subMatcher(w.keep)
		}
	}
}

// narrowed reports whether a pattern left out of the narrowed matcher
// could match one of the newly read entries.
func (w *filterWalk) narrowed(kids []*node) bool {
	for i, it := range w.list.items {
		if w.keep[i] {
			continue
		}
		for _, n := range kids {
			if it.one.text.admits(filepath.FromSlash(n.path)) {
				return true
			}
		}
	}
	return false
}

func (w *filterWalk) run() error {
	w.seen, w.stack, w.out = 0, w.stack[:0], w.out[:0]
	root, err := w.tree.rootNode()
	if err != nil {
		return err
	}
	if !root.entry.IsDir() {
		return nil
	}
	return w.walkKids(root, true)
}

// walk follows fs.WalkDir for one entry below the root.
func (w *filterWalk) walk(n *node) error {
	if err := w.visit(n, nil); err != nil || !n.entry.IsDir() {
		if err == fs.SkipDir && n.entry.IsDir() {
			err = nil
		}
		return err
	}
	return w.walkKids(n, false)
}

func (w *filterWalk) walkKids(n *node, root bool) error {
	kids, err, fresh := w.tree.children(n)
	if fresh && w.keep != nil && w.narrowed(kids) {
		return errRestart
	}
	if err != nil {
		if root {
			return err
		}
		// fs.WalkDir reports a folder it cannot list with a second call.
		if err := w.visit(n, err); err != nil {
			if err == fs.SkipDir {
				err = nil
			}
			return err
		}
	}
	for _, k := range kids {
		if err := w.walk(k); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	return nil
}

// visit decides one entry as fsutil's filter does; walkErr is the error
// fs.WalkDir reports for it.
func (w *filterWalk) visit(n *node, walkErr error) (err error) {
	w.seen++
	if w.seen > w.max {
		return errTooMany
	}
	defer func() {
		// fsutil treats an entry gone since it was listed as skipped.
		if err != nil && (errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
			err = fs.SkipDir
		}
	}()
	var info fs.FileInfo
	if walkErr == nil {
		info, walkErr = n.stat()
	}
	isDir := walkErr == nil && info.IsDir()
	if !w.filtering {
		if walkErr != nil {
			return walkErr
		}
		w.out = append(w.out, n)
		return nil
	}
	for len(w.stack) > 0 && !strings.HasPrefix(n.path, w.stack[len(w.stack)-1].prefix) {
		w.stack = w.stack[:len(w.stack)-1]
	}
	excluded, info2, err := w.match(n.path)
	if err != nil {
		return fmt.Errorf("failed to match excludepatterns: %w", err)
	}
	if excluded {
		if isDir && w.list.prefixOnly && !w.reincludesInside(n.path) {
			return fs.SkipDir
		}
	}
	if walkErr != nil {
		if excluded && errors.Is(walkErr, fs.ErrPermission) {
			return nil
		}
		return walkErr
	}
	if !excluded {
		// A folder is sent when something inside it is.
		for i := range w.stack {
			if !w.stack[i].sent {
				w.stack[i].sent = true
				w.out = append(w.out, w.stack[i].n)
			}
		}
		w.out = append(w.out, n)
	}
	if isDir {
		w.stack = append(w.stack, walkedDir{n: n, prefix: n.path + "/", info: info2, sent: !excluded})
	}
	return nil
}

func (w *filterWalk) match(p string) (bool, patternmatcher.MatchInfo, error) {
	if w.pm == nil {
		return w.list.matches(p), patternmatcher.MatchInfo{}, nil
	}
	var parent patternmatcher.MatchInfo
	if len(w.stack) > 0 {
		parent = w.stack[len(w.stack)-1].info
	}
	return w.pm.MatchesUsingParentResults(p, parent)
}

// reincludesInside reports whether a "!" pattern names a path inside the
// folder p, so that an excluded folder must still be entered.
func (w *filterWalk) reincludesInside(p string) bool {
	dir := filepath.FromSlash(p) + string(filepath.Separator)
	for _, r := range w.list.reinclude {
		if strings.HasPrefix(r, dir) {
			return true
		}
	}
	return false
}

// walkAll calls fn for every entry of the context below the root, as
// fs.WalkDir would, ignoring folders it cannot list; fn's error stops it.
func (t *contextTree) walkAll(fn func(n *node) error) error {
	root, err := t.rootNode()
	if err != nil || !root.entry.IsDir() {
		return nil
	}
	return t.walkAllKids(root, fn)
}

func (t *contextTree) walkAllKids(n *node, fn func(n *node) error) error {
	kids, _, _ := t.children(n)
	for _, k := range kids {
		if err := fn(k); err != nil {
			return err
		}
		if k.entry.IsDir() {
			if err := t.walkAllKids(k, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// measure returns the size of what the list lets through.
func (t *contextTree) measure(l *patternList, max int) (Size, bool, error) {
	var s Size
	partial, err := t.walkSent(l, max, func(e sentEntry) error {
		s.add(e)
		return nil
	})
	return s, partial, err
}

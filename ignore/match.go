package ignore

import (
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// matchers holds one run's patterns, each parsed once.
//
// patternmatcher turns most patterns into a regular expression the first
// time it matches a path against them, and every PatternMatcher built afresh
// compiles its patterns again. A plan matches some sixty catalog entries
// through several lists (the old file, the final one, one per guarded path,
// each walk), so compiling was most of its time. Here each pattern gets one
// matcher per run, compiled only when a path could match it: the plain
// text of a pattern occurs in every path it matches, and in a small project
// most entries (keys, caches, other ecosystems' folders) have nothing to
// match. Only a walk under "!" patterns needs a PatternMatcher of the list
// (see filterWalk.choose), and that one holds just the patterns that can
// match something in the context.
type matchers struct {
	singles map[string]*single
	// The singles and their text, allocated in blocks: a run makes a
	// hundred or so, and each allocation costs.
	pool  []single
	texts []string
}

func newMatchers() *matchers {
	// Sized for the catalog entries of a project or two ecosystems.
	return &matchers{singles: make(map[string]*single, 80), texts: make([]string, 0, 128)}
}

// single matches one pattern on its own, exactly as
// patternmatcher.New([]string{pattern}) does.
type single struct {
	pattern string
	pm      *patternmatcher.PatternMatcher // built on first need
	err     error                          // New's: an invalid pattern matches nothing
	text    textFilter
	filter  bool // text is known
}

func (m *matchers) single(pattern string) *single {
	if s, ok := m.singles[pattern]; ok {
		return s
	}
	if len(m.pool) == cap(m.pool) {
		m.pool = make([]single, 0, 64) // the old block stays where it is
	}
	m.pool = append(m.pool, single{pattern: pattern})
	s := &m.pool[len(m.pool)-1]
	if isClean(pattern) {
		// patternmatcher matches the pattern as written only when cleaning
		// leaves it alone; otherwise its text is not what is matched.
		s.text, m.texts, s.filter = readText(pattern, m.texts)
	}
	if !s.filter {
		// Patterns readText accepts are valid (no escapes, plain classes
		// only), so their matcher waits for a path that gets past the
		// text test, which most never do; the others are checked now.
		s.pm, s.err = patternmatcher.New([]string{pattern})
	}
	m.singles[pattern] = s
	return s
}

// matches is MatchesOrParentMatches of the pattern alone.
func (s *single) matches(p string) bool {
	q := filepath.FromSlash(p)
	return s.match(p, q, filepath.Clean(q) == q)
}

// match is matches for a path p whose native form q has been checked for
// being clean: only then are the parents patternmatcher tries prefixes of
// q, which the text test relies on.
func (s *single) match(p, q string, clean bool) bool {
	if s.err != nil || s.filter && clean && !s.text.admits(q) {
		return false
	}
	if s.pm == nil {
		if s.pm, s.err = patternmatcher.New([]string{s.pattern}); s.err != nil {
			return false
		}
	}
	hit, _ := s.pm.MatchesOrParentMatches(p)
	return hit
}

// isClean reports whether patternmatcher keeps the pattern as it is: no
// blanks to trim, nothing for filepath.Clean to change, no "!".
func isClean(p string) bool {
	return p != "" && p[0] != '!' && strings.TrimSpace(p) == p && filepath.Clean(p) == p
}

// textFilter is what a pattern's plain text says about the paths it
// matches: patternmatcher matches a path when the pattern matches it or
// one of its parents, and a parent of a clean path is the path up to a
// separator, so
//
//   - each run of plain text occurs in the path, and
//   - a pattern that ends in plain text (and perhaps classes like [cod])
//     matches a string ending in it: the path ends so, or does so just
//     before a separator.
type textFilter struct {
	runs     []string
	anchored bool     // the pattern ends with runs' last, then tailSets
	tailSets []string // one byte from each ends the match
}

// admits reports whether the pattern can match the clean native path q or
// one of its parents; false means it does not.
func (f *textFilter) admits(q string) bool {
	for _, r := range f.runs {
		if !strings.Contains(q, r) {
			return false
		}
	}
	if !f.anchored {
		return true
	}
	tail := f.runs[len(f.runs)-1]
	for e := len(q); ; {
		if f.endsWith(q[:e], tail) {
			return true
		}
		if e = strings.LastIndexByte(q[:e], filepath.Separator); e < 0 {
			return false
		}
	}
}

func (f *textFilter) endsWith(s, tail string) bool {
	k := len(f.tailSets)
	if len(s) < len(tail)+k || s[len(s)-k-len(tail):len(s)-k] != tail {
		return false
	}
	for j, set := range f.tailSets {
		if strings.IndexByte(set, s[len(s)-k+j]) < 0 {
			return false
		}
	}
	return true
}

// readText reads a pattern's plain text (see textFilter), appending the
// strings to arena and returning it. ok is false for patterns whose
// regular expression could be more than the sum of its parts: escapes,
// "^" (left unescaped by patternmatcher, so an anchor), character classes
// other than a plain list like [cod], and text the scanner it uses would
// not read back unchanged. Those are matched without the shortcut.
func readText(p string, arena []string) (f textFilter, out []string, ok bool) {
	if len(p) > 4096 || !utf8.ValidString(p) || strings.ContainsAny(p, "\\^\x00\ufeff") {
		return f, arena, false
	}
	first := len(arena)
	var sets []string // classes since the last run
	anchored := false // nothing but classes since the last run
	start := 0
	run := func(end int) {
		if end > start {
			arena = append(arena, p[start:end])
			anchored, sets = true, sets[:0]
		}
	}
	for i := 0; i < len(p); {
		switch p[i] {
		case '*':
			run(i)
			j := i + 1
			if j < len(p) && p[j] == '*' {
				// "**/" is one token: it also matches no folder at all, so
				// its slash is not required text.
				j++
				if j < len(p) && p[j] == filepath.Separator {
					j++
				}
			}
			anchored, i, start = false, j, j
		case '?':
			// One character, but perhaps several bytes: no tail set.
			run(i)
			anchored, i, start = false, i+1, i+1
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 2 || !plainClass(p[i+1:i+end]) {
				return f, arena[:first], false
			}
			run(i)
			if anchored {
				sets = append(sets, p[i+1:i+end])
			}
			i += end + 1
			start = i
		case ']':
			return f, arena[:first], false
		default:
			i++
		}
	}
	run(len(p))
	n := len(arena)
	f.runs, f.anchored = arena[first:n:n], anchored
	if anchored {
		arena = append(arena, sets...)
		f.tailSets = arena[n:len(arena):len(arena)]
	}
	return f, arena, true
}

// plainClass accepts the contents of a class that is a plain list of
// letters, digits, dots and underscores: no ranges, negation or nesting.
func plainClass(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// patternList is an ordered list of patterns, as one PatternMatcher built
// from them would match: the last pattern matching a path (or one of its
// parents) decides, and "!" patterns re-include.
type patternList struct {
	pats  []string
	items []listItem
	// fast is set when every pattern can be matched on its own (see
	// listItem.one), which patternmatcher's result for the list is made
	// of; otherwise whole does the matching.
	fast  bool
	whole *patternmatcher.PatternMatcher
	err   error // from patternmatcher.New, for an invalid list
	subs  map[string]*patternmatcher.PatternMatcher

	// What fsutil's filter decides from the list when it meets an
	// excluded folder (see walkSent).
	exclusions bool     // some pattern starts with "!"
	prefixOnly bool     // every "!" pattern is a plain path
	reinclude  []string // each "!" pattern's path, with a trailing separator
}

// listItem is one non-blank pattern of a list.
type listItem struct {
	raw  string // as given
	body string // as patternmatcher matches it: trimmed, cleaned, without "!"
	excl bool
	// one matches body alone; nil when that could differ from how the
	// list matches it, or when its text is not known.
	one *single
}

func (m *matchers) list(pats []string) *patternList {
	l := &patternList{pats: pats, items: make([]listItem, 0, len(pats)), fast: true, prefixOnly: true}
	globChars := "*[]?^"
	if filepath.Separator != '\\' {
		globChars += `\`
	}
	for _, raw := range pats {
		t := strings.TrimSpace(raw)
		if t == "" {
			continue
		}
		it := listItem{raw: raw, body: filepath.Clean(t)}
		if it.body[0] == '!' {
			it.excl, it.body = true, it.body[1:]
			l.exclusions = true
			dir := withoutTrailingGlob(it.body)
			if strings.ContainsAny(dir, globChars) {
				l.prefixOnly = false
			}
			l.reinclude = append(l.reinclude, dir+string(filepath.Separator))
		}
		if isClean(it.body) {
			if s := m.single(it.body); s.filter {
				it.one = s
			}
		}
		if it.one == nil {
			l.fast = false
		}
		l.items = append(l.items, it)
	}
	if !l.fast {
		l.whole, l.err = patternmatcher.New(pats)
	}
	return l
}

// withoutTrailingGlob drops a trailing "/**" and then "/*", as fsutil
// does before it compares a re-inclusion with a folder.
func withoutTrailingGlob(p string) string {
	sep := string(filepath.Separator)
	p = strings.TrimSuffix(p, sep+"**")
	return strings.TrimSuffix(p, sep+"*")
}

// matches is the list's MatchesOrParentMatches. Matched pattern by
// pattern, from the end, the first hit decides: patternmatcher's forward
// loop skips only patterns that could not change its answer.
func (l *patternList) matches(p string) bool {
	if !l.fast {
		if l.whole == nil {
			return false
		}
		hit, _ := l.whole.MatchesOrParentMatches(p)
		return hit
	}
	q := filepath.FromSlash(p)
	clean := filepath.Clean(q) == q
	for i := len(l.items) - 1; i >= 0; i-- {
		if l.items[i].one.match(p, q, clean) {
			return !l.items[i].excl
		}
	}
	return false
}

// wholeMatcher builds the list's PatternMatcher on first need.
func (l *patternList) wholeMatcher() *patternmatcher.PatternMatcher {
	if l.whole == nil && l.err == nil {
		l.whole, l.err = patternmatcher.New(l.pats)
	}
	return l.whole
}

// subMatcher is a PatternMatcher of the patterns marked in keep, in order;
// one per distinct selection is built.
func (l *patternList) subMatcher(keep []bool) *patternmatcher.PatternMatcher {
	key := make([]byte, len(keep))
	var pats []string
	for i, k := range keep {
		if k {
			key[i] = 1
			pats = append(pats, l.items[i].raw)
		}
	}
	if pm, ok := l.subs[string(key)]; ok {
		return pm
	}
	pm, _ := patternmatcher.New(pats) // a selection of a valid list is valid
	if l.subs == nil {
		l.subs = map[string]*patternmatcher.PatternMatcher{}
	}
	l.subs[string(key)] = pm
	return pm
}

// normalize cleans a pattern as BuildKit reads it from a file.
func normalize(pattern string) string {
	p, _ := readLine(pattern)
	return p
}

// readLine returns the pattern ignorefile.ReadAll reads from one line, if
// any. Comments, blank lines and patterns already in the form ReadAll gives
// them are answered directly, since its scanner allocates a 4 KiB buffer
// for every call.
func readLine(text string) (string, bool) {
	switch {
	case text == "" || text[0] == '#':
		return "", false
	case len(text) < 4096 && text[0] != '!' && text[0] != '/' && !strings.ContainsAny(text, "\r\n") &&
		!strings.HasPrefix(text, "\ufeff") && strings.TrimSpace(text) == text && filepath.ToSlash(filepath.Clean(text)) == text:
		return text, true
	}
	pats, err := ignorefile.ReadAll(strings.NewReader(text))
	if err != nil || len(pats) == 0 {
		return "", false
	}
	return pats[0], true
}

package ignore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"

	"github.com/harden-dev/harden/dockerfile"
)

// maxRounds bounds conflict resolution. Every round drops an entry or adds
// a re-inclusion for a path that had none, so real contexts settle in two.
const maxRounds = 32

// Generate plans the ignore file for df over the build context fsys,
// merging with file (see Locate). The context's own ignore file is not
// consulted: file is the one in force.
func Generate(fsys fs.FS, df *dockerfile.File, file *File, opts Options) (*Result, error) {
	return generate(newContextTree(fsys), "", df, file, opts)
}

// generate is Generate over a context tree, with the context folder's name
// for messages.
func generate(tree *contextTree, contextName string, df *dockerfile.File, file *File, opts Options) (*Result, error) {
	g := &generator{
		fsys:    tree.fsys,
		ctxName: contextName,
		file:    file,
		opts:    opts,
		max:     opts.MaxEntries,
		tree:    tree,
		m:       newMatchers(),
		guarded: map[string]*guard{},
		res:     &Result{Path: file.Path, Shared: file.Shared, Old: file.Data},
	}
	if file.Shared {
		g.selfPath = ".dockerignore"
	} else if rel, ok := contextRelative(contextName, file.Path); ok {
		g.selfPath = rel
	}
	g.facts = append(g.facts, readFacts(df))
	for _, s := range opts.Siblings {
		g.facts = append(g.facts, readFacts(s))
	}
	if err := g.readExisting(); err != nil {
		return nil, err
	}
	g.oldSent = g.oldList
	if g.oldSent == nil {
		g.oldSent = g.m.list(nil)
	}
	g.chooseEntries()
	if err := g.scanContext(); err != nil {
		return nil, err
	}
	g.fixUserConflicts()
	if err := g.resolve(); err != nil {
		return nil, err
	}
	excludes, err := g.measureAndAttribute()
	if err != nil {
		return nil, err
	}
	if g.prune(excludes) {
		// A dropped entry kept nothing out, so what is sent stays the same,
		// unless its re-inclusion also covered a path another entry
		// hides: settle again then.
		if err := g.resolve(); err != nil {
			return nil, err
		}
		if excludes, err = g.measureAndAttribute(); err != nil {
			return nil, err
		}
	}
	g.res.New = g.render()
	g.measureSelf()
	g.judgeSecrets()
	g.report(excludes)
	return g.res, nil
}

// measureAndAttribute measures what the planned file sends and charges
// what it keeps out to the entries.
func (g *generator) measureAndAttribute() (map[*candidate]*Size, error) {
	after, partial, err := g.tree.measure(g.final(), g.max)
	if err != nil {
		return nil, g.contextError(err)
	}
	g.res.After, g.res.Partial = after, g.res.Partial || partial
	excludes, err := g.attribute()
	if err != nil {
		return nil, g.contextError(err)
	}
	return excludes, nil
}

// measureSelf counts the ignore file as BuildKit will send it when the
// plan leaves it in: with its new content, not the old the walk read.
func (g *generator) measureSelf() {
	if g.selfPath == "" || g.res.Partial || g.final().matches(g.selfPath) {
		return
	}
	if g.file.Data == nil {
		g.res.After.Files++
	}
	g.res.After.Bytes += int64(len(g.res.New) - len(g.file.Data))
}

// prune drops the entries that keep nothing out of the context, so that
// the file lists what this context holds rather than a catalogue, and a
// merge adds only entries for files that are there and still sent. A new
// file also keeps the secrets marked always, which guard against files
// that turn up later, and the entries for the ignore file itself, which
// is in the context once written. A walk that stopped at the entry limit
// proves nothing about the rest, so then every entry stays. It reports
// whether re-inclusions went with the dropped entries.
func (g *generator) prune(excludes map[*candidate]*Size) bool {
	if g.res.Partial {
		return false
	}
	newFile := g.file.Data == nil
	dropped := map[*candidate]bool{}
	for _, c := range g.entries {
		if c.dropped || excludes[c] != nil {
			continue
		}
		if newFile && (c.always || g.selfPath != "" && g.matches(c.pattern, g.selfPath)) {
			continue
		}
		c.dropped = true // without a reason: never worth a mention
		dropped[c] = true
	}
	before := len(g.negs)
	g.negs = slices.DeleteFunc(g.negs, func(n *negation) bool { return dropped[n.forEntry] })
	return len(g.negs) != before
}

// generator holds one run's state.
type generator struct {
	fsys    fs.FS
	ctxName string // for messages
	file    *File
	opts    Options
	max     int
	facts   []*facts // facts[0] is the Dockerfile; the rest share its ignore file

	lines   []line       // the existing file's patterns with their line numbers
	old     []string     // the existing patterns, as BuildKit reads them
	oldList *patternList // nil without an existing file
	oldSent *patternList // what the builder receives now: oldList, or no patterns
	oldNegs []line       // the existing file's negations

	entries []*candidate
	negs    []*negation
	guards  []*guard
	guarded map[string]*guard // by path, for secrets still sent

	tree *contextTree // read once, walked from memory after
	m    *matchers
	fin  *patternList // see final
	res  *Result

	secrets []Secret
	present map[*candidate]bool // skipped entries that match something in the context

	// selfPath is where the planned ignore file sits in the context, ""
	// when outside it.
	selfPath string
}

// line is one pattern of the existing ignore file.
type line struct {
	pattern string // as ignorefile.ReadAll returns it; negations keep "!"
	number  int
}

// candidate is an entry harden wants to add.
type candidate struct {
	*entry  // the catalog's own, never changed
	dropped bool
	reason  string // why it was dropped
	// conditional is set when the entry's condition dropped it: it is
	// reported only when the context holds something it would match.
	conditional bool
}

// negation re-includes what an added entry would hide.
type negation struct {
	pattern  string // without the leading "!"
	why      string
	forEntry *candidate // the entry it makes room for; nil for a fix of the user's lines
}

// guardKind says why a path must stay in the context.
type guardKind int

const (
	guardNamed       guardKind = iota // a COPY, ADD or bind mount names it
	guardInside                       // it is inside a folder one names: junk may still go
	guardUserNegated                  // the existing file re-includes it with "!"
	guardCertificate                  // a certificate or public key, not a private key
)

// guard is a path harden's entries must not hide.
type guard struct {
	path string // context path; for sources not in the context, a path the source would match
	kind guardKind
	// negate re-includes the path when a wildcard entry hides it: the
	// escaped path, or the source's own glob.
	negate string
	scope  string  // for guardInside: the named folder
	by     *facts  // for guardInside: the Dockerfile that copies the folder
	src    *source // for guardInside: the instruction that copies it
	why    string  // a sentence naming the instruction or line
}

// contextError names the build context in an error about it.
func (g *generator) contextError(err error) error {
	if g.ctxName == "" {
		return fmt.Errorf("build context: %w", err)
	}
	return fmt.Errorf("build context %s: %w", g.ctxName, err)
}

// readExisting parses the ignore file in force with BuildKit's own reader.
func (g *generator) readExisting() error {
	if g.file.Data == nil {
		return nil
	}
	n := 0
	for _, text := range splitLines(g.file.Data) {
		n++
		if n == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		pat, ok := readLine(text)
		if !ok {
			continue
		}
		if _, err := patternmatcher.New([]string{pat}); err != nil {
			return fmt.Errorf("%s:%d: %v", g.file.Path, n, err)
		}
		l := line{pattern: pat, number: n}
		g.lines = append(g.lines, l)
		g.old = append(g.old, l.pattern)
		if strings.HasPrefix(l.pattern, "!") {
			g.oldNegs = append(g.oldNegs, l)
		}
	}
	g.oldList = g.m.list(g.old)
	if g.oldList.err != nil {
		return fmt.Errorf("%s: %v", g.file.Path, g.oldList.err)
	}
	return nil
}

// splitLines splits on \n, dropping a trailing \r, as bufio.ScanLines does
// for ignorefile.ReadAll.
func splitLines(data []byte) []string {
	var out []string
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		l = bytes.TrimSuffix(l, []byte("\n"))
		l = bytes.TrimSuffix(l, []byte("\r"))
		out = append(out, string(l))
	}
	return out
}

// chooseEntries picks the catalog entries for the project's ecosystems,
// drops those whose condition fails and those the existing file already
// covers.
func (g *generator) chooseEntries() {
	ecos := g.opts.Ecosystems
	if ecos == nil {
		ecos = inferEcosystems(g.tree)
		g.res.Inferred = true
	}
	g.res.Ecosystems = append([]string{}, ecos...)
	lists := make([][]entry, 0, 1+len(ecos)+1)
	lists = append(lists, alwaysEntries)
	for _, e := range Ecosystems {
		if slices.Contains(ecos, e) {
			lists = append(lists, ecosystemEntries[e])
		}
	}
	var outputs []entry
	for _, out := range g.opts.BuildOutputs {
		p := strings.Trim(strings.ReplaceAll(out, `\`, "/"), "/")
		if p == "" || p == "." {
			continue
		}
		outputs = append(outputs, entry{pattern: escapeOrEmpty(p), group: groupBuildOutput, why: "the Dockerfile rebuilds it"})
	}
	lists = append(lists, outputs)
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	g.present = map[*candidate]bool{}
	seen := make(map[string]*candidate, n) // nil: the existing file covers it
	g.entries = make([]*candidate, 0, n)
	// Candidates point into the catalog rather than copy it, and take one
	// allocation together; it never grows, so the pointers stay valid.
	pool := make([]candidate, 0, n)
	merge := g.file.Data != nil
	for _, e := range entriesOf(lists) {
		if merge && e.group == groupDocker {
			// BuildKit reads the Dockerfile and the ignore file on its own;
			// sending them costs a cache miss at most, so whether they are
			// copied is the owner's call once the file is theirs.
			continue
		}
		pool = append(pool, candidate{entry: e})
		c := &pool[len(pool)-1]
		ok, why := true, ""
		switch {
		case e.rebuilt != nil:
			ok, why = g.rebuiltEverywhere(e.rebuilt)
		case e.when != nil:
			ok, why = e.when(g)
		}
		if !ok {
			if why == "" {
				continue // does not apply here: another entry may take the pattern
			}
			c.dropped, c.reason, c.conditional = true, why, true
			g.present[c] = false // set during the walk when the context holds a match
		}
		if e.pattern == "" {
			continue
		}
		if prev, dup := seen[e.pattern]; dup {
			// Two ecosystems may list the same folder (dist); the first
			// that applies wins.
			if prev == nil || !prev.dropped || c.dropped {
				continue
			}
			g.entries = slices.DeleteFunc(g.entries, func(x *candidate) bool { return x == prev })
			delete(g.present, prev)
		}
		if !c.dropped && g.covered(e.pattern) {
			seen[e.pattern] = nil
			continue
		}
		seen[e.pattern] = c
		g.entries = append(g.entries, c)
	}
}

// entriesOf yields every entry of the lists in order, in place.
func entriesOf(lists [][]entry) func(func(int, *entry) bool) {
	return func(yield func(int, *entry) bool) {
		i := 0
		for _, l := range lists {
			for j := range l {
				if !yield(i, &l[j]) {
					return
				}
				i++
			}
		}
	}
}

// covered reports whether the existing file already has the pattern, or
// one that excludes every path the pattern stands for.
func (g *generator) covered(pattern string) bool {
	if len(g.old) == 0 {
		return false // every probe is sent
	}
	norm := normalize(pattern)
	if slices.Contains(g.old, norm) {
		return true
	}
	// probes(norm), made one at a time: most entries fail on the first.
	rest, deep := strings.CutPrefix(norm, "**/")
	p := concrete(rest)
	return g.oldList.matches(p) && (!deep || g.oldList.matches("probe/dir/"+p))
}

// probes turns a pattern into concrete paths it matches: one at the root
// and, for "**/" patterns, one deeper.
func probes(pattern string) []string {
	if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
		p := concrete(rest)
		return []string{p, "probe/dir/" + p}
	}
	return []string{concrete(pattern)}
}

// concrete replaces wildcards with a character they match.
func concrete(pattern string) string {
	if !strings.ContainsAny(pattern, `\*?[`) {
		return pattern
	}
	var b strings.Builder
	b.Grow(len(pattern))
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteByte(pattern[i])
			}
		case '*', '?':
			if c == '*' && i+1 < len(pattern) && pattern[i+1] == '*' {
				i++
				if i+1 < len(pattern) && pattern[i+1] == '/' {
					i++
				}
				continue
			}
			b.WriteByte('x')
		case '[':
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			class := pattern[i+1 : i+end]
			i += end
			if class != "" && class[0] != '^' && class[0] != '!' {
				b.WriteByte(class[0])
			} else {
				b.WriteByte('x')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapePattern writes a literal path as a pattern that matches only it.
// Paths with leading or trailing blanks cannot be written, since ignore
// files trim them.
func escapePattern(p string) (string, bool) {
	if p == "" || p != strings.TrimSpace(p) || strings.ContainsAny(p, "\r\n") {
		return "", false
	}
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// isLiteralPattern reports whether a pattern matches one path only (its
// wildcards, if any, are escaped).
func isLiteralPattern(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return false
		}
	}
	return true
}

func escapeOrEmpty(p string) string {
	s, _ := escapePattern(p)
	return s
}

// matches matches one pattern on its own; a negation is matched as the
// pattern it re-includes.
func (g *generator) matches(pattern, p string) bool {
	return g.m.single(strings.TrimPrefix(pattern, "!")).matches(p)
}

// patterns is the final list: the existing file, the kept entries, then
// the re-inclusions.
func (g *generator) patterns() []string {
	out := make([]string, 0, len(g.old)+len(g.entries)+len(g.negs))
	out = append(out, g.old...)
	for _, c := range g.entries {
		if !c.dropped {
			out = append(out, c.pattern)
		}
	}
	for _, n := range g.negs {
		out = append(out, "!"+n.pattern)
	}
	return out
}

// final is patterns as a list, kept while the patterns stay the same.
func (g *generator) final() *patternList {
	if g.fin == nil || !g.isFinal(g.fin.pats) {
		g.fin = g.m.list(g.patterns())
	}
	return g.fin
}

// isFinal reports whether pats is what patterns returns now, without
// building it.
func (g *generator) isFinal(pats []string) bool {
	i := 0
	next := func(prefix, p string) bool {
		if i == len(pats) || len(pats[i]) != len(prefix)+len(p) || !strings.HasPrefix(pats[i], prefix) || pats[i][len(prefix):] != p {
			return false
		}
		i++
		return true
	}
	for _, p := range g.old {
		if !next("", p) {
			return false
		}
	}
	for _, c := range g.entries {
		if !c.dropped && !next("", c.pattern) {
			return false
		}
	}
	for _, n := range g.negs {
		if !next("!", n.pattern) {
			return false
		}
	}
	return i == len(pats)
}

// scanContext walks what the existing file lets through: it measures the
// context, finds secrets, and records every path the Dockerfiles read.
func (g *generator) scanContext() error {
	type reader struct {
		why string
		by  *facts
		src *source
	}
	type namedDir struct {
		prefix, path string
		reader
	}
	type globSource struct {
		pattern string
		reader
	}
	literal := map[string]reader{} // named path -> the first instruction naming it
	var globs []globSource
	for _, fa := range g.facts {
		for i := range fa.sources {
			s := &fa.sources[i]
			r := reader{why: s.where + " reads it", by: fa, src: s}
			switch {
			case s.path == "." && s.unresolved:
				g.res.Warnings = append(g.res.Warnings, fmt.Sprintf("%s: harden cannot tell which files it reads, since a build argument without a default names them; check the ignore file against the values you pass", s.where))
			case s.path == ".":
			case s.glob:
				globs = append(globs, globSource{s.path, r})
			default:
				if _, dup := literal[s.path]; !dup {
					literal[s.path] = r
				}
			}
		}
	}
	var oldNegList *patternList
	if len(g.oldNegs) > 0 {
		var pats []string
		for _, l := range g.oldNegs {
			pats = append(pats, strings.TrimPrefix(l.pattern, "!"))
		}
		oldNegList = g.m.list(pats)
	}
	seen := map[string]bool{}
	globHit := make([]bool, len(globs))
	var stack []namedDir
	var conditional []*candidate // entries whose condition failed: are they worth a mention?
	for c := range g.present {
		conditional = append(conditional, c)
	}
	var before Size
	partial, err := g.tree.walkSent(g.oldSent, g.max, func(e sentEntry) error {
		before.add(e)
		p := e.path
		for _, c := range conditional {
			if !g.present[c] && g.matches(c.pattern, p) {
				g.present[c] = true
			}
		}
		if e.dir || e.mode.IsRegular() {
			if kind, ok := classify(g.fsys, p, e.dir); ok && !g.insideSecret(p) {
				sp := p
				if e.dir {
					sp += "/"
				}
				g.secrets = append(g.secrets, Secret{Path: sp, Kind: kind})
			}
		}
		for len(stack) > 0 && !strings.HasPrefix(p, stack[len(stack)-1].prefix) {
			stack = stack[:len(stack)-1]
		}
		var named *reader
		if r, ok := literal[p]; ok {
			named = &r
			seen[p] = true
		} else {
			for i, gs := range globs {
				if ok, _ := path.Match(gs.pattern, p); ok {
					named = &gs.reader
					globHit[i] = true
					break
				}
			}
		}
		switch {
		case named != nil:
			g.guard(&guard{path: p, kind: guardNamed, negate: escapeOrEmpty(p), why: named.why})
			if e.dir {
				stack = append(stack, namedDir{prefix: p + "/", path: p, reader: *named})
			}
		case oldNegList != nil && oldNegList.matches(p):
			g.guard(&guard{path: p, kind: guardUserNegated, why: "your " + g.fileName() + " re-includes it"})
		case e.mode.IsRegular() && isPublicCertificate(g.fsys, p):
			g.guard(&guard{path: p, kind: guardCertificate, negate: escapeOrEmpty(p), why: "it is a certificate or public key, not a private key"})
		case len(stack) > 0:
			top := stack[len(stack)-1]
			g.guard(&guard{path: p, kind: guardInside, scope: top.path, by: top.by, src: top.src, why: top.src.where + " " + top.src.verb + " the folder that holds it"})
		}
		return nil
	})
	if err != nil {
		return g.contextError(err)
	}
	g.res.Before, g.res.Partial = before, partial

	// Sources the context does not hold (yet: CI often builds dist/ before
	// docker build) are guarded by name.
	for p, r := range sortedMap(literal) {
		if !seen[p] {
			g.guard(&guard{path: p, kind: guardNamed, negate: escapeOrEmpty(p), why: r.why})
		}
	}
	for i, gs := range globs {
		if !globHit[i] {
			g.guard(&guard{path: concrete(gs.pattern), kind: guardNamed, negate: gs.pattern, why: gs.why})
		}
	}
	// The user's negations stand for paths that may appear later too.
	for _, l := range g.oldNegs {
		pat := strings.TrimPrefix(l.pattern, "!")
		for _, p := range probes(pat) {
			if _, ok := g.guarded[p]; !ok {
				g.guard(&guard{path: p, kind: guardUserNegated, why: fmt.Sprintf("your %s line %d re-includes it", g.fileName(), l.number)})
			}
		}
	}
	return nil
}

func (g *generator) guard(gd *guard) {
	g.guards = append(g.guards, gd)
	if _, ok := g.guarded[gd.path]; !ok {
		g.guarded[gd.path] = gd
	}
}

// insideSecret reports whether p is inside a folder already reported as a
// secret as a whole.
func (g *generator) insideSecret(p string) bool {
	if n := len(g.secrets); n > 0 {
		last := g.secrets[n-1].Path
		return strings.HasSuffix(last, "/") && strings.HasPrefix(p, last)
	}
	return false
}

func (g *generator) fileName() string {
	if g.file.Path == "" {
		return ".dockerignore"
	}
	return path.Base(strings.ReplaceAll(g.file.Path, `\`, "/"))
}

// fixUserConflicts re-includes paths a COPY or ADD names by their literal
// path when the existing file already hides all of them: BuildKit then
// fails with "not found", so the user's line cannot be what they meant.
// Wildcard sources are left alone (there the exclusion may be the point)
// and reported.
func (g *generator) fixUserConflicts() {
	if g.oldList == nil {
		return
	}
	done := map[string]bool{}
	for _, fa := range g.facts {
		for _, s := range fa.sources {
			if s.path == "." || s.unresolved || done[s.path] {
				continue
			}
			done[s.path] = true
			if s.glob {
				matches, _ := fs.Glob(g.fsys, s.path)
				for _, m := range matches {
					if g.oldList.matches(m) {
						lineNo, pat := g.decidingLine(m)
						g.res.Warnings = append(g.res.Warnings, fmt.Sprintf("%s: your %s line %d (%s) hides %s from it; harden left that to you", s.where, g.fileName(), lineNo, pat, m))
					}
				}
				continue
			}
			if _, err := fs.Stat(g.fsys, s.path); err != nil || g.sentAnything(s.path) {
				continue
			}
			lineNo, pat := g.decidingLine(s.path)
			neg, ok := escapePattern(s.path)
			if !ok {
				g.res.Warnings = append(g.res.Warnings, fmt.Sprintf("%s: your %s line %d (%s) hides it, and its name cannot be written as a pattern", s.where, g.fileName(), lineNo, pat))
				continue
			}
			g.negs = append(g.negs, &negation{pattern: neg, why: fmt.Sprintf("%s, but your %s line %d (%s) hid it, so the build failed with \"not found\"", strings.TrimSuffix(s.where, " reads it"), g.fileName(), lineNo, pat)})
		}
	}
}

// sentAnything reports whether the existing file lets p, or anything
// inside it, through: BuildKit sends a folder whenever part of it is sent.
func (g *generator) sentAnything(p string) bool {
	if !g.oldList.matches(p) {
		return true
	}
	found := false
	prefix := p + "/"
	_, _ = g.tree.walkSent(g.oldSent, g.max, func(e sentEntry) error {
		if e.path == p || strings.HasPrefix(e.path, prefix) {
			found = true
			return errStop
		}
		return nil
	})
	return found
}

var errStop = errors.New("stop")

// decidingLine finds the existing line that decides p's fate.
func (g *generator) decidingLine(p string) (int, string) {
	for i := len(g.lines) - 1; i >= 0; i-- {
		if g.matches(g.lines[i].pattern, p) {
			return g.lines[i].number, g.lines[i].pattern
		}
	}
	return 0, ""
}

// resolve drops or re-includes until no added entry hides a guarded path,
// then makes sure no re-inclusion sends what the existing file excluded.
func (g *generator) resolve() error {
	for round := 0; round < maxRounds; round++ {
		changed := g.resolveGuards()
		if !changed {
			var err error
			changed, err = g.undoGrowth()
			if err != nil {
				return err
			}
		}
		if !changed {
			return nil
		}
	}
	return g.contextError(errors.New("harden's ignore entries did not settle; please report this context"))
}

func (g *generator) resolveGuards() bool {
	views := map[string]*view{}
	changed := false
	for _, gd := range g.guards {
		allowed := g.allowedAt(gd)
		key := ""
		for _, c := range allowed {
			key += c.pattern + "\n"
		}
		v := views[key]
		if v == nil {
			v = g.newView(allowed)
			views[key] = v
		}
		if !v.added.matches(gd.path) || !v.full.matches(gd.path) {
			continue
		}
		if g.oldList != nil && g.oldList.matches(gd.path) {
			continue // hidden before harden touched the file
		}
		c := g.responsible(v.patterns, gd.path)
		if c == nil || c.dropped {
			continue
		}
		g.makeRoom(c, gd)
		changed = true
		clear(views) // stale now
	}
	return changed
}

// allowedAt lists the kept entries that may hide a guarded path: inside a
// folder a COPY names, junk, and what the Dockerfile recreates there.
func (g *generator) allowedAt(gd *guard) []*candidate {
	if gd.kind != guardInside {
		return nil
	}
	var out []*candidate
	for _, c := range g.entries {
		if c.dropped || !c.junk && (c.rebuilt == nil || !g.matches(c.pattern, gd.path)) {
			continue
		}
		if c.allowedInside(gd, g.shallowestMatch(c, gd)) {
			out = append(out, c)
		}
	}
	return out
}

// view is the final pattern list as one guarded path sees it: entries
// allowed to hide it are left out.
type view struct {
	patterns []string
	full     *patternList // all of patterns
	added    *patternList // the added entries alone, a quick first test
}

func (g *generator) newView(allowed []*candidate) *view {
	v := &view{patterns: slices.Clone(g.old)}
	var added []string
	for _, c := range g.entries {
		if !c.dropped && !slices.Contains(allowed, c) {
			v.patterns = append(v.patterns, c.pattern)
			added = append(added, c.pattern)
		}
	}
	for _, n := range g.negs {
		v.patterns = append(v.patterns, "!"+n.pattern)
	}
	v.full = g.m.list(v.patterns)
	v.added = g.m.list(added)
	return v
}

// responsible finds the added entry that decides p is excluded under pats.
func (g *generator) responsible(pats []string, p string) *candidate {
	for i := len(pats) - 1; i >= 0; i-- {
		if !g.matches(pats[i], p) {
			continue
		}
		if strings.HasPrefix(pats[i], "!") {
			return nil
		}
		for _, c := range g.entries {
			if c.pattern == pats[i] && !c.dropped {
				return c
			}
		}
		return nil
	}
	return nil
}

// makeRoom drops an entry written as a plain path, or re-includes the
// guarded path after a wildcard entry so that the entry keeps doing its job
// elsewhere.
func (g *generator) makeRoom(c *candidate, gd *guard) {
	neg := ""
	if !isLiteralPattern(c.pattern) {
		switch gd.kind {
		case guardUserNegated:
			neg = g.userNegationFor(gd.path)
		case guardInside:
			neg = escapeOrEmpty(g.shallowestMatch(c, gd))
		default:
			neg = gd.negate
		}
	}
	if neg == "" || slices.ContainsFunc(g.negs, func(n *negation) bool { return n.pattern == neg }) {
		c.dropped, c.reason = true, gd.why
		return
	}
	g.negs = append(g.negs, &negation{pattern: neg, why: gd.why, forEntry: c})
}

// userNegationFor returns the existing negation that re-includes p.
func (g *generator) userNegationFor(p string) string {
	for i := len(g.oldNegs) - 1; i >= 0; i-- {
		if g.matches(g.oldNegs[i].pattern, p) {
			return strings.TrimPrefix(g.oldNegs[i].pattern, "!")
		}
	}
	return ""
}

// shallowestMatch is the highest folder between a named folder and the
// guarded path that the entry matches, so that one re-inclusion covers,
// say, a whole node_modules inside a copied folder.
func (g *generator) shallowestMatch(c *candidate, gd *guard) string {
	rest := strings.TrimPrefix(gd.path, gd.scope+"/")
	cur := gd.scope
	for _, part := range strings.Split(rest, "/") {
		cur += "/" + part
		if g.matches(c.pattern, cur) {
			return cur
		}
	}
	return gd.path
}

// undoGrowth checks that no re-inclusion harden added for its own entries
// sends a path the existing file excluded (a folder re-included whole may
// hold such paths); the entry is dropped instead.
func (g *generator) undoGrowth() (bool, error) {
	var mine []*negation
	for _, n := range g.negs {
		if n.forEntry != nil {
			mine = append(mine, n)
		}
	}
	if len(mine) == 0 || g.oldList == nil {
		return false, nil
	}
	full := g.final()
	if full.err != nil {
		return false, full.err
	}
	pats := full.pats
	var culprit *negation
	seen := 0
	max := g.max
	if max <= 0 {
		max = DefaultMaxEntries
	}
	err := g.tree.walkAll(func(n *node) error {
		p := n.path
		if seen++; seen > max {
			return errStop
		}
		touched := false
		for _, n := range mine {
			if g.matches(n.pattern, p) {
				touched = true
				break
			}
		}
		if !touched || !g.oldList.matches(p) || full.matches(p) {
			return nil
		}
		for i := len(pats) - 1; i >= 0; i-- {
			if g.matches(pats[i], p) {
				for _, n := range mine {
					if "!"+n.pattern == pats[i] {
						culprit = n
						return errStop
					}
				}
				return nil
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	if culprit == nil {
		return false, nil
	}
	g.negs = slices.DeleteFunc(g.negs, func(n *negation) bool { return n == culprit })
	culprit.forEntry.dropped = true
	culprit.forEntry.reason = culprit.why + "; re-including it would also send files your " + g.fileName() + " excludes"
	return true, nil
}

// judgeSecrets says, for each secret the old file let through, whether the
// new one keeps it out, and if not, why.
func (g *generator) judgeSecrets() {
	full := g.final()
	for _, s := range g.secrets {
		p := strings.TrimSuffix(s.Path, "/")
		out := SecretOutcome{Secret: s, Excluded: full.matches(p)}
		if !out.Excluded {
			switch {
			case g.guarded[p] != nil:
				out.Reason = g.guarded[p].why + "; remove it from the context or pass it with RUN --mount=type=secret"
			case !s.Excludable():
				out.Reason = "npm may need its registry settings during the build, so harden leaves .npmrc in; pass the token with RUN --mount=type=secret instead"
			default:
				out.Reason = "an entry that would hide it was left out; see the skipped entries"
			}
		}
		g.res.Secrets = append(g.res.Secrets, out)
	}
}

// attribute walks what the old file sent and charges every path the new
// file excludes to the added entry that excludes it, so that people see
// what each entry saves. A folder's contents go to the folder's entry.
func (g *generator) attribute() (map[*candidate]*Size, error) {
	out := map[*candidate]*Size{}
	full := g.final()
	if full.err != nil {
		return nil, full.err
	}
	pats := full.pats
	type excludedDir struct {
		prefix string
		by     *candidate
	}
	var stack []excludedDir
	_, err := g.tree.walkSent(g.oldSent, g.max, func(e sentEntry) error {
		for len(stack) > 0 && !strings.HasPrefix(e.path, stack[len(stack)-1].prefix) {
			stack = stack[:len(stack)-1]
		}
		var by *candidate
		switch {
		case len(stack) > 0 && (len(g.negs) == 0 || full.matches(e.path)):
			by = stack[len(stack)-1].by // re-inclusions aside, a folder's entry keeps out all of it
		case len(stack) == 0 && full.matches(e.path):
			by = g.responsible(pats, e.path)
		}
		if by == nil {
			return nil
		}
		if e.dir {
			stack = append(stack, excludedDir{prefix: e.path + "/", by: by})
			return nil
		}
		if out[by] == nil {
			out[by] = &Size{}
		}
		out[by].add(e)
		return nil
	})
	return out, err
}

// report fills the result's lists of added and skipped patterns.
func (g *generator) report(excludes map[*candidate]*Size) {
	n := len(g.negs)
	for _, c := range g.entries {
		if !c.dropped {
			n++
		}
	}
	if n > 0 {
		g.res.Added = make([]Change, 0, n) // nil, null in JSON, when nothing is added
	}
	for _, c := range g.entries {
		switch {
		case !c.dropped:
			g.res.Added = append(g.res.Added, Change{Pattern: c.pattern, Reason: c.why, Excludes: excludes[c]})
		case c.reason == "" || c.conditional && !g.present[c]:
		default:
			g.res.Skipped = append(g.res.Skipped, Change{Pattern: c.pattern, Reason: c.reason})
		}
	}
	for _, n := range g.negs {
		g.res.Added = append(g.res.Added, Change{Pattern: "!" + n.pattern, Reason: n.why})
	}
}

// sortedMap iterates a map in key order, so that output is stable.
func sortedMap[V any](m map[string]V) func(func(string, V) bool) {
	return func(yield func(string, V) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

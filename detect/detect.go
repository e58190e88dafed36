// Package detect works out what application a Dockerfile builds: its
// ecosystem, framework, package manager, the versions to pin, how it
// starts and on which port, and what each base image already provides.
//
// Detection reads two sources and says where every conclusion comes from:
// the build context (manifests, lockfiles, version files, a bounded look
// at the sources) and the Dockerfile (FROM images, RUN commands, COPY
// sources, CMD and ENTRYPOINT, EXPOSE). When they disagree the result
// says so in Conflicts instead of picking one silently. Files harden cannot
// use (unreadable, invalid, too big) become Notes; detection itself never
// fails.
//
// Each ecosystem lives in its own file with one function that makes the
// ecosystem's case from the files of one folder and one that completes a
// result from the Dockerfile; this file weighs the cases against each
// other.
package detect

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// hit is one ecosystem's case for being the application, as its detector
// makes it from the files in one folder.
type hit struct {
	eco Ecosystem
	dir string
	// score weighs the evidence: a manifest 4, a lockfile 2, a framework
	// 2, a version pin or an entrypoint 1, loose source files 2.
	score int
	// manifest is set when a manifest backs the case (for static sites,
	// an index.html), not loose hints only.
	manifest bool
	// pinned is set when a lockfile or a version file backs the manifest.
	pinned    bool
	evidence  []Evidence
	framework string
	pm        string
	entry     *Entrypoint
	port      int
	claims    []versionClaim
	conflicts []string
	// facts stores the ecosystem's own facts in the result.
	facts func(r *Result)
}

func (h *hit) add(weight int, file string, line int, why string) {
	h.score += weight
	h.evidence = append(h.evidence, Evidence{File: file, Line: line, Why: why})
}

func (h *hit) claim(c versionClaim, ok bool) {
	if ok {
		h.claims = append(h.claims, c)
	}
}

// app is what detectors look at.
type app struct {
	scan *scan
	df   *dockerfileFacts
}

// detector is one ecosystem's pair of functions.
type detector struct {
	eco Ecosystem
	// inContext makes the case from one folder of the build context, or
	// returns nil when the folder holds nothing of the ecosystem.
	inContext func(a *app, dir string) *hit
	// refine completes the result from the Dockerfile when the ecosystem
	// won, with or without a case from the context.
	refine func(a *app, r *Result)
}

var detectors = []detector{
	{Python, detectPython, refinePython},
	{Node, detectNode, refineNode},
	{Go, detectGo, refineGo},
	{Java, detectJava, refineJava},
	{Ruby, detectRuby, refineRuby},
	{Rust, detectRust, refineRust},
	{PHP, detectPHP, refinePHP},
	{DotNet, detectDotNet, refineDotNet},
	{Static, detectStatic, refineStatic},
}

// Detect describes the application a Dockerfile builds from a build
// context. Either may be nil: without a context detection relies on the
// Dockerfile alone; without a Dockerfile (a folder harden new scaffolds)
// on the context alone.
func Detect(ctx *buildctx.Context, df *dockerfile.File) *Result {
	return detect(ctx, df, "")
}

// Dir detects the application at p: a folder (with its Dockerfile or
// Containerfile, if any, and itself as build context) or a Dockerfile
// (with its folder as build context).
func Dir(p string) (*Result, error) {
	return DirWithContext(p, "")
}

// DirWithContext is Dir with an explicit build context folder; "" means
// the Dockerfile's folder. A Dockerfile deep inside a monorepo built from
// the repository root is detected from the folder its COPYs name.
//
// Errors are reserved for paths that do not exist and Dockerfiles that do
// not parse (a *dockerfile.Error naming the file and line).
func DirWithContext(p, contextDir string) (*Result, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	dir, dfPath := p, ""
	if st.IsDir() {
		for _, name := range []string{"Dockerfile", "Containerfile"} {
			c := filepath.Join(p, name)
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
				dfPath = c
				break
			}
		}
	} else {
		dfPath, dir = p, filepath.Dir(p)
	}
	var df *dockerfile.File
	if dfPath != "" {
		if df, err = parseDockerfile(dfPath); err != nil {
			return nil, err
		}
	}
	if contextDir == "" {
		contextDir = dir
	}
	ctx, err := buildctx.Open(contextDir, dfPath)
	if err != nil {
		return nil, fmt.Errorf("%s: build context: %w", contextDir, err)
	}
	dfDir := ""
	if dfPath != "" {
		if r, err := filepath.Rel(contextDir, filepath.Dir(dfPath)); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			dfDir = filepath.ToSlash(r)
		}
	}
	res := detect(ctx, df, dfDir)
	res.Dockerfile, res.Context = dfPath, contextDir
	res.Runtime = Runtime(ctx, df, res)
	return res, nil
}

func parseDockerfile(p string) (*dockerfile.File, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.Size() > dockerfile.MaxSize {
		return nil, &dockerfile.Error{File: p, Msg: fmt.Sprintf("file is %d bytes, over the %d MiB limit for a Dockerfile", st.Size(), dockerfile.MaxSize>>20)}
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return dockerfile.Parse(p, src)
}

func detect(ctx *buildctx.Context, df *dockerfile.File, dfDir string) *Result {
	a := &app{scan: newScan(ctx), df: readDockerfile(df)}
	r := &Result{Ecosystem: Unknown, Root: ".", Base: a.df.base, Evidence: []Evidence{}}
	dirs := a.candidateDirs(dfDir)
	hits := a.detectIn(dirs)
	if len(dirs) == 1 && !slices.ContainsFunc(hits, func(h *hit) bool { return h.manifest }) && a.scan.fsys != nil {
		if sub := a.onlyApp(); sub != "" {
			dirs = append(dirs, sub)
			hits = append(hits, a.detectIn([]string{sub})...)
		}
	}
	w := a.choose(hits, dirs)
	if w == nil {
		r.Notes = a.scan.notes
		if a.scan.fsys != nil || df != nil {
			r.Notes = append(r.Notes, Evidence{File: ".", Why: "no manifest, source file or Dockerfile instruction of a known ecosystem"})
		}
		return r
	}
	a.fill(r, w, hits)
	r.Notes = append(r.Notes, a.scan.notes...)
	return r
}

// detectIn runs every detector on every folder.
func (a *app) detectIn(dirs []string) []*hit {
	var hits []*hit
	for _, dir := range dirs {
		for _, det := range detectors {
			if h := det.inContext(a, dir); h != nil {
				h.eco, h.dir = det.eco, dir
				hits = append(hits, h)
			}
		}
	}
	return hits
}

// choose picks the winning case. A case backed by a manifest in the
// context beats one without; then the weight of the evidence, counting
// what the Dockerfile says about the same ecosystem; then the folder the
// Dockerfile copies from first; then the order of Ecosystems.
func (a *app) choose(hits []*hit, dirs []string) *hit {
	if len(hits) == 0 {
		return a.dockerfileOnly()
	}
	dirRank := map[string]int{}
	for i, d := range dirs {
		dirRank[d] = i
	}
	sort.SliceStable(hits, func(i, j int) bool {
		hi, hj := hits[i], hits[j]
		if hi.manifest != hj.manifest {
			return hi.manifest
		}
		if ti, tj := a.total(hi), a.total(hj); ti != tj {
			return ti > tj
		}
		if dirRank[hi.dir] != dirRank[hj.dir] {
			return dirRank[hi.dir] < dirRank[hj.dir]
		}
		return ecoRank(hi.eco) < ecoRank(hj.eco)
	})
	return hits[0]
}

func (a *app) total(h *hit) int { return h.score + a.df.score[h.eco] }

func ecoRank(e Ecosystem) int {
	for i, x := range Ecosystems {
		if x == e {
			return i
		}
	}
	return len(Ecosystems)
}

// dockerfileOnly makes a case from the Dockerfile alone: the language it
// builds, or a static site when it only runs a web server.
func (a *app) dockerfileOnly() *hit {
	best, score := Ecosystem(""), 0
	for _, e := range Ecosystems {
		if e == Static || e == Unknown {
			continue
		}
		if s := a.df.score[e]; s > score {
			best, score = e, s
		}
	}
	if best == "" && a.df.score[Static] > 0 {
		best = Static
	}
	if best == "" {
		return nil
	}
	return &hit{eco: best, dir: "."}
}

// fill turns the winning case into the result.
func (a *app) fill(r *Result, w *hit, hits []*hit) {
	d := a.df
	r.Ecosystem, r.Root = w.eco, w.dir
	r.Framework, r.PackageManager, r.Entrypoint, r.Port = w.framework, w.pm, w.entry, w.port
	r.Evidence = append(r.Evidence, w.evidence...)
	r.Evidence = append(r.Evidence, d.evidence[w.eco]...)
	if w.facts != nil {
		w.facts(r)
	}
	if r.PackageManager == "" {
		if pm, ok := d.pm[w.eco]; ok {
			r.PackageManager = pm.value
			r.Evidence = append(r.Evidence, pm.why)
		}
	}
	var conflicts []string
	conflicts = append(conflicts, w.conflicts...)
	conflicts = append(conflicts, a.launchAndPort(r, w)...)
	r.Conflicts = nil
	for _, det := range detectors {
		if det.eco == w.eco && det.refine != nil {
			det.refine(a, r)
		}
	}
	conflicts = append(conflicts, r.Conflicts...)

	for _, h := range hits {
		if h.manifest && h.eco != w.eco && h.eco != Static && !containsEco(r.Also, h.eco) {
			r.Also = append(r.Also, h.eco)
		}
	}
	// The Dockerfile's tags count for the application's ecosystems only:
	// a Go app's stray FROM node is a conflict, not a version to pin.
	claims := append([]versionClaim{}, w.claims...)
	for _, c := range d.claims {
		if keyOf(c.key, w.eco) || slices.ContainsFunc(r.Also, func(e Ecosystem) bool { return keyOf(c.key, e) }) {
			claims = append(claims, c)
		}
	}
	versions, vconf, vev := settleVersions(claims)
	r.Versions = versions
	r.Evidence = append(r.Evidence, vev...)
	conflicts = append(conflicts, vconf...)
	conflicts = append(conflicts, a.dockerfileConflicts(w, hits)...)
	conflicts = append(conflicts, a.missingSources()...)
	if len(hits) > 1 {
		second := hits[1]
		if second.manifest && w.manifest && second.eco != w.eco && second.dir == w.dir && a.total(second) == a.total(w) && d.score[w.eco] == 0 {
			conflicts = append(conflicts, fmt.Sprintf("%s and %s are equally likely in %s; chose %s (a Dockerfile that uses one of them would decide)", w.eco, second.eco, dirName(w.dir), w.eco))
		}
	}
	r.Conflicts = conflicts
	r.Confidence = a.confidence(w, len(conflicts))
}

func dirName(dir string) string {
	if dir == "." {
		return "the context root"
	}
	return dir + "/"
}

func containsEco(list []Ecosystem, e Ecosystem) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// launchAndPort applies what the final image starts: its command is the
// entrypoint, and the port it binds beats EXPOSE, which beats ENV PORT,
// which beats what the code or the framework's default says.
func (a *app) launchAndPort(r *Result, w *hit) []string {
	d := a.df
	var conflicts []string
	l := d.launch
	if d.hasLaunch && l.entry != nil && (l.eco == w.eco || l.eco == "") {
		r.Entrypoint = l.entry
		if l.eco == "" {
			// Programs of a known ecosystem already have their evidence.
			r.Evidence = append(r.Evidence, Evidence{File: d.launchWhy.File, Line: d.launchWhy.Line, Why: d.launchWhy.Why + ": the image starts the application this way"})
		}
	}
	launchPort := 0
	if d.hasLaunch && (l.eco == w.eco || l.eco == "") && l.port > 0 {
		launchPort = l.port
	}
	switch {
	case launchPort > 0:
		r.Port = launchPort
		r.Evidence = append(r.Evidence, Evidence{File: d.launchWhy.File, Line: d.launchWhy.Line, Why: fmt.Sprintf("the start command listens on port %d", launchPort)})
	case d.expose > 0:
		r.Port = d.expose
		r.Evidence = append(r.Evidence, d.exposeWhy)
	case d.envPort > 0:
		r.Port = d.envPort
		r.Evidence = append(r.Evidence, d.envPortWhy)
	}
	if launchPort > 0 && d.expose > 0 && launchPort != d.expose {
		conflicts = append(conflicts, fmt.Sprintf("port mismatch: %s at %s but the start command at %s listens on %d", d.exposeWhy.Why, where(Version{File: d.name, Line: d.exposeWhy.Line}), where(Version{File: d.name, Line: d.launchWhy.Line}), launchPort))
	}
	return conflicts
}

// dockerfileConflicts reports a language the Dockerfile builds that the
// context has no manifest for, when the context has one for another.
// Only strong Dockerfile signals count (a FROM image in a stage that
// matters, or the start command): a RUN pip install of a tool in a Node
// image is not a Python app.
func (a *app) dockerfileConflicts(w *hit, hits []*hit) []string {
	if !w.manifest {
		return nil
	}
	var out []string
	for _, e := range Ecosystems {
		if e == w.eco || e == Static || e == Unknown || a.df.score[e] < 3 {
			continue
		}
		backed := false
		for _, h := range hits {
			if h.eco == e && h.manifest {
				backed = true
			}
		}
		if backed {
			continue
		}
		first := a.df.evidence[e][0]
		out = append(out, fmt.Sprintf("the Dockerfile builds a %s application (%s:%d: %s) but the build context has no %s manifest; it holds %s",
			e, first.File, first.Line, first.Why, e, manifestList(w)))
	}
	return out
}

// manifestList names the files that made the winning case.
func manifestList(w *hit) string {
	var names []string
	for _, ev := range w.evidence {
		if ev.File != "" && !containsString(names, ev.File) {
			names = append(names, ev.File)
		}
		if len(names) == 3 {
			break
		}
	}
	return fmt.Sprintf("%s (%s)", strings.Join(names, ", "), w.eco)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// missingSources reports COPY and ADD sources the build context lacks or
// .dockerignore excludes: the build would fail there.
func (a *app) missingSources() []string {
	s := a.scan
	if s.fsys == nil || s.truncated {
		return nil
	}
	var out []string
	for _, src := range a.df.sources {
		p := buildctx.Clean(src.path)
		if p == "." || strings.Contains(src.path, "$") {
			continue
		}
		at := fmt.Sprintf("%s:%d", a.df.name, src.line)
		if strings.ContainsAny(p, "*?[") {
			matches, _ := s.ctx.Glob(p)
			if len(matches) == 0 {
				out = append(out, fmt.Sprintf("%s copies %s, which matches nothing in the build context", at, src.path))
			}
			continue
		}
		switch {
		case !s.exists(p) && !s.isDir(p) && !s.ctx.Exists(p):
			out = append(out, fmt.Sprintf("%s copies %s, which is not in the build context", at, src.path))
		case s.ignored(p):
			out = append(out, fmt.Sprintf("%s copies %s, which %s excludes from the build context", at, src.path, s.ctx.IgnoreFile))
		}
	}
	return out
}

// confidence is a number a reader can check by hand: 0.7 for a manifest
// (0.8 with a lockfile or version pin), 0.4 for loose source files, 0.5
// for a Dockerfile alone (0.6 when its image, build and start command
// agree); plus 0.15 when a Dockerfile agrees with the context; minus 0.2
// for each conflict (at most three); kept between 0.05 and 0.95.
func (a *app) confidence(w *hit, conflicts int) float64 {
	fromContext := w.score > 0
	var c float64
	switch {
	case w.manifest:
		c = 0.7
		if w.pinned {
			c += 0.1
		}
	case fromContext:
		c = 0.4
	default:
		c = 0.5
		if a.df.score[w.eco] >= 5 {
			c += 0.1
		}
	}
	if fromContext && a.df.score[w.eco] > 0 {
		c += 0.15
	}
	c -= 0.2 * float64(min(conflicts, 3))
	c = min(max(c, 0.05), 0.95)
	return math.Round(c*100) / 100
}

// candidateDirs lists the folders that may hold the application: those a
// Dockerfile COPYs manifests or folders from (a monorepo built from its
// root), the Dockerfile's own folder, and the context root.
func (a *app) candidateDirs(dfDir string) []string {
	var dirs []string
	add := func(d string) {
		if !containsString(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	s := a.scan
	for _, src := range a.df.sources {
		p := buildctx.Clean(src.path)
		switch {
		case p == ".":
			add(".")
		case isManifestName(path.Base(p)) && s.exists(p):
			add(path.Dir(p))
		case strings.ContainsAny(p, "*?[") && a.hasManifest(path.Dir(p)):
			add(path.Dir(p))
		case s.isDir(p) && a.hasManifest(p):
			add(p)
		}
	}
	if dfDir != "" && dfDir != "." && a.hasManifest(dfDir) {
		add(dfDir)
	}
	add(".")
	return dirs
}

// onlyApp looks below a context root where no detector made a case from
// a manifest: when exactly one
// folder (at most two levels down) holds one, that is the application;
// when several do, a note lists them.
func (a *app) onlyApp() string {
	var found []string
	for _, f := range a.scan.under(".", 3) {
		dir := path.Dir(f)
		if dir == "." || !isManifestName(path.Base(f)) || containsString(found, dir) {
			continue
		}
		if isAncestorIn(dir, found) {
			continue
		}
		found = append(found, dir)
	}
	switch len(found) {
	case 0:
		return ""
	case 1:
		a.scan.note(".", 0, fmt.Sprintf("no manifest at the context root; detected the application in %s/, the only folder with one", found[0]))
		return found[0]
	}
	if len(found) > 6 {
		found = append(found[:6], "...")
	}
	a.scan.note(".", 0, "no manifest at the context root, and several folders hold applications ("+strings.Join(found, ", ")+"); run harden detect on one of them")
	return ""
}

func isAncestorIn(dir string, list []string) bool {
	for _, x := range list {
		if strings.HasPrefix(dir, x+"/") {
			return true
		}
	}
	return false
}

func (a *app) hasManifest(dir string) bool {
	for _, name := range a.scan.inDir(dir) {
		if isManifestName(name) {
			return true
		}
	}
	return false
}

// manifestNames are the files that make a folder an application. A
// lone index.html or index.php does not: it is a document root, which the
// static and PHP detectors look for below the application's folder.
var manifestNames = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"package.json": true, "pyproject.toml": true, "requirements.txt": true, "Pipfile": true,
		"setup.py": true, "setup.cfg": true, "go.mod": true, "pom.xml": true, "build.gradle": true,
		"build.gradle.kts": true, "settings.gradle": true, "settings.gradle.kts": true, "Gemfile": true,
		"Cargo.toml": true, "composer.json": true, "global.json": true, "hugo.toml": true,
	}
})

func isManifestName(name string) bool {
	if manifestNames()[name] {
		return true
	}
	ext := path.Ext(name)
	if ext == ".csproj" || ext == ".fsproj" || ext == ".vbproj" || ext == ".sln" {
		return true
	}
	return strings.HasPrefix(name, "requirements") && ext == ".txt"
}

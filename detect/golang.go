package detect

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/harden-dev/harden/internal/lazyre"
)

// goFrameworks are recognised by the module go.mod requires.
var goFrameworks = []struct{ name, module string }{
	{"gin", "github.com/gin-gonic/gin"},
	{"echo", "github.com/labstack/echo"},
	{"fiber", "github.com/gofiber/fiber"},
	{"chi", "github.com/go-chi/chi"},
	{"gorilla", "github.com/gorilla/mux"},
}

// cgoModules are widely used modules that cannot be built without cgo.
var cgoModules = map[string]bool{
	"github.com/mattn/go-sqlite3":                   true,
	"github.com/confluentinc/confluent-kafka-go":    true,
	"github.com/confluentinc/confluent-kafka-go/v2": true,
	"github.com/linxGnu/grocksdb":                   true,
	"github.com/tecbot/gorocksdb":                   true,
	"gocv.io/x/gocv":                                true,
}

// goHead is how much of a Go file is read: the package clause and the
// imports come first, after at most a license header.
const goHead = 4 << 10

// goListen finds the address a Go server listens on.
var goListen = lazyre.New(`(?:ListenAndServe(?:TLS)?|\.Run|\.Listen|\.Start)\(\s*"[^"]*:(\d{2,5})"`)

func detectGo(a *app, dir string) *hit {
	s := a.scan
	h := &hit{}
	g := &GoFacts{}
	modPath := join(dir, "go.mod")
	if s.exists(modPath) {
		h.manifest = true
		h.add(4, modPath, 0, "go.mod declares a Go module")
		if data := s.read(modPath); data != nil {
			a.readGoMod(h, g, modPath, data)
		}
		if sum := join(dir, "go.sum"); s.exists(sum) {
			h.pinned = true
			h.add(2, sum, 0, "go.sum pins the module's dependencies")
		}
	}
	if p := join(dir, "go.work"); s.exists(p) {
		g.Workspace = true
		h.evidence = append(h.evidence, Evidence{File: p, Why: "go.work makes this a multi-module workspace"})
	}
	if s.exists(join(dir, "vendor/modules.txt")) {
		g.Vendor = true
		h.evidence = append(h.evidence, Evidence{File: join(dir, "vendor/modules.txt"), Why: "dependencies are vendored; builds use -mod=vendor"})
	}
	if c, ok := s.pinFileClaim(join(dir, ".go-version"), "go", nil); ok {
		h.claim(c, true)
		h.pinned = true
	}
	h.claim(s.toolVersions(dir, "go"))

	mainFile := a.goPackages(h, g, dir)
	if !h.manifest && len(g.MainPackages) == 0 {
		return nil
	}
	if !h.manifest {
		h.add(2, mainFile, 0, "Go source without go.mod (GOPATH layout)")
	}
	h.pm = "go"
	h.facts = func(r *Result) { r.Go = g }
	return h
}

func (a *app) readGoMod(h *hit, g *GoFacts, p string, data []byte) {
	mf, err := modfile.Parse(p, data, nil)
	if err != nil {
		line, msg := 0, firstLine(err.Error())
		var list modfile.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			line, msg = list[0].Pos.Line, list[0].Err.Error()
		}
		a.scan.note(p, line, "invalid go.mod: "+msg)
		// The lax parser still reads the module, go and toolchain lines
		// of a file with one bad directive.
		if mf, err = modfile.ParseLax(p, data, nil); err != nil {
			return
		}
	}
	if mf.Module != nil {
		g.Module = mf.Module.Mod.Path
		h.evidence = append(h.evidence, Evidence{File: p, Line: mf.Module.Syntax.Start.Line, Why: "module " + g.Module})
	}
	if mf.Go != nil {
		g.GoVersion = mf.Go.Version
	}
	if mf.Toolchain != nil {
		g.Toolchain = mf.Toolchain.Name
		if v := strings.TrimPrefix(mf.Toolchain.Name, "go"); v != mf.Toolchain.Name {
			h.claim(claim("go", v, p, mf.Toolchain.Syntax.Start.Line, rankManifest, "the toolchain line"))
		}
	}
	if mf.Go != nil {
		// The go line is the minimum; since Go 1.21 it is also the
		// version the go command runs at least.
		c, ok := claim("go", mf.Go.Version, p, mf.Go.Syntax.Start.Line, rankManifest, "the go line")
		if ok {
			c.v.Constraint = ">=" + mf.Go.Version
			c.why = fmt.Sprintf("the go line requires go %s or newer", mf.Go.Version)
		}
		h.claim(c, ok)
	}
	for _, req := range mf.Require {
		if cgoModules[req.Mod.Path] && !g.CGO {
			g.CGO = true
			h.evidence = append(h.evidence, Evidence{File: p, Line: req.Syntax.Start.Line, Why: "requires " + req.Mod.Path + ", which is built with cgo"})
		}
	}
	for _, fw := range goFrameworks {
		for _, req := range mf.Require {
			if req.Mod.Path == fw.module || strings.HasPrefix(req.Mod.Path, fw.module+"/") {
				h.framework = fw.name
				h.add(2, p, req.Syntax.Start.Line, "requires "+req.Mod.Path)
				return
			}
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// goSource is one parsed Go file: its package name and imports.
type goSource struct {
	pkg     string
	imports []string
	cgoLine int // line of import "C", 0 when none
}

// goTree is the Go files of a module by folder, parsed on demand.
type goTree struct {
	a      *app
	dir    string // the module's folder
	byDir  map[string][]string
	dirs   []string
	parsed map[string]*goSource // nil value: unreadable, ignored or not Go
	fset   *token.FileSet
}

func (a *app) goTree(dir string) *goTree {
	t := &goTree{a: a, dir: dir, byDir: map[string][]string{}, parsed: map[string]*goSource{}, fset: token.NewFileSet()}
	nested := map[string]bool{}
	for _, f := range a.scan.under(dir, maxDepth) {
		d := path.Dir(f)
		if path.Base(f) == "go.mod" && d != dir {
			nested[d] = true
		}
		if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") && !strings.Contains("/"+f, "/testdata/") {
			t.byDir[d] = append(t.byDir[d], f)
		}
	}
	for d := range t.byDir {
		if !inNested(d, nested) {
			t.dirs = append(t.dirs, d)
		}
	}
	sort.Strings(t.dirs)
	return t
}

// parse reads and parses the files not parsed yet, all at once.
func (t *goTree) parse(files []string) {
	var todo []string
	for _, f := range files {
		if _, done := t.parsed[f]; !done {
			todo = append(todo, f)
		}
	}
	heads := t.a.scan.sniffAll(todo, goHead)
	for i, f := range todo {
		t.parsed[f] = nil
		if heads[i] == nil || ignoredByBuildTag(heads[i]) {
			continue
		}
		file, err := parser.ParseFile(t.fset, f, heads[i], parser.ImportsOnly)
		if file == nil || file.Name == nil {
			if err != nil {
				t.a.scan.note(f, 0, "cannot read the package clause: "+firstLine(err.Error()))
			}
			continue
		}
		src := &goSource{pkg: file.Name.Name}
		for _, imp := range file.Imports {
			v, _ := strconv.Unquote(imp.Path.Value)
			src.imports = append(src.imports, v)
			if v == "C" {
				src.cgoLine = t.fset.Position(imp.Pos()).Line
			}
		}
		t.parsed[f] = src
	}
}

// packages names the package of every folder from its first file that
// parses, reading one file per folder per round.
func (t *goTree) packages() map[string]string {
	names := map[string]string{}
	next := map[string]int{}
	pending := t.dirs
	for round := 0; len(pending) > 0 && round < 3; round++ {
		var files []string
		for _, d := range pending {
			if next[d] < len(t.byDir[d]) {
				files = append(files, t.byDir[d][next[d]])
			}
		}
		t.parse(files)
		var still []string
		for _, d := range pending {
			if next[d] >= len(t.byDir[d]) {
				continue
			}
			if src := t.parsed[t.byDir[d][next[d]]]; src != nil {
				names[d] = src.pkg
				continue
			}
			next[d]++
			still = append(still, d)
		}
		pending = still
	}
	return names
}

// goPackages finds the main packages under dir (not in nested modules or
// testdata), picks the entry (the one the Dockerfile builds, else ".",
// else cmd/<module name>, else the first), and checks for cgo in the
// entry and the module's packages it imports: what the binary is built
// from, read within the scan's source budget. It returns a file of the
// entry package.
func (a *app) goPackages(h *hit, g *GoFacts, dir string) string {
	t := a.goTree(dir)
	names := t.packages()
	mainFiles := map[string]string{}
	for _, d := range t.dirs {
		if names[d] != "main" {
			continue
		}
		pkg := "."
		if d != dir {
			pkg = "./" + rel(dir, d)
		}
		g.MainPackages = append(g.MainPackages, pkg)
		for _, f := range t.byDir[d] {
			if t.parsed[f] != nil {
				mainFiles[pkg] = f
				break
			}
		}
	}
	if len(g.MainPackages) == 0 {
		return ""
	}
	main := g.MainPackages[0]
	for _, p := range g.MainPackages {
		if p == "." || p == "./cmd/"+path.Base(g.Module) {
			main = p
			break
		}
	}
	if built := path.Clean(a.df.goBuild.pkg); containsString(g.MainPackages, "./"+strings.TrimPrefix(built, "./")) {
		main = "./" + strings.TrimPrefix(built, "./")
	}
	a.goCgo(h, g, t, join(dir, strings.TrimPrefix(main, "./")))
	a.setGoEntry(h, g, dir, main, mainFiles[main])
	return mainFiles[main]
}

// goCgo follows the entry package's imports inside the module, folder by
// folder, and records the first import "C" it meets.
func (a *app) goCgo(h *hit, g *GoFacts, t *goTree, entry string) {
	seen := map[string]bool{entry: true}
	level := []string{entry}
	for len(level) > 0 && !g.CGO {
		var files []string
		for _, d := range level {
			files = append(files, t.byDir[d]...)
		}
		t.parse(files)
		var next []string
		for _, f := range files {
			src := t.parsed[f]
			if src == nil {
				continue
			}
			if src.cgoLine > 0 && !g.CGO {
				g.CGO = true
				h.evidence = append(h.evidence, Evidence{File: f, Line: src.cgoLine, Why: `imports "C": the program uses cgo and needs libc at run time`})
			}
			for _, imp := range src.imports {
				rest, ok := strings.CutPrefix(imp, g.Module+"/")
				d := join(t.dir, rest)
				if ok && g.Module != "" && !seen[d] && len(t.byDir[d]) > 0 {
					seen[d] = true
					next = append(next, d)
				}
			}
		}
		level = next
	}
}

func (a *app) setGoEntry(h *hit, g *GoFacts, dir, pkg, file string) {
	g.Binary = path.Base(pkg)
	if pkg == "." {
		g.Binary = path.Base(g.Module)
		if g.Module == "" {
			g.Binary = path.Base(dir)
		}
	}
	h.entry = &Entrypoint{Kind: EntryPackage, Value: pkg}
	why := "the main package"
	if len(g.MainPackages) > 1 {
		why = fmt.Sprintf("the main package (of %d: %s)", len(g.MainPackages), strings.Join(g.MainPackages, ", "))
	}
	h.add(1, file, 0, why)
	for _, f := range a.scan.inDir(join(dir, strings.TrimPrefix(pkg, "./"))) {
		p := join(join(dir, strings.TrimPrefix(pkg, "./")), f)
		if !strings.HasSuffix(f, ".go") {
			continue
		}
		data, ok := a.scan.sniff(p)
		if !ok {
			break
		}
		if m := goListen().FindSubmatchIndex(data); m != nil {
			h.port = portOf(string(data[m[2]:m[3]]))
			h.evidence = append(h.evidence, Evidence{File: p, Line: lineAt(data, m[0]), Why: "the server listens on port " + string(data[m[2]:m[3]])})
			return
		}
	}
	if h.framework == "gin" {
		h.port = 8080 // gin's Run() without an address
	}
}

func inNested(d string, nested map[string]bool) bool {
	for n := range nested {
		if d == n || strings.HasPrefix(d, n+"/") {
			return true
		}
	}
	return false
}

// ignoredByBuildTag spots generator programs (`//go:build ignore`), which
// are package main without being commands.
func ignoredByBuildTag(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte("package ")) {
			return false
		}
		if bytes.HasPrefix(t, []byte("//go:build")) && bytes.Contains(t, []byte("ignore")) {
			return true
		}
	}
	return false
}

// refineGo adds what the Dockerfile's go build says: the package it
// builds, the binary name, and CGO_ENABLED.
func refineGo(a *app, r *Result) {
	if r.Go == nil {
		r.Go = &GoFacts{}
	}
	if r.PackageManager == "" {
		r.PackageManager = "go" // modules: the go command is the package manager
	}
	d := a.df
	// The entrypoint of a Go application is the package to build; the
	// command the image starts it with is kept beside it.
	pkg := ""
	if r.Entrypoint != nil && r.Entrypoint.Kind == EntryPackage {
		pkg = r.Entrypoint.Value
	} else if len(r.Go.MainPackages) > 0 {
		pkg = r.Go.MainPackages[0]
	}
	if b := d.goBuild; b.pkg != "" || b.output != "" {
		if b.pkg != "" && b.pkg != "." && b.pkg != "./..." && !containsString(r.Go.MainPackages, b.pkg) && strings.HasPrefix(b.pkg, "./") && len(r.Go.MainPackages) > 0 {
			r.Conflicts = append(r.Conflicts, fmt.Sprintf("%s:%d builds %s, which is not a main package of the module", b.why.File, b.why.Line, b.pkg))
		}
		if b.pkg != "" && b.pkg != "./..." {
			pkg = b.pkg
			r.Go.Binary = path.Base(b.pkg)
			if b.pkg == "." && r.Go.Module != "" {
				r.Go.Binary = path.Base(r.Go.Module)
			}
		}
		if b.output != "" {
			r.Go.Binary = path.Base(b.output)
		}
		r.Evidence = append(r.Evidence, Evidence{File: b.why.File, Line: b.why.Line, Why: b.why.Why + ": builds the binary " + r.Go.Binary})
	}
	if pkg != "" {
		var command []string
		if r.Entrypoint != nil {
			command = r.Entrypoint.Command
		}
		r.Entrypoint = &Entrypoint{Kind: EntryPackage, Value: pkg, Command: command}
	}
	if d.cgo != nil {
		r.Evidence = append(r.Evidence, *d.cgo)
		if d.cgoOff && r.Go.CGO {
			r.Conflicts = append(r.Conflicts, fmt.Sprintf("%s:%d sets CGO_ENABLED=0 but the code imports \"C\"", d.cgo.File, d.cgo.Line))
		}
	}
}

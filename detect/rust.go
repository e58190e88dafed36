package detect

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// rustFrameworks are recognised by the crate Cargo.toml depends on.
var rustFrameworks = []struct {
	name, crate string
	port        int
}{
	{"actix-web", "actix-web", 0},
	{"axum", "axum", 0},
	{"rocket", "rocket", 8000},
	{"warp", "warp", 0},
	{"poem", "poem", 0},
	{"tide", "tide", 0},
}

// rustBind finds the address a Rust server binds in main.rs.
var rustBind = lazyre.New(`"(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\])?:(\d{2,5})"`)

func detectRust(a *app, dir string) *hit {
	s := a.scan
	p := join(dir, "Cargo.toml")
	if !s.exists(p) {
		return nil
	}
	h := &hit{manifest: true, pm: "cargo"}
	rs := &RustFacts{}
	h.add(4, p, 0, "Cargo.toml describes a Rust crate")
	doc := s.tomlTable(p)
	data := s.read(p)
	if lock := join(dir, "Cargo.lock"); s.exists(lock) {
		rs.Lockfile, h.pinned = true, true
		h.add(2, lock, 0, "Cargo.lock pins the dependencies")
	}
	c := &crates{deps: map[string]string{}, binFile: map[string]string{}}
	rs.Package, rs.Edition = str(doc, "package", "name"), str(doc, "package", "edition")
	a.readCrate(rs, c, p, doc)
	if ws := table(doc, "workspace"); ws != nil {
		rs.Workspace = true
		for name := range table(ws, "dependencies") {
			if _, ok := c.deps[name]; !ok {
				c.deps[name] = p
			}
		}
		for _, member := range a.expandMembers(dir, strs(ws, "members")) {
			rs.Members = append(rs.Members, member)
			mp := join(join(dir, member), "Cargo.toml")
			if len(rs.Members) > 50 || !s.exists(mp) {
				continue
			}
			a.readCrate(rs, c, mp, s.tomlTable(mp))
		}
		h.evidence = append(h.evidence, Evidence{File: p, Line: lineOf(data, "[workspace]"), Why: "a Cargo workspace of " + plural(len(rs.Members), "member")})
	}
	if rv := str(doc, "package", "rust-version"); rv != "" {
		c, ok := claim("rust", rv, p, lineOfKey(data, "rust-version"), rankManifest, "rust-version")
		if ok {
			c.v.Constraint = ">=" + rv
			c.why = "rust-version requires rust " + rv + " or newer"
		}
		h.claim(c, ok)
	}
	a.rustToolchain(h, dir)
	for _, fw := range rustFrameworks {
		if file, ok := c.deps[fw.crate]; ok {
			h.framework = fw.crate
			h.add(2, file, lineOfKey(s.read(file), fw.crate), "depends on "+fw.crate)
			h.port = fw.port
			break
		}
	}
	if len(rs.Bins) > 0 {
		bin := rs.Bins[0]
		if def := str(doc, "package", "default-run"); def != "" {
			bin = def
		}
		h.entry = &Entrypoint{Kind: EntryBinary, Value: bin}
		h.add(1, c.binFile[bin], 0, "builds the binary "+bin)
	}
	if main := join(dir, "src/main.rs"); s.exists(main) {
		if data, ok := s.sniff(main); ok {
			if m := rustBind().FindSubmatchIndex(data); m != nil {
				h.port = portOf(string(data[m[2]:m[3]]))
				h.evidence = append(h.evidence, Evidence{File: main, Line: lineAt(data, m[0]), Why: "the server binds port " + string(data[m[2]:m[3]])})
			}
		}
	}
	h.facts = func(r *Result) { r.Rust = rs }
	return h
}

// crates collects, across a workspace, which manifest declares each
// dependency and binary, for evidence.
type crates struct {
	deps    map[string]string
	binFile map[string]string
}

// readCrate adds a crate's binaries and dependencies. Cargo builds one
// binary per [[bin]] table, one named after the package from src/main.rs
// (unless a [[bin]] already builds that file), and one per file in src/bin/.
func (a *app) readCrate(rs *RustFacts, c *crates, manifest string, doc map[string]any) {
	s := a.scan
	dir := path.Dir(manifest)
	name := str(doc, "package", "name")
	for dep := range table(doc, "dependencies") {
		if _, ok := c.deps[dep]; !ok {
			c.deps[dep] = manifest
		}
	}
	addBin := func(b string) {
		if b != "" && !containsString(rs.Bins, b) {
			rs.Bins = append(rs.Bins, b)
			c.binFile[b] = manifest
		}
	}
	mainClaimed := false
	for _, bin := range tables(doc, "bin") {
		addBin(str(bin, "name"))
		if p := str(bin, "path"); p == "src/main.rs" || p == "./src/main.rs" {
			mainClaimed = true
		}
	}
	if name != "" && !mainClaimed && s.exists(join(dir, "src/main.rs")) {
		addBin(name)
	}
	var extra []string
	for _, f := range s.under(join(dir, "src/bin"), 2) {
		switch {
		case strings.HasSuffix(f, ".rs") && path.Dir(f) == join(dir, "src/bin"):
			extra = append(extra, strings.TrimSuffix(path.Base(f), ".rs"))
		case path.Base(f) == "main.rs":
			extra = append(extra, path.Base(path.Dir(f)))
		}
	}
	sort.Strings(extra)
	for _, b := range extra {
		addBin(b)
	}
}

// expandMembers expands workspace member globs ("crates/*").
func (a *app) expandMembers(dir string, members []string) []string {
	var out []string
	for _, m := range members {
		if !strings.ContainsAny(m, "*?[") {
			out = append(out, m)
			continue
		}
		for _, f := range a.scan.under(dir, 4) {
			if path.Base(f) != "Cargo.toml" {
				continue
			}
			d := rel(dir, path.Dir(f))
			if ok, _ := path.Match(m, d); ok && !containsString(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// rustToolchain reads rust-toolchain.toml or the legacy rust-toolchain
// file (a bare channel, or the same TOML).
func (a *app) rustToolchain(h *hit, dir string) {
	s := a.scan
	for _, name := range []string{"rust-toolchain.toml", "rust-toolchain"} {
		p := join(dir, name)
		if !s.exists(p) {
			continue
		}
		data := s.read(p)
		channel := ""
		line := 1
		if strings.Contains(string(data), "[toolchain]") {
			channel = str(s.tomlTable(p), "toolchain", "channel")
			line = lineOfKey(data, "channel")
		} else {
			channel, line = s.readPinFile(p)
		}
		if c, ok := claim("rust", channel, p, line, rankPinFile, name); ok {
			h.claim(c, true)
			h.pinned = true
		} else if channel != "" {
			h.evidence = append(h.evidence, Evidence{File: p, Line: line, Why: "the toolchain follows the " + channel + " channel"})
		}
		return
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// refineRust adds the binary the Dockerfile builds.
func refineRust(a *app, r *Result) {
	if r.Rust == nil {
		r.Rust = &RustFacts{}
	}
	if b := a.df.cargoBin; b.value != "" {
		r.Entrypoint = &Entrypoint{Kind: EntryBinary, Value: b.value}
		r.Evidence = append(r.Evidence, Evidence{File: b.why.File, Line: b.why.Line, Why: b.why.Why + ": builds the binary " + b.value})
	}
}

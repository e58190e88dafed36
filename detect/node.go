package detect

import (
	"fmt"
	"path"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// nodeLockfiles name the package manager that writes them, in the order
// harden trusts them when a project holds several (a stray
// package-lock.json from one `npm install` is the usual extra).
var nodeLockfiles = []struct{ file, pm string }{
	{"pnpm-lock.yaml", "pnpm"}, {"yarn.lock", "yarn"}, {"bun.lock", "bun"}, {"bun.lockb", "bun"},
	{"package-lock.json", "npm"}, {"npm-shrinkwrap.json", "npm"},
}

// nodeFramework describes a framework by the package that gives it away.
type nodeFramework struct {
	name, pkg string
	// server frameworks run a server of their own in production.
	server bool
	// output is where `build` writes the static site (for static ones).
	output string
	port   int
}

// nodeFrameworks in order of precedence: meta-frameworks first, then UI
// libraries, then HTTP servers.
var nodeFrameworks = []nodeFramework{
	{name: "nest", pkg: "@nestjs/core", server: true, port: 3000},
	{name: "next", pkg: "next", server: true, port: 3000},
	{name: "nuxt", pkg: "nuxt", server: true, port: 3000},
	{name: "remix", pkg: "@remix-run/node", server: true, port: 3000},
	{name: "sveltekit", pkg: "@sveltejs/kit", output: "build"},
	{name: "astro", pkg: "astro", output: "dist"},
	{name: "gatsby", pkg: "gatsby", output: "public"},
	{name: "angular", pkg: "@angular/core", output: "dist"},
	{name: "vue", pkg: "vue", output: "dist"},
	{name: "react", pkg: "react", output: "build"},
	{name: "svelte", pkg: "svelte", output: "dist"},
	{name: "vite", pkg: "vite", output: "dist"},
	{name: "express", pkg: "express", server: true},
	{name: "fastify", pkg: "fastify", server: true},
	{name: "koa", pkg: "koa", server: true},
	{name: "hapi", pkg: "@hapi/hapi", server: true},
}

// devServers are start scripts that only serve a site during development.
var devServers = lazyre.New(`^(vite|react-scripts start|ng serve|vue-cli-service serve|gatsby develop|astro dev|webpack serve|webpack-dev-server|parcel)\b`)

// lockfileVersionKey finds npm's lockfileVersion, which npm writes near
// the top of package-lock.json.
var lockfileVersionKey = lazyre.New(`"lockfileVersion"\s*:\s*(\d+)`)

// NpmLockfileVersion reads the lockfileVersion of a package-lock.json or
// npm-shrinkwrap.json from its first bytes: 1 (npm 5 and 6), 2 (npm 7 and
// 8, still readable by npm 6) or 3 (npm 9 on, which npm 6 cannot read); 0
// when the text does not say.
func NpmLockfileVersion(head []byte) int {
	m := lockfileVersionKey().FindSubmatch(head)
	if m == nil {
		return 0
	}
	v := 0
	for _, c := range m[1] {
		v = v*10 + int(c-'0')
		if v > 99 {
			return 0
		}
	}
	return v
}

var (
	outDirFlag   = lazyre.New(`(?:--outDir|--out-dir|--output-path|--dest|-o)[= ]+["']?([\w./-]+)`)
	outDirConfig = lazyre.New(`outDir\s*:\s*["'\x60]([\w./-]+)["'\x60]`)
	nextExport   = lazyre.New(`output\s*:\s*["']export["']`)
	listenPort   = lazyre.New(`(?:process\.env\.PORT\s*(?:\|\||\?\?)\s*|\.listen\(\s*(?:\{\s*port\s*:\s*)?)(\d{2,5})\b`)
)

func detectNode(a *app, dir string) *hit {
	s := a.scan
	p := join(dir, "package.json")
	if !s.exists(p) {
		return nil
	}
	h := &hit{manifest: true}
	node := &NodeFacts{}
	h.add(4, p, 0, "package.json describes a Node.js project")
	pkg := s.jsonObject(p)
	data := s.read(p)
	deps := map[string]bool{}
	prodDeps := map[string]bool{}
	for _, section := range []string{"dependencies", "devDependencies", "peerDependencies", "optionalDependencies"} {
		for name := range table(pkg, section) {
			deps[name] = true
			if section == "dependencies" {
				prodDeps[name] = true
			}
		}
	}
	scripts := table(pkg, "scripts")
	script := func(name string) string { v, _ := scripts[name].(string); return v }

	// Package manager: corepack's packageManager field, then lockfiles.
	var locks []string
	for _, lf := range nodeLockfiles {
		if lp := join(dir, lf.file); s.exists(lp) {
			locks = append(locks, lp)
			if node.Lockfile == "" {
				node.Lockfile, h.pm, h.pinned = lp, lf.pm, true
				if lf.pm == "npm" {
					node.LockfileVersion = NpmLockfileVersion(s.read(lp))
				}
				h.add(2, lp, 0, fmt.Sprintf("%s pins the dependencies for %s", lf.file, lf.pm))
				if s.ignored(lp) && !a.df.copiesSource(lp) {
					h.conflicts = append(h.conflicts, fmt.Sprintf("%s is excluded by %s, so installs in the image cannot use it", lp, s.ctx.IgnoreFile))
				}
			}
		}
	}
	if pmField := str(pkg, "packageManager"); pmField != "" {
		name, version, _ := strings.Cut(pmField, "@")
		version, _, _ = strings.Cut(version, "+") // corepack appends a hash
		if name != "" {
			if h.pm != "" && h.pm != name {
				h.conflicts = append(h.conflicts, fmt.Sprintf("package.json's packageManager says %s but %s is a %s lockfile", name, node.Lockfile, h.pm))
			}
			h.pm = name
			h.evidence = append(h.evidence, Evidence{File: p, Line: lineOfKey(data, "packageManager"), Why: "packageManager selects " + pmField})
			h.claim(claim(name, version, p, lineOfKey(data, "packageManager"), rankManifest, "packageManager"))
		}
	}
	if len(locks) > 1 && pkg != nil {
		h.conflicts = append(h.conflicts, fmt.Sprintf("several Node.js lockfiles (%s); used %s", strings.Join(locks, ", "), node.Lockfile))
	}
	if h.pm == "" {
		h.pm = "npm"
	}

	// Versions: version files, Volta, then engines.
	for _, name := range []string{".nvmrc", ".node-version"} {
		if c, ok := s.pinFileClaim(join(dir, name), "node", cleanNodeVersion); ok {
			h.claim(c, true)
			h.pinned = true
			h.score++
		}
	}
	if c, ok := s.toolVersions(dir, "node"); ok {
		h.claim(c, true)
		h.pinned = true
	}
	if v := str(pkg, "volta", "node"); v != "" {
		h.claim(claim("node", v, p, lineOf(data, `"volta"`), rankPinFile, "Volta"))
	}
	if v := str(pkg, "engines", "node"); v != "" {
		h.claim(claim("node", v, p, lineOfKey(data, "engines"), rankManifest, "engines.node"))
	}

	// Framework and whether the site is static.
	var fw *nodeFramework
	for i := range nodeFrameworks {
		if deps[nodeFrameworks[i].pkg] {
			fw = &nodeFrameworks[i]
			break
		}
	}
	if deps["react-scripts"] && (fw == nil || fw.name == "react") {
		fw = &nodeFramework{name: "react", output: "build"}
	}
	if fw != nil {
		h.framework = fw.name
		h.add(2, p, lineOfKey(data, fw.pkg), "depends on "+fw.pkg)
	}
	node.Build, node.Main = script("build"), str(pkg, "main")
	startName := "start"
	if script("start:prod") != "" {
		startName = "start:prod"
	}
	node.Start = script(startName)
	node.TypeScript = deps["typescript"] || s.exists(join(dir, "tsconfig.json"))
	if ws := strs(pkg, "workspaces"); len(ws) > 0 {
		node.Workspaces = ws
	} else if ws := strs(pkg, "workspaces", "packages"); len(ws) > 0 {
		node.Workspaces = ws
	}
	serverDep := false
	for _, f := range nodeFrameworks {
		if f.server && prodDeps[f.pkg] {
			serverDep = true
		}
	}
	runsServer := node.Start != "" && !devServers().MatchString(node.Start)
	switch {
	case fw != nil && fw.name == "next":
		if cfg := a.firstExisting(dir, "next.config.js", "next.config.mjs", "next.config.ts"); cfg != "" {
			cdata := s.read(cfg)
			if loc := nextExport().FindIndex(cdata); loc != nil {
				node.Static, node.OutputDir = true, "out"
				h.evidence = append(h.evidence, Evidence{File: cfg, Line: lineAt(cdata, loc[0]), Why: "output: 'export' builds a static site into out/"})
			}
		}
	case fw != nil && fw.name == "nuxt" && strings.Contains(node.Build, "generate"):
		node.Static, node.OutputDir = true, ".output/public"
	case fw != nil && fw.name == "sveltekit":
		node.Static = deps["@sveltejs/adapter-static"]
		if node.Static {
			node.OutputDir = "build"
		}
	case node.Build != "" && !serverDep && !runsServer:
		node.Static = true
		node.OutputDir = "dist"
		switch {
		case deps["vite"]:
			// Vite writes dist/ whatever UI library it bundles.
		case fw != nil && fw.output != "":
			node.OutputDir = fw.output
		}
		if fw != nil && fw.name == "angular" {
			node.OutputDir = angularOutput(s, dir, node.OutputDir)
		}
		if m := outDirFlag().FindStringSubmatch(node.Build); m != nil {
			node.OutputDir = strings.TrimSuffix(strings.TrimPrefix(m[1], "./"), "/")
		} else if cfg := a.firstExisting(dir, "vite.config.ts", "vite.config.js", "vite.config.mjs", "astro.config.mjs"); cfg != "" {
			if m := outDirConfig().FindSubmatch(s.read(cfg)); m != nil {
				node.OutputDir = strings.TrimSuffix(strings.TrimPrefix(string(m[1]), "./"), "/")
			}
		}
		h.evidence = append(h.evidence, Evidence{File: p, Line: lineOfKey(data, "build"), Why: fmt.Sprintf("the build script (%s) makes a static site in %s/ and nothing starts a server", node.Build, node.OutputDir)})
	}

	// Entrypoint and port.
	switch {
	case node.Static:
		h.entry = &Entrypoint{Kind: EntryDirectory, Value: node.OutputDir}
	case node.Start != "":
		l := readLaunchShell(node.Start)
		if l.entry != nil && l.entry.Kind == EntryScript {
			h.entry = &Entrypoint{Kind: EntryScript, Value: l.entry.Value}
		} else {
			h.entry = &Entrypoint{Kind: EntryCommand, Value: runScript(h.pm, startName)}
		}
		h.add(1, p, lineOfKey(data, startName), fmt.Sprintf("the %s script runs %s", startName, node.Start))
		if l.port > 0 {
			h.port = l.port
		}
	case node.Main != "":
		h.entry = &Entrypoint{Kind: EntryScript, Value: node.Main}
		h.add(1, p, lineOfKey(data, "main"), "main is "+node.Main)
	default:
		if f := a.firstExisting(dir, "server.js", "index.js", "app.js", "main.js", "server.mjs", "index.mjs"); f != "" {
			h.entry = &Entrypoint{Kind: EntryScript, Value: rel(dir, f)}
			h.add(1, f, 0, "the usual entry file of a Node.js server")
		}
	}
	if !node.Static {
		a.nodePort(h, dir, fw)
	}
	h.facts = func(r *Result) { r.Node = node }
	return h
}

func (a *app) nodePort(h *hit, dir string, fw *nodeFramework) {
	if h.port > 0 {
		return
	}
	var files []string
	if h.entry != nil && h.entry.Kind == EntryScript {
		files = append(files, join(dir, h.entry.Value))
	}
	files = append(files, join(dir, "src/main.ts"), join(dir, "src/index.ts"), join(dir, "src/server.ts"), join(dir, "src/app.ts"), join(dir, "server.js"), join(dir, "app.js"), join(dir, "index.js"))
	for _, f := range files {
		if !a.scan.exists(f) {
			continue
		}
		data, ok := a.scan.sniff(f)
		if !ok {
			break
		}
		if m := listenPort().FindSubmatchIndex(data); m != nil {
			h.port = portOf(string(data[m[2]:m[3]]))
			h.evidence = append(h.evidence, Evidence{File: f, Line: lineAt(data, m[0]), Why: "the server listens on port " + string(data[m[2]:m[3]])})
			return
		}
	}
	if fw != nil && fw.port > 0 {
		h.port = fw.port
	}
}

// runScript is the command that runs a package.json script.
func runScript(pm, name string) string {
	if name == "start" {
		return pm + " start"
	}
	return pm + " run " + name
}

// cleanNodeVersion reads nvm's notation: "v20.11.0", "lts/iron", "lts/*".
func cleanNodeVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "node/")
	return v
}

// angularOutput reads the build output path from angular.json.
func angularOutput(s *scan, dir, fallback string) string {
	doc := s.jsonObject(join(dir, "angular.json"))
	projects := table(doc, "projects")
	for _, name := range sortedKeys(projects) {
		pm, _ := projects[name].(map[string]any)
		opts := table(pm, "architect", "build", "options")
		switch out := opts["outputPath"].(type) {
		case string:
			return path.Clean(out)
		case map[string]any:
			if base, ok := out["base"].(string); ok {
				return path.Join(base, "browser")
			}
		}
		return fallback
	}
	return fallback
}

func (a *app) firstExisting(dir string, names ...string) string {
	for _, n := range names {
		if p := join(dir, n); a.scan.exists(p) {
			return p
		}
	}
	return ""
}

// staticFileServers are npm packages that only publish a folder of files.
var staticFileServers = map[string]bool{"serve": true, "http-server": true, "live-server": true, "static-server": true, "sirv": true, "sirv-cli": true, "lite-server": true}

// refineNode adds what the Dockerfile says: a final stage that publishes
// a Node build with a web server makes the site static, whatever
// package.json suggests.
func refineNode(a *app, r *Result) {
	if r.Node == nil {
		r.Node = &NodeFacts{}
	}
	d := a.df
	// A final image that starts Node.js itself runs a server, whatever
	// package.json's scripts suggest: its build output is not a static
	// site for a web server to publish.
	if r.Node.Static && !d.served && d.launch.eco == Node && !staticFileServers[d.launch.program] {
		r.Node.Static, r.Node.OutputDir = false, ""
		r.Evidence = append(r.Evidence, Evidence{File: d.launchWhy.File, Line: d.launchWhy.Line, Why: d.launchWhy.Why + ": the image runs a Node.js server, so the build is not a static site"})
		if r.Entrypoint != nil && r.Entrypoint.Kind == EntryDirectory {
			r.Entrypoint = d.launch.entry
		}
	}
	if !d.served {
		return
	}
	for _, sc := range d.servedFrom {
		if sc.fromStage == nil {
			continue
		}
		r.Node.Static = true
		out := sc.source
		if rest, ok := strings.CutPrefix(path.Clean(sc.source), strings.TrimSuffix(sc.workdir, "/")+"/"); ok {
			out = rest
		}
		r.Node.OutputDir = strings.TrimSuffix(out, "/")
		r.Entrypoint = &Entrypoint{Kind: EntryDirectory, Value: r.Node.OutputDir}
		r.Evidence = append(r.Evidence, Evidence{File: sc.why.File, Line: sc.why.Line, Why: fmt.Sprintf("%s: the final image serves the build output %s with %s", sc.why.Why, sc.source, d.final.Runtime)})
		if d.expose == 0 {
			r.Port = d.final.Port
		}
		return
	}
}

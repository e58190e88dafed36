package templates

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/internal/lazyre"
	"github.com/harden-dev/harden/transform"
)

// Node is what the Node.js templates need.
type Node struct {
	// Install is set when there is a package.json to install from; an app
	// without one has no dependencies and no build step.
	Install bool
	// Lockfile is the package manager's lockfile, empty when there is none:
	// then no install runs frozen (npm ci, --frozen-lockfile and
	// --immutable all fail without one).
	Lockfile string
	// Berry is set for Yarn 2 and later (.yarnrc.yml), which installs with
	// --immutable and has no prune.
	Berry bool
	// BuildScript is the package.json script that builds the app, empty
	// when there is none.
	BuildScript string
	// Prune removes dev dependencies after the build; it is off when the
	// start command runs one of them (ts-node, nodemon, ...).
	Prune bool
	// Corepack is set when the Node.js image still bundles corepack, which
	// provides yarn and pnpm (Node.js 25 stopped shipping it).
	Corepack bool
}

// nodeLockfiles is the lockfile each package manager reads.
var nodeLockfiles = map[string]string{"npm": "package-lock.json", "yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}

// nodeBins are start commands that are programs in node_modules/.bin.
var nodeBins = map[string]bool{"next": true, "nuxt": true, "remix-serve": true, "nest": true, "astro": true, "react-router-serve": true}

// nodeStaticFrameworks build static sites with no server of their own.
var nodeStaticFrameworks = map[string]bool{"react": true, "vue": true, "angular": true, "svelte": true, "vite": true, "astro": true, "gatsby": true}

// shellSyntax marks a script that needs a shell to run.
var shellSyntax = lazyre.New("[$`&|;<>()*?~\"'\\\\]")

func fillNode(a *App, p *project) error {
	node := &Node{}
	a.Node = node
	facts := p.facts.Node
	if facts == nil {
		facts = &detect.NodeFacts{}
	}
	if a.PackageManager == "" {
		a.PackageManager = "npm"
	}
	lock, ok := nodeLockfiles[a.PackageManager]
	if !ok {
		return fmt.Errorf("harden has no Node.js template for %s; pass --package-manager npm, yarn or pnpm", a.PackageManager)
	}
	node.Install = p.exists("package.json")
	node.Lockfile = lockfileIf(p, lock)
	if node.Lockfile == "" && a.PackageManager == "npm" {
		node.Lockfile = lockfileIf(p, "npm-shrinkwrap.json")
	}
	switch {
	case !node.Install:
		a.note("there is no package.json, so the image installs no packages; add one and run harden new --force to install them")
	case node.Lockfile == "":
		a.note("there is no %s: the image installs whatever versions resolve on the day it is built; commit one", lock)
	}
	node.Berry = a.PackageManager == "yarn" && p.exists(".yarnrc.yml")
	node.Corepack = majorVersion(a.Version) < 25
	if node.Install {
		a.Manifests = []string{"package.json"}
		a.Manifests = append(a.Manifests, nonEmpty(node.Lockfile)...)
	}
	for _, extra := range []string{".npmrc", ".yarnrc", ".yarnrc.yml", ".yarn/releases/", ".yarn/plugins/", ".yarn/patches/", "patches/"} {
		if p.exists(strings.TrimSuffix(extra, "/")) {
			a.Manifests = append(a.Manifests, extra)
		}
	}
	if p.exists("pnpm-workspace.yaml") || len(facts.Workspaces) > 0 {
		a.note("the project is a workspace: the builder installs only the root's manifests first; copy each workspace's package.json before the install too")
	}

	pkg := readPackageJSON(p.read("package.json"))
	if _, ok := pkg.Scripts["build"]; ok {
		node.BuildScript = "build"
	}
	// Without detection (an empty folder and flags) a UI framework means a
	// static site.
	static := facts.Static || p.facts.Node == nil && nodeStaticFrameworks[a.Framework]
	if p.variant == "node/static" || static && p.variant != "node/server" {
		return fillNodeStatic(a, p, facts)
	}
	a.Variant = "node/server"
	if a.Port == 0 {
		a.Port = 3000
	}
	start := nodeStart(a, p, facts, pkg)
	node.Prune = node.Install && (a.PackageManager != "yarn" || !node.Berry)
	if dev := pkg.devDependencyIn(start); dev != "" {
		node.Prune = false
		a.note("dev dependencies stay in the image: the start command runs %s", dev)
	} else if a.PackageManager == "yarn" && node.Berry {
		a.note("Yarn 2+ has no prune: dev dependencies stay in the image (yarn workspaces focus --production can remove them)")
	}
	a.Command = start
	if a.Framework == "next" {
		// Next.js writes its image and fetch caches at run time.
		a.Writable = []string{"/app/.next/cache"}
	}
	return nil
}

// fillNodeStatic serves a site that builds to static files with the
// unprivileged nginx.
func fillNodeStatic(a *App, p *project, facts *detect.NodeFacts) error {
	a.Variant = "node/static"
	out := p.entryValue(detect.EntryDirectory)
	if out == "" {
		out = facts.OutputDir
	}
	if out == "" {
		out = "dist"
		a.note("harden could not find the build's output folder: the Dockerfile serves dist/; pass --entrypoint with the folder")
	}
	clean, ok := cleanRel(out)
	if !ok {
		return fmt.Errorf("the build output %s is outside the app's folder", out)
	}
	// The build's output is the site nginx serves.
	a.Static = &Static{Root: clean, Server: transform.DefaultStaticServer}
	if a.Node.BuildScript == "" {
		a.Node.BuildScript = "build"
		a.note("package.json has no build script: the Dockerfile runs `%s run build`, add the script", a.PackageManager)
	}
	if a.Port != 0 && a.Port != staticPort {
		a.note("the site is served by nginx on port %d, not %d", staticPort, a.Port)
	}
	a.Port = staticPort
	a.Command = nil
	return nil
}

// nodeStart works out the exec-form command that starts a Node.js server,
// without a package manager in between where it can: npm and yarn do not
// always pass SIGTERM on, and pnpm or yarn would need corepack at run time.
func nodeStart(a *App, p *project, facts *detect.NodeFacts, pkg packageJSON) []string {
	if p.entry != "" {
		if strings.Contains(p.entry, " ") {
			return strings.Fields(p.entry)
		}
		return []string{"node", p.entry}
	}
	start := facts.Start
	if start == "" {
		start = pkg.Scripts["start"]
	}
	fields := strings.Fields(start)
	switch {
	case start == "" && facts.Main != "":
		return []string{"node", facts.Main}
	case start == "" && !p.exists("package.json"):
		for _, f := range []string{"server.js", "index.js", "app.js", "main.js"} {
			if p.exists(f) {
				return []string{"node", f}
			}
		}
		a.note("there is no package.json, and no server.js, index.js, app.js or main.js: the command runs server.js; pass --entrypoint")
		return []string{"node", "server.js"}
	case start == "":
		a.note("package.json has no start script or main file: the command runs server.js; pass --entrypoint")
		return []string{"node", "server.js"}
	case shellSyntax().MatchString(start):
		a.note("the start script uses shell syntax, so the command runs it through npm start; a `node FILE` start script lets node receive signals directly")
		return []string{"npm", "start"}
	case fields[0] == "node":
		return fields
	case nodeBins[fields[0]]:
		return append([]string{"/app/node_modules/.bin/" + fields[0]}, fields[1:]...)
	}
	return []string{"npm", "start"}
}

// packageJSON is the part of package.json harden reads.
type packageJSON struct {
	Scripts         map[string]string `json:"scripts"`
	DevDependencies map[string]string `json:"devDependencies"`
}

func readPackageJSON(data []byte) packageJSON {
	var pkg packageJSON
	if len(data) > 0 {
		_ = json.Unmarshal(data, &pkg) // detection already reported an invalid file
	}
	return pkg
}

// devDependencyIn returns a dev dependency the command or the start
// script it runs needs, or "".
func (pkg packageJSON) devDependencyIn(command []string) string {
	words := append([]string{}, command...)
	if len(command) == 2 && command[0] == "npm" && command[1] == "start" {
		words = append(words, strings.Fields(pkg.Scripts["start"])...)
	}
	for _, w := range words {
		w = strings.TrimPrefix(w, "/app/node_modules/.bin/")
		if _, dev := pkg.DevDependencies[w]; dev {
			return w
		}
	}
	return ""
}

// majorVersion reads the major version of "24", "20.11.1" or "v22"; 0
// when there is none.
func majorVersion(v string) int {
	v = strings.TrimPrefix(v, "v")
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}

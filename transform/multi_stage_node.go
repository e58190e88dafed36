package transform

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/servermode"
	"github.com/harden-dev/harden/toolversions"
)

// DefaultStaticServer serves static sites: nginx built to run as a non-root
// user on port 8080, pinned to a stable release.
const DefaultStaticServer = "nginxinc/nginx-unprivileged:1.27-alpine"

// planNode keeps npm/yarn/pnpm and the build in a builder on the original
// image. A server then runs on the slim image of the same Node with
// production dependencies only; a static site is served by an unprivileged
// nginx.
func planNode(s *splitter) (*splitPlan, string) {
	lastInstall, lastBuild := -1, -1
	pm := ""
	var installCmd *dockerfile.Command
	for i, cmd := range s.runCommands() {
		if m := nodeInstall(cmd); m != "" {
			lastInstall, pm, installCmd = i, m, cmd
		}
		if nodeBuildScript(cmd) {
			lastBuild = i
		}
	}
	if lastInstall < 0 {
		return nil, ""
	}
	facts := s.p.facts()
	if facts.Node != nil && facts.Node.Static && facts.Node.OutputDir != "" && lastBuild >= 0 {
		return planNodeStatic(s, max(lastInstall, lastBuild), facts.Node.OutputDir)
	}
	if isSmallImage(s.ref) && lastBuild < 0 {
		return nil, "" // a slim image that only installs: nothing to leave behind
	}
	last := max(lastInstall, lastBuild)
	workdir := s.workdirAt(last)
	if workdir == "/" {
		return nil, "the stage has no WORKDIR, so the app's files cannot be told from the image's"
	}
	runtime, why := s.runtimeImage(baseimage.Slim, s.version("node"))
	if why != "" {
		return nil, why
	}
	alpine := strings.Contains(baseimage.Parse(s.ref).Tag, "alpine")

	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, last)
	for i := 1; i <= last; i++ {
		ins := s.chunks[i].ins
		switch ins.Keyword {
		case "copy", "add":
			sp.roles[i] = toBuilder // the runtime receives the finished folder
		case "run":
			switch {
			case installsSystemPackages(ins):
				if why := s.systemPackagesForRuntime(sp, i, alpine); why != "" {
					return nil, why
				}
			case runsNodeWork(ins):
				sp.roles[i] = toBuilder
			}
		}
	}
	style := s.f.Style
	mode := imageRunMode(s.p, appRoot(s.p))
	prune, pruneNote := pruneCommand(s, pm, installCmd, mode)
	var notes []string
	if pruneNote != "" {
		notes = append(notes, pruneNote)
	}
	if prune != "" {
		sp.builderBefore[last+1] = append(sp.builderBefore[last+1], style.Instruction("RUN", prune))
	}
	if mode.Mode != servermode.Development && !s.setsEnv("NODE_ENV") {
		sp.runtimeBefore[1] = append(sp.runtimeBefore[1], style.Instruction("ENV", "NODE_ENV=production"))
		notes = append(notes, "NODE_ENV=production")
	}
	sp.runtimeBefore[last+1] = append([]string{
		style.Instruction("COPY", "--from="+sp.builderName+" "+workdir+" "+workdir),
	}, sp.runtimeBefore[last+1]...)
	native, why := s.addNativeLibraries(sp, "npm", last+1)
	if why != "" {
		return nil, why
	}
	if native != "" {
		notes = append(notes, "the runtime also installs "+native)
	}
	sp.summary = "split into a builder that installs and builds with " + pm + " and a " + runtime +
		" runtime that receives the finished app"
	if len(notes) > 0 {
		sp.summary += "; " + strings.Join(notes, "; ")
	}
	return sp, ""
}

func planNodeStatic(s *splitter, last int, outDir string) (*splitPlan, string) {
	for _, c := range s.chunks[last+1:] {
		if c.ins.Keyword == "run" || c.ins.Keyword == "copy" || c.ins.Keyword == "add" {
			return nil, "instructions after the build (line " + itoaLine(c.ins) + ") would have nowhere to run in an nginx image"
		}
	}
	runtime, ok, why := s.p.Images.Runtime(baseimage.Unprivileged, "nginx:1.27-alpine", "")
	if !ok {
		return nil, why
	}
	if runtime == "nginxinc/nginx-unprivileged:1.27-alpine" {
		runtime = DefaultStaticServer
	}
	workdir := s.workdirAt(last)
	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, last)
	for i := 1; i < len(s.chunks); i++ {
		switch kw := s.chunks[i].ins.Keyword; {
		case i <= last:
			sp.roles[i] = toBuilder
		case kw == "cmd" || kw == "entrypoint" || kw == "expose" || kw == "healthcheck" || kw == "user" || kw == "workdir" || kw == "env" || kw == "arg":
			sp.roles[i] = dropped // nginx's own command, port and user apply
		}
	}
	style := s.f.Style
	sp.runtimeBefore[last+1] = append(sp.runtimeBefore[last+1],
		style.Instruction("COPY", "--from="+sp.builderName+" "+path.Join(workdir, outDir)+" /usr/share/nginx/html"),
		style.Instruction("EXPOSE", "8080"))
	sp.summary = "split into a builder that builds the static site and an unprivileged nginx (" + runtime +
		", port 8080) that serves " + outDir
	return sp, ""
}

// nodeInstall returns the package manager when c installs dependencies.
func nodeInstall(c *dockerfile.Command) string {
	name := c.Name()
	sub, at, ok := subcommand(c)
	switch name {
	case "npm":
		if ok && (sub == "ci" || sub == "install" || sub == "i") && len(positionalArgs(c, at)) == 0 {
			return "npm"
		}
	case "yarn":
		if !ok || sub == "install" {
			return "yarn"
		}
	case "pnpm", "bun":
		if ok && (sub == "install" || sub == "i") && len(positionalArgs(c, at)) == 0 {
			return name
		}
	}
	return ""
}

// nodeBuildScript reports `npm run build`, `yarn build` and the like.
func nodeBuildScript(c *dockerfile.Command) bool {
	sub, at, ok := subcommand(c)
	if !ok {
		return false
	}
	switch c.Name() {
	case "npm", "pnpm", "bun":
		if sub == "run" || sub == "run-script" {
			script, _ := c.Arg(at + 1)
			return strings.Contains(script, "build")
		}
	case "yarn":
		return strings.Contains(sub, "build")
	case "npx":
		return sub == "tsc" || strings.Contains(sub, "build")
	}
	return false
}

// runsNodeWork reports a RUN that installs or builds with a Node tool.
func runsNodeWork(ins *dockerfile.Instruction) bool {
	sc, err := ins.Script()
	if err != nil {
		return false
	}
	for _, c := range sc.Commands {
		if nodeInstall(c) != "" || nodeBuildScript(c) {
			return true
		}
	}
	return false
}

// pruneCommand removes dev dependencies after the build, with the flag
// the package manager in the image understands, unless the image runs a
// development server or its start command needs a dev dependency. The
// note says what the output does, for the summary.
func pruneCommand(s *splitter, pm string, install *dockerfile.Command, mode servermode.Verdict) (string, string) {
	if mode.Mode == servermode.Development {
		return "", "dev dependencies kept and NODE_ENV left alone, because the image runs a development server: " + mode.Reason()
	}
	if pkg := startNeedsDevDependency(s); pkg != "" {
		return "", "dev dependencies kept: the start command uses " + pkg
	}
	switch pm {
	case "npm":
		npm, ok := toolAt(s.f, install, toolversions.Npm)
		switch {
		case ok && npm.AtLeast("7") == toolversions.Yes:
			return "npm prune --omit=dev", "dev dependencies removed with npm prune --omit=dev"
		case ok && npm.AtLeast("7") == toolversions.No:
			// npm 6 ignores --omit=dev and would keep everything.
			return "npm prune --production", "dev dependencies removed with npm prune --production, since this npm is " + npm.Version() + " and --omit=dev came in npm 7"
		}
		return "", "dev dependencies kept: harden cannot tell which npm the image has, and npm prune takes --omit=dev from npm 7 on but --production before"
	case "pnpm":
		return "pnpm prune --prod", "dev dependencies removed with pnpm prune --prod"
	case "yarn":
		if s.p.Context != nil && yarnBerry(s.p, "yarn.lock") {
			return "", "dev dependencies kept: Yarn 2 and later have no prune"
		}
		return "yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline", "dev dependencies removed with yarn install --production"
	}
	return "", ""
}

// startNeedsDevDependency returns a dev dependency the container's start
// command runs (ts-node, nodemon, ...), or "".
func startNeedsDevDependency(s *splitter) string {
	if s.p.Context == nil {
		return ""
	}
	data, err := s.p.Context.ReadHead("package.json", 1<<20)
	if err != nil {
		return ""
	}
	var pkg struct {
		Scripts         map[string]string `json:"scripts"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return ""
	}
	var words []string
	for _, c := range s.chunks {
		if c.ins.Keyword == "cmd" || c.ins.Keyword == "entrypoint" {
			words = append(words, strings.Fields(strings.Join(c.ins.Args(), " "))...)
		}
	}
	for _, script := range []string{"start", "serve"} {
		words = append(words, strings.Fields(pkg.Scripts[script])...)
	}
	for _, w := range words {
		if _, dev := pkg.DevDependencies[w]; dev {
			return w
		}
	}
	return ""
}

// workdirAt is the working directory in effect at chunk i.
func (s *splitter) workdirAt(i int) string {
	wd := "/"
	for _, c := range s.chunks[1 : i+1] {
		if c.ins.Keyword != "workdir" || len(c.ins.Args()) == 0 {
			continue
		}
		dir := c.ins.Args()[0]
		if strings.Contains(dir, "$") {
			continue
		}
		if path.IsAbs(dir) {
			wd = path.Clean(dir)
		} else {
			wd = path.Join(wd, dir)
		}
	}
	return wd
}

// setsEnvTo reports whether the stage sets name to a value containing part.
func (s *splitter) setsEnvTo(name, part string) bool {
	for _, c := range s.chunks {
		if c.ins.Keyword == "env" && strings.Contains(c.ins.Node.Original, name) && strings.Contains(c.ins.Node.Original, part) {
			return true
		}
	}
	return false
}

// setsEnv reports whether the stage sets an environment variable.
func (s *splitter) setsEnv(name string) bool {
	for _, c := range s.chunks {
		if c.ins.Keyword == "env" && strings.Contains(c.ins.Node.Original, name) {
			return true
		}
	}
	return false
}

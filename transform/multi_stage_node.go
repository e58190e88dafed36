package transform

import (
	"encoding/json"
	"path"
	"slices"
	"strconv"
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
		if sp, why, serverPath := planNodeStatic(s, max(lastInstall, lastBuild), facts.Node.OutputDir); !serverPath {
			return sp, why
		}
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

// planNodeStatic splits a build that makes a static site. The runtime is
// an unprivileged nginx serving the output folder when nginx can do what
// the image's static file server did (serve, http-server and python -m
// http.server, installed globally after the build or not), or the slim
// Node image with the globally installed server and the output folder when
// the server has settings nginx does not reproduce. serverPath asks the
// caller to treat the app as a Node server instead: the start command
// runs something else, from the project's own dependencies or on another
// folder.
func planNodeStatic(s *splitter, last int, outDir string) (sp *splitPlan, why string, serverPath bool) {
	workdir := s.workdirAt(last)
	srv := s.staticServer()
	if srv != nil {
		served := srv.dir
		if srv.pkg == "http-server" && served == "" {
			served = "." // http-server serves ./public when there is one, else the working directory
			if path.Clean(outDir) == "public" {
				served = "public"
			}
		}
		if path.Join(s.workdirAt(len(s.chunks)-1), served) != path.Join(workdir, outDir) {
			return nil, "", true // it serves another folder than the build output
		}
	}
	tools := map[int][]string{} // chunk -> static servers a RUN installs globally, and nothing else
	for i, c := range s.chunks {
		if c.ins.Keyword == "run" {
			if pkgs := onlyStaticServerInstalls(c.ins); len(pkgs) > 0 {
				tools[i] = pkgs
			}
		}
	}
	for i := last + 1; i < len(s.chunks); i++ {
		if kw := s.chunks[i].ins.Keyword; kw == "run" && tools[i] == nil || kw == "copy" || kw == "add" {
			return nil, "instructions after the build (line " + itoaLine(s.chunks[i].ins) + ") would have nowhere to run in a runtime that receives only " + outDir, false
		}
	}
	if srv == nil || srv.nginx == "" {
		sp, why := planNginxStatic(s, last, workdir, outDir, srv, tools)
		return sp, why, false
	}
	installed := false
	for _, pkgs := range tools {
		installed = installed || slices.Contains(pkgs, srv.pkg)
	}
	if !installed {
		return nil, "", true // npx or the project's own copy: it needs node_modules
	}
	sp, why = planToolStatic(s, last, workdir, outDir, srv, tools)
	return sp, why, false
}

// planNginxStatic serves the build output with an unprivileged nginx on
// port 8080. Global installs of static file servers are dropped: nginx
// replaces them.
func planNginxStatic(s *splitter, last int, workdir, outDir string, srv *staticServer, tools map[int][]string) (*splitPlan, string) {
	runtime, ok, why := s.p.Images.Runtime(baseimage.Unprivileged, "nginx:1.27-alpine", "")
	if !ok {
		return nil, why
	}
	if runtime == "nginxinc/nginx-unprivileged:1.27-alpine" {
		runtime = DefaultStaticServer
	}
	runtime = s.pinned(runtime)
	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, last)
	var replaced []string
	for i := 1; i < len(s.chunks); i++ {
		switch kw := s.chunks[i].ins.Keyword; {
		case tools[i] != nil:
			sp.roles[i] = dropped
			replaced = append(replaced, tools[i]...)
		case i <= last:
			sp.roles[i] = toBuilder
		case kw == "cmd" || kw == "entrypoint" || kw == "expose" || kw == "healthcheck" || kw == "user" || kw == "workdir" || kw == "env" || kw == "arg":
			sp.roles[i] = dropped // nginx's own command, port and user apply
		}
	}
	style := s.f.Style
	lines := []string{style.Instruction("COPY", "--from="+sp.builderName+" "+path.Join(workdir, outDir)+" /usr/share/nginx/html")}
	if srv != nil && srv.conf != "" {
		lines = append(lines, nginxServerBlock(style, srv))
	}
	sp.runtimeBefore[last+1] = append(sp.runtimeBefore[last+1], append(lines, style.Instruction("EXPOSE", "8080"))...)
	sp.summary = "split into a builder that builds the static site and an unprivileged nginx (" + runtime +
		", port 8080) that serves " + outDir
	if srv != nil && srv.conf != "" {
		sp.summary += "; nginx gets a server block for " + srv.conf
	}
	if srv != nil && srv.port != 0 && srv.port != 8080 {
		sp.summary += "; the image's interface changes: it listens on port 8080 instead of " + strconv.Itoa(srv.port) + " (" + srv.portWhy + ")"
	}
	if len(replaced) > 0 {
		slices.Sort(replaced)
		sp.summary += "; nginx replaces " + joinAnd(slices.Compact(replaced)) + ", which is no longer installed"
	}
	return sp, ""
}

// planToolStatic runs the image's own static file server on the slim Node
// image: the builder builds, the runtime installs the server as the
// Dockerfile does and receives the output folder.
func planToolStatic(s *splitter, last int, workdir, outDir string, srv *staticServer, tools map[int][]string) (*splitPlan, string) {
	runtime, why := s.runtimeImage(baseimage.Slim, s.version("node"))
	if why != "" {
		return nil, why
	}
	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, last)
	for i := 1; i <= last; i++ {
		switch {
		case tools[i] != nil:
			sp.roles[i] = toRuntime
		case s.chunks[i].ins.Keyword == "copy" || s.chunks[i].ins.Keyword == "add" || s.chunks[i].ins.Keyword == "run":
			sp.roles[i] = toBuilder
		}
	}
	// The output arrives after the server's install, which changes less
	// often and so stays cached.
	at := last + 1
	for at < len(s.chunks) && tools[at] != nil {
		at++
	}
	out := path.Join(workdir, outDir)
	sp.runtimeBefore[at] = append([]string{s.f.Style.Instruction("COPY", "--from="+sp.builderName+" "+out+" "+out)}, sp.runtimeBefore[at]...)
	sp.summary = "split into a builder that builds the static site and a " + runtime + " runtime that receives only " + out +
		"; the runtime installs " + srv.pkg + " as the Dockerfile did, since " + srv.nginx + ", which nginx does not reproduce"
	return sp, ""
}

// staticServer is how the image serves its static site.
type staticServer struct {
	pkg     string // the npm package, or "python" for python -m http.server
	dir     string // the folder it serves, relative to the working directory; "" for http-server's default
	port    int    // where it listens
	portWhy string // how the port was found, for the summary
	// conf says what nginx needs a server block for ("serve's clean URLs
	// and single-page fallback"); "" when nginx's default site does it.
	conf     string
	single   bool // unknown paths get index.html
	cleanURL bool // /about finds about.html
	// nginx says why nginx cannot stand in for the server; "" when it can.
	nginx string
}

// staticServer reads the stage's start command as a static file server,
// or returns nil when it is none harden knows.
func (s *splitter) staticServer() *staticServer {
	words := s.startWords()
	for len(words) > 0 && (words[0] == "exec" || words[0] == "npx" || words[0] == "pnpx" || strings.HasPrefix(words[0], "-")) {
		words = words[1:] // npx and its options (-y, --yes) run the package's binary
	}
	if len(words) == 0 {
		return nil
	}
	switch prog := path.Base(words[0]); {
	case prog == "serve":
		return readServe(words[1:])
	case prog == "http-server":
		return readHTTPServer(words[1:])
	case pythonName().MatchString(prog) && len(words) >= 3 && words[1] == "-m" && words[2] == "http.server":
		return readPythonHTTPServer(words[3:])
	case detectStaticServers[prog]:
		return &staticServer{pkg: prog, nginx: prog + " is a static file server whose settings harden does not translate for nginx"}
	}
	return nil
}

// detectStaticServers are other static file servers the Node detection
// knows; their sites are kept on their own server.
var detectStaticServers = map[string]bool{"live-server": true, "static-server": true, "sirv": true, "sirv-cli": true, "lite-server": true}

// readServe reads `serve [options] [folder]` (vercel/serve). By default it
// listens on 3000 and finds /about at about.html; -s sends unknown paths
// to index.html.
func readServe(args []string) *staticServer {
	srv := &staticServer{pkg: "serve", port: 3000, portWhy: "serve's default", cleanURL: true, dir: "."}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-s" || a == "--single":
			srv.single = true
		case a == "-l" || a == "--listen" || a == "-p" || a == "--port":
			if i+1 < len(args) {
				i++
				if n := listenPort(args[i]); n > 0 {
					srv.port, srv.portWhy = n, "serve "+a+" "+args[i]
				} else {
					srv.nginx = "serve listens on " + args[i]
				}
			}
		case a == "-n" || a == "--no-clipboard" || a == "-d" || a == "--debug" || a == "-u" || a == "--no-compression" ||
			a == "--no-port-switching" || a == "-L" || a == "--no-request-logging":
		case strings.HasPrefix(a, "-"):
			srv.nginx = "serve runs with " + a
		default:
			srv.dir = a
		}
	}
	switch {
	case srv.single:
		srv.conf = "serve's clean URLs and single-page fallback"
	default:
		srv.conf = "serve's clean URLs"
	}
	return srv
}

// readHTTPServer reads `http-server [folder] [options]`, which listens on
// 8080 and serves ./public when there is one (harden then leaves it).
func readHTTPServer(args []string) *staticServer {
	srv := &staticServer{pkg: "http-server", port: 8080, portWhy: "http-server's default"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-p" || a == "--port":
			if i+1 < len(args) {
				i++
				if n, err := strconv.Atoi(args[i]); err == nil && n > 0 {
					srv.port, srv.portWhy = n, "http-server "+a+" "+args[i]
				}
			}
		case a == "-a":
			i++
		case a == "-s" || a == "--silent" || a == "-d" || a == "-i" || strings.HasPrefix(a, "-c"):
		case strings.HasPrefix(a, "-"):
			srv.nginx = "http-server runs with " + a
		default:
			srv.dir = a
		}
	}
	return srv
}

// readPythonHTTPServer reads `python -m http.server [port] [-b ADDR]
// [-d DIR]`, which listens on 8000 and serves the working directory.
func readPythonHTTPServer(args []string) *staticServer {
	srv := &staticServer{pkg: "python", port: 8000, portWhy: "python -m http.server's default", dir: "."}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-b" || a == "--bind":
			i++
		case a == "-d" || a == "--directory":
			if i+1 < len(args) {
				i++
				srv.dir = args[i]
			}
		case strings.HasPrefix(a, "--directory="):
			srv.dir = strings.TrimPrefix(a, "--directory=")
		case strings.HasPrefix(a, "-"):
			srv.nginx = "python -m http.server runs with " + a
		default:
			if n, err := strconv.Atoi(a); err == nil && n > 0 {
				srv.port, srv.portWhy = n, "python -m http.server "+a
			}
		}
	}
	return srv
}

// listenPort reads serve's listen endpoint: "3000", ":3000",
// "tcp://0.0.0.0:3000"; 0 for anything else (a UNIX socket, a pipe).
func listenPort(v string) int {
	v = strings.TrimPrefix(v, "tcp://")
	if i := strings.LastIndex(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

// nginxServerBlock writes the site configuration that gives nginx the
// server's behaviour: its clean URLs, and the single-page fallback to
// index.html. nginx-unprivileged reads it from conf.d/default.conf in
// place of its own, which listens on the same port and root.
func nginxServerBlock(style dockerfile.Style, srv *staticServer) string {
	fallback := "=404"
	if srv.single {
		fallback = "/index.html"
	}
	try := "$uri $uri/ " + fallback
	if srv.cleanURL {
		try = "$uri $uri.html $uri/ " + fallback
	}
	eol := style.EOL
	return style.Instruction("COPY", "<<'EOF' /etc/nginx/conf.d/default.conf") + eol +
		"server {" + eol +
		"    listen 8080;" + eol +
		"    root /usr/share/nginx/html;" + eol +
		"    location / {" + eol +
		"        try_files " + try + ";" + eol +
		"    }" + eol +
		"}" + eol +
		"EOF"
}

// startWords is the stage's start command as words: ENTRYPOINT and CMD
// as the runtime joins them; nil when harden cannot read it as words.
func (s *splitter) startWords() []string {
	var entry, cmd *dockerfile.Instruction
	for _, c := range s.chunks {
		switch c.ins.Keyword {
		case "entrypoint":
			entry, cmd = c.ins, nil // a later ENTRYPOINT resets CMD
		case "cmd":
			cmd = c.ins
		}
	}
	words := func(ins *dockerfile.Instruction) []string {
		sc, err := ins.Script()
		if err != nil {
			return nil
		}
		if sc.Form == dockerfile.ExecForm {
			return sc.Commands[0].Args
		}
		args, why := plainCommand(sc)
		if why != "" {
			return nil
		}
		return args
	}
	switch {
	case entry != nil && cmd != nil && entry.IsJSON():
		return append(words(entry), words(cmd)...)
	case entry != nil:
		return words(entry)
	case cmd != nil:
		return words(cmd)
	}
	return nil
}

// onlyStaticServerInstalls returns the static file servers a RUN installs
// globally (npm install -g serve, yarn global add http-server), when that
// is all it does; npm cache cleaning may go with it.
func onlyStaticServerInstalls(ins *dockerfile.Instruction) []string {
	sc, err := ins.Script()
	if err != nil || sc.Form == dockerfile.ExecForm {
		return nil
	}
	var out []string
	for _, c := range sc.Commands {
		pkgs := globalInstalls(c)
		if pkgs == nil {
			if sub, _, _ := subcommand(c); c.Name() == "npm" && sub == "cache" {
				continue
			}
			return nil
		}
		for _, p := range pkgs {
			if p != "serve" && p != "http-server" && !detectStaticServers[p] {
				return nil
			}
		}
		out = append(out, pkgs...)
	}
	return out
}

// globalInstalls returns the packages `npm install -g`, `yarn global add`
// or `pnpm add -g` installs, without their versions; nil for any other
// command.
func globalInstalls(c *dockerfile.Command) []string {
	sub, at, ok := subcommand(c)
	if !ok {
		return nil
	}
	var args []string
	switch c.Name() {
	case "npm", "pnpm":
		if sub != "install" && sub != "i" && sub != "add" || !c.HasArg("-g", "--global") {
			return nil
		}
		args = positionalArgs(c, at)
	case "yarn":
		if sub != "global" {
			return nil
		}
		rest := positionalArgs(c, at)
		if len(rest) == 0 || rest[0] != "add" {
			return nil
		}
		args = rest[1:]
	default:
		return nil
	}
	var out []string
	for _, a := range args {
		name := a
		if i := strings.LastIndex(a, "@"); i > 0 {
			name = a[:i] // serve@14.2.3; @scope/pkg keeps its leading @
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil
	}
	return out
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

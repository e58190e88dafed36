package detect

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/dockerfile"
)

// dockerfileFacts is what a Dockerfile says about the application it
// builds. Signals are weighted by the stage they are in: what the final
// image runs counts most, the stages it copies from next, stages nothing
// uses least.
type dockerfileFacts struct {
	name     string
	score    map[Ecosystem]int
	evidence map[Ecosystem][]Evidence
	pm       map[Ecosystem]hint
	claims   []versionClaim
	base     []ImageFacts
	final    ImageFacts

	// launch is what the final image starts (ENTRYPOINT and CMD).
	launch    launch
	launchWhy Evidence
	hasLaunch bool
	// expose is the first EXPOSEd port of the final image.
	expose, envPort       int
	exposeWhy, envPortWhy Evidence

	// sources are the build-context paths COPY and ADD read, in order.
	sources []copySource
	venv    *Evidence
	cgo     *Evidence
	cgoOff  bool
	// goBuild, cargoBin and dotnetProject are what the build commands name.
	goBuild       goBuild
	cargoBin      hint
	dotnetProject hint
	// served is set when the final image is a static web server; servedFrom
	// lists what it publishes.
	served     bool
	servedFrom []servedCopy
}

// hint is a value with the evidence for it.
type hint struct {
	value string
	why   Evidence
}

type copySource struct {
	path string
	line int
}

type goBuild struct {
	pkg, output string
	why         Evidence
}

// servedCopy is a COPY into a static server's document root.
type servedCopy struct {
	source    string // context path, or the path in the stage it comes from
	fromStage *dockerfile.Stage
	workdir   string // that stage's WORKDIR, to make source relative
	why       Evidence
}

// documentRoots are where the static web server images publish files.
var documentRoots = []string{"/usr/share/nginx/html", "/usr/local/apache2/htdocs", "/var/www/html", "/usr/share/caddy", "/opt/bitnami/nginx/html"}

func readDockerfile(f *dockerfile.File) *dockerfileFacts {
	d := &dockerfileFacts{score: map[Ecosystem]int{}, evidence: map[Ecosystem][]Evidence{}, pm: map[Ecosystem]hint{}}
	if f == nil {
		return d
	}
	d.name = f.Name
	weights := stageWeights(f)
	facts := make([]ImageFacts, len(f.Stages))
	for _, st := range f.Stages {
		img := d.stageImage(f, st, facts)
		facts[st.Index] = img
		d.base = append(d.base, img)
		w := weights[st.Index]
		if img.Ecosystem != "" && img.FromStage == "" {
			d.signal(img.Ecosystem, w, st.From.Line, fmt.Sprintf("%s starts from %s, which provides %s", stageLabel(st), img.Ref, img.Runtime))
			if key := versionKey(img.Runtime); key != "" && img.RuntimeVersion != "" && !d.claimed(key, img.RuntimeVersion) {
				d.claims = append(d.claims, versionClaim{key: key, rank: rankDockerfile,
					v:   Version{Version: img.RuntimeVersion, File: d.name, Line: st.From.Line},
					why: fmt.Sprintf("FROM %s uses %s %s", img.Ref, key, img.RuntimeVersion)})
			}
		}
		d.readStage(st, min(w, 2))
	}
	final := f.FinalStage()
	d.final = facts[final.Index]
	d.readFinal(f, final, facts)
	return d
}

// claimed reports whether an earlier FROM already claimed this version.
func (d *dockerfileFacts) claimed(key, version string) bool {
	for _, c := range d.claims {
		if c.key == key && c.v.Version == version {
			return true
		}
	}
	return false
}

// stageWeights gives the final stage (and the stages it builds FROM) 3,
// the stages it copies from 2, and the rest 1.
func stageWeights(f *dockerfile.File) []int {
	w := make([]int, len(f.Stages))
	var visit func(st *dockerfile.Stage, weight int)
	visit = func(st *dockerfile.Stage, weight int) {
		if w[st.Index] >= weight {
			return
		}
		w[st.Index] = weight
		if p := st.Parent(); p != nil {
			visit(p, weight)
		}
		for _, ins := range st.Instructions {
			if from, ok := ins.Flag("from"); ok && ins.Keyword == "copy" {
				if src := f.StageByName(from); src != nil && src.Index < st.Index {
					visit(src, 2)
				}
			}
		}
	}
	visit(f.FinalStage(), 3)
	for i := range w {
		w[i] = max(w[i], 1)
	}
	return w
}

func stageLabel(st *dockerfile.Stage) string {
	if st.Name != "" {
		return "stage " + st.Name
	}
	return "stage " + strconv.Itoa(st.Index)
}

func (d *dockerfileFacts) stageImage(f *dockerfile.File, st *dockerfile.Stage, facts []ImageFacts) ImageFacts {
	label := st.Name
	if label == "" {
		label = strconv.Itoa(st.Index)
	}
	if p := st.Parent(); p != nil {
		img := facts[p.Index]
		img.Stage, img.Line, img.FromStage = label, st.From.Line, p.Ref()
		return img
	}
	img := Image(expandKnownArgs(f, st.BaseName))
	img.Stage, img.Line = label, st.From.Line
	return img
}

// expandKnownArgs expands the global ARGs that have a default (or a
// ${NAME:-default} fallback) and keeps the others as written: an ARG
// declared without a default is meant to come from --build-arg, so Image
// must treat it as unknown rather than as the empty string.
func expandKnownArgs(f *dockerfile.File, ref string) string {
	defaults := map[string]bool{}
	for _, ins := range f.GlobalArgs {
		if arg, ok := ins.Command.(*instructions.ArgCommand); ok {
			for _, kv := range arg.Args {
				defaults[kv.Key] = kv.Value != nil
			}
		}
	}
	return argRef().ReplaceAllStringFunc(ref, func(v string) string {
		name := strings.Trim(v, "${}")
		if i := strings.IndexAny(name, ":-+"); i >= 0 {
			name = name[:i]
		}
		if !defaults[name] && !strings.Contains(v, "-") {
			return v
		}
		if val, ok := f.ExpandGlobalArgs(v); ok {
			return val
		}
		return v
	})
}

// versionKey maps an image's runtime to the key of Result.Versions.
func versionKey(runtime string) string {
	switch runtime {
	case "python", "node", "bun", "go", "java", "ruby", "rust", "php", "dotnet":
		return runtime
	}
	return ""
}

func (d *dockerfileFacts) signal(eco Ecosystem, weight, line int, why string) {
	d.score[eco] += weight
	d.evidence[eco] = append(d.evidence[eco], Evidence{File: d.name, Line: line, Why: why})
}

// readStage reads the build steps of one stage.
func (d *dockerfileFacts) readStage(st *dockerfile.Stage, weight int) {
	seen := map[Ecosystem]bool{}
	for _, ins := range st.Instructions[1:] {
		switch c := ins.Command.(type) {
		case *instructions.RunCommand:
			s, err := ins.Script()
			if err != nil {
				continue
			}
			for _, cmd := range s.Commands {
				d.readRun(cmd, weight, seen)
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				d.readEnv(kv.Key, kv.Value, Evidence{File: d.name, Line: ins.Line, Why: fmt.Sprintf("ENV %s=%s", kv.Key, kv.Value)})
			}
		case *instructions.CopyCommand:
			if c.From == "" {
				d.addSources(c.SourcePaths, ins.Line)
			}
		case *instructions.AddCommand:
			d.addSources(c.SourcePaths, ins.Line)
		}
	}
}

// copiesSource reports whether a COPY or ADD names the context path p.
func (d *dockerfileFacts) copiesSource(p string) bool {
	for _, src := range d.sources {
		if strings.TrimPrefix(path.Clean("/"+src.path), "/") == p {
			return true
		}
	}
	return false
}

func (d *dockerfileFacts) addSources(paths []string, line int) {
	for _, p := range paths {
		if strings.Contains(p, "://") || strings.HasPrefix(p, "git@") {
			continue
		}
		d.sources = append(d.sources, copySource{path: p, line: line})
	}
}

// readRun reads one simple command of a RUN.
func (d *dockerfileFacts) readRun(cmd *dockerfile.Command, weight int, seen map[Ecosystem]bool) {
	words := commandWords(cmd)
	if len(words) == 0 {
		return
	}
	prog := programName(words[0])
	eco, ok := programs()[prog]
	if !ok {
		return
	}
	line := cmd.Line()
	text := cmd.Text()
	if len(text) > 80 {
		text = text[:77] + "..."
	}
	if !seen[eco] && eco != Static {
		seen[eco] = true
		d.signal(eco, weight, line, "RUN "+text)
	}
	if pm, ok := packageManagers()[prog]; ok && installs(prog, words) {
		if _, set := d.pm[eco]; !set {
			d.pm[eco] = hint{pm, Evidence{File: d.name, Line: line, Why: "RUN " + text + " installs with " + pm}}
		}
	}
	why := Evidence{File: d.name, Line: line, Why: "RUN " + text}
	switch prog {
	case "python":
		i := indexOf(words, "-m")
		if i > 0 && i+1 < len(words) && (words[i+1] == "venv" || words[i+1] == "virtualenv") {
			d.setVenv(why, "creates a virtual environment")
		}
		if _, set := d.pm[Python]; !set && i > 0 && i+2 < len(words) && programName(words[i+1]) == "pip" && words[i+2] == "install" {
			d.pm[Python] = hint{"pip", Evidence{File: d.name, Line: line, Why: "RUN " + text + " installs with pip"}}
		}
	case "virtualenv":
		d.setVenv(why, "creates a virtual environment")
	case "uv":
		if len(words) > 1 && (words[1] == "venv" || words[1] == "sync") {
			d.setVenv(why, "creates a virtual environment")
		}
	case "go":
		if len(words) > 1 && (words[1] == "build" || words[1] == "install") {
			d.readGoBuild(words[2:], why)
		}
		for _, a := range callAssigns(cmd) {
			if a.Name != nil && a.Name.Value == "CGO_ENABLED" && a.Value != nil {
				d.readEnv("CGO_ENABLED", a.Value.Lit(), Evidence{File: d.name, Line: line, Why: "RUN " + text + " sets CGO_ENABLED=" + a.Value.Lit()})
			}
		}
	case "cargo":
		if len(words) > 1 && (words[1] == "build" || words[1] == "install") {
			if bin := flagValue(words, "--bin"); bin != "" {
				d.cargoBin = hint{bin, why}
			}
		}
	case "dotnet":
		if len(words) > 1 && (words[1] == "publish" || words[1] == "build") {
			for _, a := range words[2:] {
				if strings.HasSuffix(a, "proj") && !strings.HasPrefix(a, "-") {
					d.dotnetProject = hint{a, why}
				}
			}
		}
	}
}

// callAssigns are the NAME=value prefixes of a shell command.
func callAssigns(cmd *dockerfile.Command) []*syntax.Assign {
	if cmd.Call == nil {
		return nil
	}
	return cmd.Call.Assigns
}

// commandWords are a command's words from the program on, with words
// computed at run time left as "$".
func commandWords(cmd *dockerfile.Command) []string {
	var out []string
	for i := 0; i < cmd.NArgs(); i++ {
		a, lit := cmd.Arg(i)
		if !lit {
			a = "$"
		}
		out = append(out, a)
	}
	if len(out) > 0 {
		out[0] = cmd.Name()
	}
	return out
}

// installs reports whether a package manager command installs dependencies
// (rather than, say, printing its version).
func installs(prog string, words []string) bool {
	if prog == "go" {
		return len(words) > 2 && (words[1] == "mod" && words[2] == "download" || words[1] == "get")
	}
	if len(words) < 2 {
		return prog == "yarn" || prog == "bundle"
	}
	switch words[1] {
	case "install", "ci", "i", "add", "sync", "pip", "update", "restore", "publish", "build", "package",
		"verify", "bootJar", "assemble", "installDist", "fetch", "download", "export":
		return true
	case "-m", "-r":
		return prog == "pip"
	}
	return prog == "mvn" || prog == "mvnw" || prog == "gradle" || prog == "gradlew" || prog == "yarn" && strings.HasPrefix(words[1], "-")
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

// flagValue returns the value of --name value or --name=value.
func flagValue(words []string, name string) string {
	for i, w := range words {
		if w == name && i+1 < len(words) {
			return words[i+1]
		}
		if v, ok := strings.CutPrefix(w, name+"="); ok {
			return v
		}
	}
	return ""
}

func (d *dockerfileFacts) setVenv(why Evidence, what string) {
	if d.venv == nil {
		why.Why += ": " + what
		d.venv = &why
	}
}

// goBuildOptsWithValue are the go build options that take a value.
var goBuildOptsWithValue = sync.OnceValue(func() map[string]bool {
	return map[string]bool{"-o": true, "-ldflags": true, "-gcflags": true, "-tags": true, "-mod": true, "-p": true, "-asmflags": true, "-buildmode": true, "-compiler": true, "-gccgoflags": true, "-installsuffix": true, "-modfile": true, "-overlay": true, "-pgo": true, "-pkgdir": true, "-toolexec": true, "-C": true}
})

func (d *dockerfileFacts) readGoBuild(args []string, why Evidence) {
	b := goBuild{why: why}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case name == "-o" && hasVal:
			b.output = val
		case a == "-o" && i+1 < len(args):
			b.output = args[i+1]
			i++
		case goBuildOptsWithValue()[a]:
			i++
		case strings.HasPrefix(a, "-"):
		case b.pkg == "" && a != "$":
			b.pkg = a
		}
	}
	if d.goBuild.pkg == "" && d.goBuild.output == "" {
		d.goBuild = b
	}
}

func (d *dockerfileFacts) readEnv(key, val string, why Evidence) {
	switch {
	case key == "VIRTUAL_ENV":
		d.setVenv(why, "installs into a virtual environment")
	case key == "PATH" && (strings.Contains(val, "venv/bin") || strings.Contains(val, "virtualenv")):
		d.setVenv(why, "runs from a virtual environment")
	case key == "PORT" && d.envPort == 0:
		if p := portOf(val); p > 0 {
			d.envPort, d.envPortWhy = p, why
		}
	case key == "CGO_ENABLED":
		d.cgo = &why
		d.cgoOff = val == "0"
	}
}

// readFinal reads what the final image runs, exposes and publishes.
func (d *dockerfileFacts) readFinal(f *dockerfile.File, final *dockerfile.Stage, facts []ImageFacts) {
	var entrypoint, cmd *dockerfile.Instruction
	var chain []*dockerfile.Stage
	for st := final; st != nil; st = st.Parent() {
		chain = append(chain, st)
	}
	// Walk from the oldest stage so later instructions override earlier.
	for i := len(chain) - 1; i >= 0; i-- {
		for _, ins := range chain[i].Instructions[1:] {
			switch c := ins.Command.(type) {
			case *instructions.EntrypointCommand:
				entrypoint, cmd = ins, nil // ENTRYPOINT resets CMD
			case *instructions.CmdCommand:
				cmd = ins
			case *instructions.ExposeCommand:
				if d.expose == 0 && len(c.Ports) > 0 {
					if p := portOf(c.Ports[0]); p > 0 {
						d.expose = p
						d.exposeWhy = Evidence{File: d.name, Line: ins.Line, Why: "EXPOSE " + strings.Join(c.Ports, " ")}
					}
				}
			case *instructions.CopyCommand:
				d.readServedCopy(f, c, ins)
			}
		}
	}
	if img := facts[final.Index]; img.Ecosystem == Static {
		d.served = true
	}
	d.readLaunch(entrypoint, cmd)
	if e := d.launch.entry; e != nil && (e.Kind == EntryScript || e.Kind == EntryJar) {
		// "python /app/main.py" under WORKDIR /app runs the project's main.py.
		wd := stageWorkdir(final)
		if rest, ok := strings.CutPrefix(path.Clean(e.Value), strings.TrimSuffix(wd, "/")+"/"); ok && wd != "/" {
			e.Value = rest
		}
	}
}

func resolveWorkdir(cur, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(cur, p)
}

// readServedCopy records COPYs into a web server's document root.
func (d *dockerfileFacts) readServedCopy(f *dockerfile.File, c *instructions.CopyCommand, ins *dockerfile.Instruction) {
	dest := path.Clean(c.DestPath)
	root := false
	for _, r := range documentRoots {
		if dest == r || strings.HasPrefix(dest, r+"/") {
			root = true
		}
	}
	if !root {
		return
	}
	why := Evidence{File: d.name, Line: ins.Line, Why: "COPY into the web server's document root " + c.DestPath}
	var from *dockerfile.Stage
	workdir := ""
	if c.From != "" {
		from = f.StageByName(c.From)
		if from == nil {
			return
		}
		workdir = stageWorkdir(from)
	}
	for _, src := range c.SourcePaths {
		d.servedFrom = append(d.servedFrom, servedCopy{source: src, fromStage: from, workdir: workdir, why: why})
	}
}

// stageWorkdir is the WORKDIR in force at the end of a stage.
func stageWorkdir(st *dockerfile.Stage) string {
	var chain []*dockerfile.Stage
	for s := st; s != nil; s = s.Parent() {
		chain = append(chain, s)
	}
	wd := "/"
	for i := len(chain) - 1; i >= 0; i-- {
		for _, ins := range chain[i].Instructions[1:] {
			// As BuildKit reads it: WORKDIR "/app" is /app. A path built
			// from variables is not followed.
			if p, ok := ins.WorkdirPath(); ok {
				wd = resolveWorkdir(wd, p)
			}
		}
	}
	return wd
}

// readLaunch reads ENTRYPOINT and CMD as Docker combines them: an
// exec-form ENTRYPOINT gets CMD as arguments, unless it is a wrapper
// script whose job is to exec them.
func (d *dockerfileFacts) readLaunch(entrypoint, cmd *dockerfile.Instruction) {
	var l launch
	var at *dockerfile.Instruction
	switch {
	case entrypoint != nil && !entrypoint.IsJSON():
		l, at = readLaunchShell(shellText(entrypoint)), entrypoint
	case entrypoint != nil:
		words := entrypoint.Args()
		if cmd != nil && isWrapperScript(words) {
			l, at = launchOf(cmd), cmd
			break
		}
		if cmd != nil && cmd.IsJSON() {
			words = append(append([]string{}, words...), cmd.Args()...)
		}
		l, at = readLaunch(words), entrypoint
	case cmd != nil:
		l, at = launchOf(cmd), cmd
	default:
		return
	}
	if l.eco == "" && l.entry == nil && l.server == "" {
		return
	}
	d.launch, d.hasLaunch = l, true
	d.launchWhy = Evidence{File: d.name, Line: at.Line, Why: strings.ToUpper(at.Keyword) + " " + strings.Join(at.Args(), " ")}
	if l.eco != "" {
		d.signal(l.eco, 2, at.Line, fmt.Sprintf("%s: the image starts the application with %s", d.launchWhy.Why, l.program))
	}
}

func launchOf(ins *dockerfile.Instruction) launch {
	if ins.IsJSON() {
		return readLaunch(ins.Args())
	}
	return readLaunchShell(shellText(ins))
}

func shellText(ins *dockerfile.Instruction) string {
	return strings.Join(ins.Args(), " ")
}

// isWrapperScript recognises entrypoint scripts that set things up and
// exec their arguments (docker-entrypoint.sh, tini, dumb-init).
func isWrapperScript(words []string) bool {
	if len(words) == 0 {
		return false
	}
	name := path.Base(words[0])
	_, wrapper := runWrappers()[name]
	return wrapper || strings.HasSuffix(name, ".sh") || strings.Contains(name, "entrypoint")
}

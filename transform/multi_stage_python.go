package transform

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

const venvPath = "/opt/venv"

// planPython installs the dependencies into a virtualenv in a builder on
// the original image and runs the app on the slim image of the same Python,
// which receives the virtualenv. Build-only system packages stay in the
// builder; the runtime gets the libraries behind -dev packages.
func planPython(s *splitter) (*splitPlan, string) {
	installs := map[int]bool{}
	lastInstall, existingVenv := -1, ""
	alpine := strings.Contains(baseimage.Parse(s.ref).Tag, "alpine")
	for i, cmd := range s.runCommands() {
		if v := venvCreated(cmd); v != "" {
			existingVenv = v
		}
		if _, ok := pipInstall(cmd); ok {
			installs[i] = true
			lastInstall = i
		}
	}
	if lastInstall < 0 {
		return nil, "" // nothing is installed with pip here
	}
	if isSmallImage(s.ref) && !s.installsBuildPackages() {
		return nil, "" // already a slim runtime with nothing to leave behind
	}
	if why := pythonBlockers(s, installs, existingVenv); why != "" {
		return nil, why
	}
	runtime, why := s.runtimeImage(baseimage.Slim, s.version("python"))
	if why != "" {
		return nil, why
	}

	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, lastInstall)
	venv := existingVenv
	var libraries []string
	for i := 1; i <= lastInstall; i++ {
		ins := s.chunks[i].ins
		switch {
		case installs[i]:
			sp.roles[i] = toBuilder
			if installsSystemPackages(ins) {
				if why := s.systemPackagesForRuntime(sp, i, alpine); why != "" {
					return nil, why
				}
				libraries = append(libraries, s.runtimePackagesOf(ins)...)
			}
		case ins.Keyword == "run" && installsSystemPackages(ins):
			if why := s.systemPackagesForRuntime(sp, i, alpine); why != "" {
				return nil, why
			}
			libraries = append(libraries, s.runtimePackagesOf(ins)...)
		case ins.Keyword == "run" && createsVenv(ins):
			sp.roles[i] = toBuilder
		case ins.Keyword == "copy" && copiesOnlyPythonManifests(ins):
			sp.roles[i] = toBuilder // the runtime needs the installed packages, not their list
		}
	}
	style := s.f.Style
	envLine := style.Instruction("ENV", "VIRTUAL_ENV="+venvOr(venv)+` PATH="`+venvOr(venv)+`/bin:$PATH"`)
	first := firstKey(installs)
	if venv == "" {
		sp.builderBefore[first] = append(sp.builderBefore[first],
			style.Instruction("RUN", "python -m venv "+venvPath), envLine)
	}
	handoff := lastInstall + 1
	handoffLines := []string{style.Instruction("COPY", "--from="+sp.builderName+" "+venvOr(venv)+" "+venvOr(venv))}
	if !s.setsEnvTo("PATH", venvOr(venv)+"/bin") {
		handoffLines = append(handoffLines, envLine)
	}
	sp.runtimeBefore[handoff] = append(handoffLines, sp.runtimeBefore[handoff]...)
	native, why := s.addNativeLibraries(sp, "pip", handoff)
	if why != "" {
		return nil, why
	}
	lean, kept := s.leanVenv(lastInstall, venvOr(venv))
	if lean != "" {
		sp.builderBefore[handoff] = append(sp.builderBefore[handoff], lean)
	}
	sp.summary = "split into a builder that installs the Python dependencies into " + venvOr(venv) +
		" and a " + runtime + " runtime that " + s.pythonReceives(sp)
	if lean != "" {
		them := "them"
		if !strings.Contains(kept, " and ") {
			them = "it"
		}
		sp.summary += "; the runtime's virtualenv leaves out " + kept + ", unless an installed package requires " + them
	}
	var also []string
	if len(libraries) > 0 {
		also = append(also, "the runtime packages "+strings.Join(libraries, ", "))
	}
	if native != "" {
		also = append(also, native)
	}
	if len(also) > 0 {
		sp.summary += "; the runtime also installs " + joinClauses(also)
	}
	return sp, ""
}

// pythonReceives says what the runtime receives, as the plan writes it:
// the virtualenv, the app when a COPY from the build context reaches the
// runtime, and copies from other stages it keeps.
func (s *splitter) pythonReceives(sp *splitPlan) string {
	app, others := false, false
	for i := 1; i < len(s.chunks); i++ {
		ins := s.chunks[i].ins
		if sp.roles[i] != toRuntime && sp.roles[i] != toBoth || ins.Keyword != "copy" && ins.Keyword != "add" {
			continue
		}
		if _, from := ins.Flag("from"); from {
			others = true
		} else {
			app = true
		}
	}
	what := "the virtualenv"
	if app {
		what += " and the app"
	}
	if others {
		return "receives " + what + ", and keeps its copies from other stages"
	}
	return "receives only " + what
}

func venvOr(v string) string {
	if v == "" {
		return venvPath
	}
	return v
}

// installsBuildPackages reports a system package install in the stage that
// a runtime would not need (compilers, headers).
func (s *splitter) installsBuildPackages() bool {
	for _, c := range s.chunks {
		sc, err := c.ins.Script()
		if c.ins.Keyword != "run" || err != nil {
			continue
		}
		inst, _ := systemInstalls(sc)
		for _, in := range inst {
			for _, pi := range in.packages {
				if role := classifyPackage(in.cmd.Args[pi], in.alpine); role.runtime != in.cmd.Args[pi] {
					return true
				}
			}
		}
	}
	return false
}

// pythonBlockers explains what makes moving pip's installs into a
// virtualenv unsafe, or returns "".
func pythonBlockers(s *splitter, installs map[int]bool, venv string) string {
	for i := range installs {
		sc, _ := s.chunks[i].ins.Script()
		if sc.Form == dockerfile.ExecForm {
			return "pip runs in exec form on line " + itoaLine(s.chunks[i].ins)
		}
		for _, c := range sc.Commands {
			if _, ok := pipInstall(c); !ok {
				continue
			}
			if c.HasArg("--user", "--target", "-t", "--prefix", "--root") {
				return "pip installs outside site-packages (--user, --target, --prefix or --root) on line " + itoaLine(s.chunks[i].ins)
			}
			prog, lit := c.Arg(0)
			if lit && strings.Contains(prog, "/") && (venv == "" || !strings.HasPrefix(prog, venv+"/")) {
				return prog + " is called by its path on line " + itoaLine(s.chunks[i].ins) + ", which would bypass the virtualenv"
			}
		}
	}
	for _, c := range s.chunks {
		sc, err := c.ins.Script()
		if err != nil || sc.Form == dockerfile.ExecForm && c.ins.Keyword == "run" {
			continue
		}
		for _, cmd := range sc.Commands {
			switch cmd.Name() {
			case "poetry", "pipenv", "pdm", "conda", "mamba", "micromamba":
				return cmd.Name() + " manages its own environment on line " + itoaLine(c.ins) + "; harden splits pip-based installs only"
			case "uv":
				if sub, _, _ := subcommand(cmd); sub != "pip" {
					return "uv " + sub + " manages its own environment on line " + itoaLine(c.ins)
				}
			}
		}
	}
	for _, p := range []string{"/usr/local/bin/python", "/usr/bin/python", "/usr/local/lib/python"} {
		if s.mentions(1, p) {
			return "the Dockerfile refers to " + p + " directly, which the runtime's virtualenv would bypass"
		}
	}
	return ""
}

// venvCreated returns the folder a `python -m venv DIR` or `virtualenv DIR`
// command creates.
func venvCreated(c *dockerfile.Command) string {
	name := c.Name()
	if c.Prog >= len(c.Args) {
		return "" // only wrappers, no program
	}
	args := c.Args[c.Prog+1:]
	switch {
	case pythonName().MatchString(name) && len(args) >= 3 && args[0] == "-m" && (args[1] == "venv" || args[1] == "virtualenv"):
		args = args[2:]
	case name == "virtualenv":
	default:
		return ""
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && a != "" {
			if !path.IsAbs(a) {
				return "" // relative to WORKDIR: harden keeps it simple and makes its own
			}
			return path.Clean(a)
		}
	}
	return ""
}

func createsVenv(ins *dockerfile.Instruction) bool {
	sc, err := ins.Script()
	if err != nil {
		return false
	}
	for _, c := range sc.Commands {
		if venvCreated(c) != "" {
			return true
		}
	}
	return false
}

// copiesOnlyPythonManifests reports a COPY of dependency lists only.
func copiesOnlyPythonManifests(ins *dockerfile.Instruction) bool {
	if _, from := ins.Flag("from"); from {
		return false
	}
	args := ins.Args()
	if len(args) < 2 {
		return false
	}
	for _, src := range args[:len(args)-1] {
		base := path.Base(src)
		ok, _ := path.Match("requirements*.txt", base)
		if !ok {
			ok, _ = path.Match("constraints*.txt", base)
		}
		switch base {
		case "pyproject.toml", "poetry.lock", "Pipfile", "Pipfile.lock", "uv.lock", "pdm.lock":
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}

func firstKey(m map[int]bool) int {
	first := -1
	for k := range m {
		if first < 0 || k < first {
			first = k
		}
	}
	return first
}

// isSmallImage reports whether an image tag already names a slim, alpine
// or distroless variant.
func isSmallImage(ref string) bool {
	r := baseimage.Parse(ref)
	if strings.Contains(r.Name, "distroless") {
		return true
	}
	for _, p := range strings.Split(r.Tag, "-") {
		if p == "slim" || strings.HasPrefix(p, "alpine") {
			return true
		}
	}
	return false
}

// installers are what a virtualenv gets to install packages and what the
// running app almost never imports: pip, setuptools (Python 3.11 and older
// put it in every virtualenv) and wheel. They are removed in the order
// that leaves pip, which does the removing, for last.
var installers = []string{"wheel", "setuptools", "pip"}

// leanVenv returns the builder's RUN that removes the installers from the
// virtualenv once the last install is done (before chunk handoff), so that
// the runtime receives only what the app imports, and the installers it
// removes for the summary; "" when the app needs them all or harden cannot
// tell.
//
// Each one goes only when `pip show` lists no installed package that
// requires it: some still declare setuptools for pkg_resources at run time
// (zope.interface), and pip itself has no uninstall that checks. pip show
// has printed Required-by since pip 10, and the line is its last; output
// that does not end in an empty Required-by (an older pip, a package
// that requires it) keeps the package. That holds whichever pip the
// virtualenv has, unlike `python -m venv --without-pip` with the
// builder's own `pip --python` (pip 22.3 and later, and every pip call
// rewritten) or pip install --target (no virtualenv, no console scripts).
func (s *splitter) leanVenv(lastInstall int, venv string) (string, string) {
	if s.p.Context == nil {
		return "", "" // the app's imports cannot be read
	}
	drop := slices.Clone(installers)
	keep := func(names ...string) {
		drop = slices.DeleteFunc(drop, func(d string) bool { return slices.Contains(names, d) })
	}
	// Named in the requirements: the app wants them installed.
	names, _ := s.dependencies("pip")
	keep(names...)
	for _, c := range s.chunks[lastInstall+1:] {
		switch c.ins.Keyword {
		case "run", "cmd", "entrypoint", "healthcheck":
			if runsInstaller().MatchString(c.ins.Node.Original) {
				keep("pip", "setuptools", "wheel") // it runs pip after the install
			}
		}
	}
	for mod := range pythonImportsOf(s.p.Context) {
		switch mod {
		case "pip", "wheel":
			keep(mod)
		case "setuptools", "pkg_resources", "distutils":
			keep("setuptools") // distutils is setuptools' from Python 3.12
		}
	}
	if slices.Contains(drop, "pip") {
		model := s.p.runModel(s.st, detect.Image(s.ref))
		if slices.Contains(model.Programs, "pip") {
			keep("pip")
		}
	}
	if len(drop) == 0 {
		return "", ""
	}
	pip := path.Join(venv, "bin", "pip")
	style := s.f.Style
	loop := "for tool in " + strings.Join(drop, " ") + "; do" + style.Continuation() +
		`case "$(` + pip + ` show "$tool" 2>/dev/null)" in *"Required-by: ") ` + pip + ` uninstall -y "$tool" ;; esac;` +
		style.Continuation() + "done"
	return style.Instruction("RUN", loop), joinAnd(drop)
}

// runsInstaller finds pip (pip3, pip3.12) or easy_install in a command.
var runsInstaller = lazyre.New(`\b(?:pip[0-9.]*|easy_install)\b`)

// installerImport finds imports of the packaging tools in Python source.
var installerImport = lazyre.New(`(?m)^[ \t]*(?:import|from)[ \t]+(pip|setuptools|pkg_resources|wheel|distutils)\b`)

// pythonImportsOf lists which packaging tools the context's Python code
// imports, read once per context: the app's code, its tests and scripts
// alike, leaving out dependency and cache folders.
func pythonImportsOf(ctx *buildctx.Context) map[string]bool {
	return ctx.Memo("transform.pythonInstallerImports", func() any {
		found := map[string]bool{}
		files := 0
		_ = fs.WalkDir(ctx.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				switch d.Name() {
				case "node_modules", ".git", "venv", ".venv", "site-packages", "__pycache__", ".tox", ".nox":
					return fs.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".py") || ctx.Ignored(p) {
				return nil
			}
			if files++; files > maxPythonScan {
				return fs.SkipAll
			}
			data, err := ctx.ReadHead(p, 256<<10)
			if err != nil {
				return nil
			}
			for _, m := range installerImport().FindAllSubmatch(data, -1) {
				found[string(m[1])] = true
			}
			return nil
		})
		return found
	}).(map[string]bool)
}

// maxPythonScan bounds the files read for imports.
const maxPythonScan = 2000

package detect

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/harden-dev/harden/internal/lazyre"
)

// pythonFrameworks in order of precedence: a Django project that also
// pulls in Flask for a helper is a Django project.
var pythonFrameworks = []string{"django", "fastapi", "flask", "starlette", "quart", "sanic", "aiohttp", "tornado", "streamlit"}

// pythonServers are production servers, in order of precedence.
var pythonServers = []string{"gunicorn", "uvicorn", "hypercorn", "daphne", "waitress", "granian"}

// asgiFrameworks are served by an ASGI server.
var asgiFrameworks = map[string]bool{"fastapi": true, "starlette": true, "quart": true, "sanic": true}

// pythonDefaultPorts are where each framework's usual server listens.
var pythonDefaultPorts = sync.OnceValue(func() map[string]int {
	return map[string]int{"django": 8000, "fastapi": 8000, "starlette": 8000, "flask": 5000, "quart": 5000, "sanic": 8000, "streamlit": 8501, "aiohttp": 8080, "tornado": 8888}
})

// pythonLockfiles name the package manager that writes them.
var pythonLockfiles = []struct{ file, pm string }{
	{"uv.lock", "uv"}, {"poetry.lock", "poetry"}, {"pdm.lock", "pdm"}, {"Pipfile.lock", "pipenv"}, {"pylock.toml", "pip"},
}

// pyDeps collects dependency names (normalised as PEP 503 says) and where
// each was found. Line 0 with a needle means "look the line up if this
// dependency becomes evidence": most never do, and a search per
// dependency would be quadratic in a long manifest.
type pyDeps map[string]pyDep

type pyDep struct {
	file   string
	line   int
	needle string
}

// at returns the dependency's place, finding its line when needed.
func (d pyDep) at(s *scan) (string, int) {
	if d.line == 0 && d.needle != "" {
		return d.file, lineOf(s.read(d.file), d.needle)
	}
	return d.file, d.line
}

var pep503 = lazyre.New(`[-_.]+`)

func pyName(name string) string { return strings.ToLower(pep503().ReplaceAllString(name, "-")) }

// requirementName is the distribution name at the start of a PEP 508
// requirement ("fastapi[all]>=0.110; python_version>'3.8'").
var requirementName = lazyre.New(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

func (deps pyDeps) addRequirement(req, file string, line int) {
	if m := requirementName().FindStringSubmatch(req); m != nil {
		if _, ok := deps[pyName(m[1])]; !ok {
			needle := ""
			if line == 0 {
				needle = req
			}
			deps[pyName(m[1])] = pyDep{file: file, line: line, needle: needle}
		}
	}
}

func detectPython(a *app, dir string) *hit {
	s := a.scan
	h := &hit{}
	py := &PythonFacts{}
	deps := pyDeps{}
	tools := map[string]bool{}

	if p := join(dir, "pyproject.toml"); s.exists(p) {
		h.manifest = true
		py.Manifest = p
		h.add(4, p, 0, "pyproject.toml describes a Python project")
		doc := s.tomlTable(p)
		data := s.read(p)
		for _, req := range strs(doc, "project", "dependencies") {
			deps.addRequirement(req, p, 0)
		}
		for _, group := range table(doc, "project", "optional-dependencies") {
			for _, req := range stringList(group) {
				deps.addRequirement(req, p, 0)
			}
		}
		poetryDeps := table(doc, "tool", "poetry", "dependencies")
		for name := range poetryDeps {
			if name != "python" {
				deps.addRequirement(name, p, 0)
			}
		}
		if rp := str(doc, "project", "requires-python"); rp != "" {
			h.claim(claim("python", rp, p, lineOfKey(data, "requires-python"), rankManifest, "requires-python"))
		}
		if pv, ok := poetryDeps["python"].(string); ok {
			h.claim(claim("python", pv, p, lineOfKey(data, "python"), rankManifest, "[tool.poetry.dependencies]"))
		}
		py.BuildBackend = str(doc, "build-system", "build-backend")
		for _, tool := range []string{"uv", "poetry", "pdm", "hatch"} {
			if table(doc, "tool", tool) != nil {
				tools[tool] = true
			}
		}
		switch {
		case strings.HasPrefix(py.BuildBackend, "poetry"):
			tools["poetry"] = true
		case strings.HasPrefix(py.BuildBackend, "pdm"):
			tools["pdm"] = true
		case strings.HasPrefix(py.BuildBackend, "hatchling"):
			tools["hatch"] = true
		}
		if scripts := table(doc, "project", "scripts"); len(scripts) > 0 && h.entry == nil {
			names := sortedKeys(scripts)
			h.entry = &Entrypoint{Kind: EntryCommand, Value: names[0]}
			h.add(1, p, lineOf(data, "[project.scripts]"), "[project.scripts] installs the command "+names[0])
		}
	}
	reqs := s.glob(dir, "requirements*.txt")
	sort.SliceStable(reqs, func(i, j int) bool {
		return path.Base(reqs[i]) == "requirements.txt" && path.Base(reqs[j]) != "requirements.txt"
	})
	reqs = append(reqs, s.glob(join(dir, "requirements"), "*.txt")...)
	for _, p := range reqs {
		py.Requirements = append(py.Requirements, p)
		s.requirements(p, deps, 0, map[string]bool{})
	}
	if len(reqs) > 0 {
		if !h.manifest {
			h.add(4, reqs[0], 0, "requirements file lists Python packages")
		}
		h.manifest = true
	}
	if p := join(dir, "Pipfile"); s.exists(p) {
		doc := s.tomlTable(p)
		data := s.read(p)
		for _, section := range []string{"packages", "dev-packages"} {
			for name := range table(doc, section) {
				deps.addRequirement(name, p, 0)
			}
		}
		for _, key := range []string{"python_full_version", "python_version"} {
			if v := str(doc, "requires", key); v != "" {
				h.claim(claim("python", v, p, lineOfKey(data, key), rankManifest, "Pipfile [requires]"))
				break
			}
		}
		tools["pipenv"] = true
		if !h.manifest {
			py.Manifest = p
			h.add(4, p, 0, "Pipfile lists Python packages for pipenv")
		}
		h.manifest = true
	}
	for _, name := range []string{"setup.py", "setup.cfg"} {
		p := join(dir, name)
		if !s.exists(p) {
			continue
		}
		if !h.manifest {
			py.Manifest = p
			h.add(4, p, 0, name+" packages a Python project")
		}
		h.manifest = true
		data := s.read(p)
		for _, fw := range append(append([]string{}, pythonFrameworks...), pythonServers...) {
			if n := lineOf(data, `"`+fw); n > 0 {
				deps[fw] = pyDep{file: p, line: n}
			} else if n := lineOf(data, "'"+fw); n > 0 {
				deps[fw] = pyDep{file: p, line: n}
			}
		}
	}

	// Lockfiles, then tool tables, name the package manager.
	var locks []string
	for _, lf := range pythonLockfiles {
		p := join(dir, lf.file)
		if !s.exists(p) {
			continue
		}
		locks = append(locks, p)
		if py.Lockfile == "" {
			py.Lockfile, h.pm, h.pinned = p, lf.pm, true
			h.add(2, p, 0, fmt.Sprintf("%s pins the dependencies for %s", lf.file, lf.pm))
		}
	}
	if len(locks) > 1 {
		h.conflicts = append(h.conflicts, fmt.Sprintf("several Python lockfiles (%s); used %s", strings.Join(locks, ", "), locks[0]))
	}
	if h.pm == "" {
		for _, tool := range []string{"uv", "poetry", "pdm", "pipenv", "hatch"} {
			if tools[tool] {
				h.pm = tool
				break
			}
		}
	}
	if h.pm == "" && h.manifest {
		h.pm = "pip"
	}

	// Version pins.
	for _, c := range []func() (versionClaim, bool){
		func() (versionClaim, bool) { return s.pinFileClaim(join(dir, ".python-version"), "python", nil) },
		func() (versionClaim, bool) {
			return s.pinFileClaim(join(dir, "runtime.txt"), "python", func(t string) string { return strings.TrimPrefix(t, "python-") })
		},
		func() (versionClaim, bool) { return s.toolVersions(dir, "python") },
	} {
		if vc, ok := c(); ok {
			h.claim(vc, true)
			h.pinned = true
			h.score++
		}
	}

	if !h.manifest {
		// Loose scripts: a folder of .py files with an obvious entry.
		for _, name := range []string{"main.py", "app.py", "manage.py", "wsgi.py", "server.py"} {
			if p := join(dir, name); s.exists(p) {
				h.add(2, p, 0, "a Python script at the top of the folder")
				break
			}
		}
		if h.score == 0 && len(h.claims) == 0 {
			return nil
		}
	}

	for _, fw := range pythonFrameworks {
		if dep, ok := deps[fw]; ok {
			file, line := dep.at(s)
			h.framework = fw
			h.add(2, file, line, "depends on "+fw)
			break
		}
	}
	for _, srv := range pythonServers {
		if dep, ok := deps[srv]; ok {
			file, line := dep.at(s)
			py.Server = srv
			h.evidence = append(h.evidence, Evidence{File: file, Line: line, Why: "depends on the " + srv + " server"})
			break
		}
	}
	a.pythonEntry(h, py, dir)
	if l, why, ok := s.procfileWeb(dir); ok && l.eco == Python {
		applyPythonLaunch(py, h, l)
		h.evidence = append(h.evidence, why)
	}
	py.Interface = pythonInterface(h.framework, py.Server)
	if h.port == 0 {
		h.port = pythonPort(h.framework, py.Server)
	}
	h.facts = func(r *Result) { r.Python = py }
	return h
}

// requirements reads a pip requirements file, following -r includes
// inside the context (-c constraints files only pin, they add nothing).
func (s *scan) requirements(p string, deps pyDeps, depth int, seen map[string]bool) {
	if seen[p] || depth > 4 {
		return
	}
	seen[p] = true
	data := s.read(p)
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		parts := []string{lines[i]}
		for strings.HasSuffix(parts[len(parts)-1], "\\") && i+1 < len(lines) {
			parts[len(parts)-1] = strings.TrimSuffix(parts[len(parts)-1], "\\")
			i++
			parts = append(parts, lines[i])
		}
		line := strings.Join(parts, "")
		if j := strings.Index(line, " #"); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "-r ") || strings.HasPrefix(line, "--requirement"):
			inc := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(line, "-r "), "--requirement="), "--requirement "))
			s.requirements(join(path.Dir(p), inc), deps, depth+1, seen)
		case strings.HasPrefix(line, "-"):
			if m := eggName().FindStringSubmatch(line); m != nil {
				deps.addRequirement(m[1], p, n)
			}
		default:
			deps.addRequirement(line, p, n)
		}
	}
}

var eggName = lazyre.New(`#egg=([A-Za-z0-9._-]+)`)

var (
	// appAssign finds `app = FastAPI(` and `application: Flask = Flask(`.
	appAssign  = lazyre.New(`(?m)^(\w+)\s*(?::\s*[\w.\[\]]+\s*)?=\s*(?:[\w]+\.)?(Flask|FastAPI|Starlette|Quart|Sanic|create_app|make_app)\(`)
	appFactory = lazyre.New(`(?m)^def (create_app|make_app)\(`)
	runPort    = lazyre.New(`\.run\([^)]*\bport\s*=\s*(\d{2,5})`)
	mainGuard  = lazyre.New(`(?m)^if __name__ == ['"]__main__['"]`)
	settingsIn = lazyre.New(`DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]`)
)

// preferredPyFiles are looked at first for the application object.
var preferredPyFiles = []string{"main.py", "app.py", "wsgi.py", "asgi.py", "server.py", "application.py", "api.py", "run.py", "app/main.py", "app/__init__.py", "app/app.py", "src/main.py", "src/app.py", "api/main.py"}

// pythonEntry finds what a server would import: Django's wsgi/asgi module
// or the module that creates a Flask/FastAPI/Starlette application.
func (a *app) pythonEntry(h *hit, py *PythonFacts, dir string) {
	s := a.scan
	if p := join(dir, "manage.py"); s.exists(p) {
		data, _ := s.sniff(p)
		if h.framework == "" {
			h.framework = "django"
			h.add(2, p, 0, "manage.py runs a Django project")
		}
		if m := settingsIn().FindSubmatch(data); m != nil {
			py.Settings = string(m[1])
			pkg, _, _ := strings.Cut(py.Settings, ".")
			iface := "wsgi"
			if py.Server == "uvicorn" || py.Server == "daphne" || py.Server == "hypercorn" {
				iface = "asgi"
			}
			mod := join(join(dir, pkg), iface+".py")
			if s.exists(mod) {
				py.App = pkg + "." + iface + ":application"
				h.entry = &Entrypoint{Kind: EntryModule, Value: py.App}
				h.add(1, mod, 0, fmt.Sprintf("Django's %s application for settings %s", strings.ToUpper(iface), py.Settings))
			}
		}
		return
	}
	if h.framework == "django" {
		return
	}
	candidates := []string{}
	for _, f := range preferredPyFiles {
		if p := join(dir, f); s.exists(p) {
			candidates = append(candidates, p)
		}
	}
	for _, p := range s.under(dir, 3) {
		if strings.HasSuffix(p, ".py") && !strings.Contains(p, "test") && !containsString(candidates, p) && len(candidates) < 60 {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		data, ok := s.sniff(p)
		if !ok {
			break
		}
		m := appAssign().FindSubmatch(data)
		f := appFactory().FindSubmatch(data)
		if m == nil && f == nil {
			continue
		}
		mod := pyModule(rel(dir, p))
		line := 0
		attr := ""
		if m != nil {
			attr = string(m[1])
			line = lineAt(data, appAssign().FindIndex(data)[0])
			if fw := strings.ToLower(string(m[2])); h.framework == "" && !strings.HasSuffix(fw, "_app") {
				h.framework = fw
			}
		} else {
			attr = string(f[1]) + "()"
			line = lineAt(data, appFactory().FindIndex(data)[0])
		}
		py.App = mod + ":" + attr
		h.entry = &Entrypoint{Kind: EntryModule, Value: py.App}
		h.add(1, p, line, "creates the application object "+py.App)
		if pm := runPort().FindSubmatch(data); pm != nil {
			h.port = portOf(string(pm[1]))
			h.evidence = append(h.evidence, Evidence{File: p, Line: lineAt(data, runPort().FindIndex(data)[0]), Why: "the application runs on port " + string(pm[1])})
		}
		return
	}
	for _, name := range []string{"main.py", "app.py", "server.py", "run.py"} {
		p := join(dir, name)
		data, _ := s.sniff(p)
		if loc := mainGuard().FindIndex(data); loc != nil {
			h.entry = &Entrypoint{Kind: EntryScript, Value: name}
			h.add(1, p, lineAt(data, loc[0]), name+" runs as a script")
			return
		}
	}
}

// pyModule turns a file path into the module a server imports; the src/
// layout installs its packages, so src/ is not part of the name.
func pyModule(p string) string {
	p = strings.TrimSuffix(strings.TrimPrefix(p, "src/"), ".py")
	p = strings.TrimSuffix(p, "/__init__")
	return strings.ReplaceAll(p, "/", ".")
}

func pythonInterface(framework, server string) string {
	switch {
	case server == "uvicorn" || server == "hypercorn" || server == "daphne":
		return "asgi"
	case asgiFrameworks[framework]:
		return "asgi"
	case server == "gunicorn" || server == "waitress" || framework == "django" || framework == "flask":
		return "wsgi"
	}
	return ""
}

func pythonPort(framework, server string) int {
	if p, ok := serverDefaultPorts[server]; ok {
		return p
	}
	return pythonDefaultPorts()[framework]
}

func applyPythonLaunch(py *PythonFacts, h *hit, l launch) {
	if l.server != "" {
		py.Server = l.server
	}
	if l.entry != nil {
		h.entry = l.entry
		if l.entry.Kind == EntryModule && l.server != "" {
			py.App = l.entry.Value
		}
	}
	if l.framework != "" && h.framework == "" {
		h.framework = l.framework
	}
	if l.port > 0 {
		h.port = l.port
	}
}

// refinePython adds what the Dockerfile says: the server it starts and
// whether it installs into a virtual environment.
func refinePython(a *app, r *Result) {
	if r.Python == nil {
		r.Python = &PythonFacts{}
	}
	py, d := r.Python, a.df
	if d.venv != nil {
		py.Venv = true
		r.Evidence = append(r.Evidence, *d.venv)
	}
	l := d.launch
	if d.hasLaunch && l.eco == Python {
		if l.server != "" {
			py.Server = l.server
			if l.entry != nil && l.entry.Kind == EntryModule {
				py.App = l.entry.Value
			}
		}
		if r.Framework == "" && l.framework != "" {
			r.Framework = l.framework
		}
	}
	if d.hasLaunch && l.eco == Python && l.asgi {
		py.Interface = "asgi"
	} else if iface := pythonInterface(r.Framework, py.Server); iface != "" {
		py.Interface = iface
	}
	if r.Port == 0 {
		r.Port = pythonPort(r.Framework, py.Server)
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

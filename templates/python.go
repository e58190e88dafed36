package templates

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/internal/lazyre"
)

// Python is what the Python templates need.
type Python struct {
	// Requirements is the requirements file pip installs (python/pip);
	// empty when pip installs the project itself, or nothing.
	Requirements string
	// Project is set when the builder installs from the project's own
	// metadata: poetry and uv from pyproject.toml, pip from pyproject.toml,
	// setup.py or setup.cfg when there is no requirements file.
	Project bool
	// Lockfile is poetry.lock or uv.lock, empty when the project has none.
	Lockfile string
	// Server is the production server the command runs: gunicorn for WSGI
	// apps, uvicorn for ASGI ones; empty for a plain script.
	Server string
	// App is the WSGI or ASGI application ("app.main:app").
	App string
}

// Installs reports whether the builder has anything to install.
func (py *Python) Installs() bool { return py.Requirements != "" || py.Project }

// pythonServerFor picks the production server for an application
// interface when the project does not depend on one yet.
var pythonServerFor = map[string]string{"wsgi": "gunicorn", "asgi": "uvicorn"}

// pythonDefaultApps are the applications a framework's tutorials name,
// used when detection found none.
var pythonDefaultApps = map[string]string{"flask": "app:app", "fastapi": "main:app", "starlette": "main:app", "quart": "app:app"}

func fillPython(a *App, p *project) error {
	py := &Python{}
	a.Python = py
	facts := p.facts.Python
	if facts == nil {
		facts = &detect.PythonFacts{}
	}
	switch p.variant {
	case "python/pip", "python/poetry", "python/uv":
		a.PackageManager = strings.TrimPrefix(p.variant, "python/")
	}
	switch a.PackageManager {
	case "", "pip", "hatch", "pdm":
		// hatch and pdm projects are standard pyproject.toml projects,
		// which pip installs; their lockfiles are not read.
		a.Variant, a.PackageManager = "python/pip", "pip"
	case "poetry", "uv":
		a.Variant = "python/" + a.PackageManager
	default:
		return fmt.Errorf("harden has no Python template for %s; pass --package-manager pip, poetry or uv", a.PackageManager)
	}

	switch a.Variant {
	case "python/pip":
		py.Requirements = mainRequirements(facts.Requirements)
		switch {
		case py.Requirements != "":
			a.Manifests = requirementFiles(p, py.Requirements)
		case p.exists("pyproject.toml") || p.exists("setup.py") || p.exists("setup.cfg"):
			py.Project = true
		default:
			// pip cannot install a folder that is not a package ("Directory
			// '/src' is not installable"): a script that uses only the
			// standard library, or Debian's packages, needs no pip at all.
			a.note("there is no requirements.txt or pyproject.toml, so the image installs no Python packages; add one and run harden new --force to install them")
		}
	case "python/poetry":
		py.Project = true
		py.Lockfile = lockfileIf(p, "poetry.lock")
		a.Manifests = append([]string{"pyproject.toml"}, nonEmpty(py.Lockfile)...)
		if v := poetryLockVersion(p.read("poetry.lock")); v != "" {
			a.Versions["poetry"] = v
		}
	case "python/uv":
		py.Project = true
		py.Lockfile = lockfileIf(p, "uv.lock")
		a.Manifests = append([]string{"pyproject.toml"}, nonEmpty(py.Lockfile)...)
	}
	var iface string
	if py.Lockfile == "" && a.Variant != "python/pip" {
		a.note("there is no lockfile for %s: the image installs whatever versions resolve on the day it is built; commit one", a.PackageManager)
	}

	py.App, py.Server, iface = pythonEntry(a, p, facts)
	if a.Port == 0 {
		a.Port = 8000
	}
	if py.Server != "" {
		a.Command = pythonServers[py.Server](py.App, strconv.Itoa(a.Port), iface)
	}
	return nil
}

// pythonServers build the command of each production server harden knows,
// listening on all interfaces so that the published port reaches it.
var pythonServers = map[string]func(app, port, iface string) []string{
	"gunicorn": func(app, port, iface string) []string { return []string{"gunicorn", "--bind", "0.0.0.0:" + port, app} },
	"uvicorn": func(app, port, iface string) []string {
		return []string{"uvicorn", app, "--host", "0.0.0.0", "--port", port}
	},
	"hypercorn": func(app, port, iface string) []string { return []string{"hypercorn", "--bind", "0.0.0.0:" + port, app} },
	"daphne": func(app, port, iface string) []string {
		return []string{"daphne", "--bind", "0.0.0.0", "--port", port, app}
	},
	"waitress": func(app, port, iface string) []string {
		return []string{"waitress-serve", "--listen=0.0.0.0:" + port, app}
	},
	"granian": func(app, port, iface string) []string {
		return []string{"granian", "--interface", iface, "--host", "0.0.0.0", "--port", port, app}
	},
}

// pythonEntry decides what runs: a server with an application, a script,
// or a console command, and sets Command for the last two.
func pythonEntry(a *App, p *project, facts *detect.PythonFacts) (app, server, iface string) {
	entry := p.entryValue(detect.EntryModule, detect.EntryScript, detect.EntryCommand)
	if p.entry == "" && facts.App != "" {
		entry = facts.App
	}
	iface = facts.Interface
	if iface == "" {
		iface = "wsgi"
		if a.Framework == "fastapi" || a.Framework == "starlette" || a.Framework == "quart" || a.Framework == "sanic" {
			iface = "asgi"
		}
	}
	switch {
	case strings.HasSuffix(entry, ".py"):
		a.Command = []string{"python", entry}
		return "", "", iface
	case entry != "" && !strings.Contains(entry, ":"):
		a.Command = strings.Fields(entry)
		return "", "", iface
	case entry == "":
		if a.Framework == "django" {
			entry = "config.wsgi:application"
			a.note("harden could not find the Django project's wsgi.py: the command serves %s, change it to your project's module", entry)
		} else if def, ok := pythonDefaultApps[a.Framework]; ok {
			entry = def
			a.note("harden could not find the %s application: the command serves %s, change it or pass --entrypoint", a.Framework, entry)
		} else {
			a.Command = []string{"python", "main.py"}
			a.note("harden could not tell how the app starts: the command runs main.py; pass --entrypoint module:app or a script")
			return "", "", iface
		}
	}
	server = facts.Server
	if _, known := pythonServers[server]; !known {
		server = pythonServerFor[iface]
		a.note("the project does not depend on %s, which the command runs: add it to your dependencies", server)
	}
	return entry, server, iface
}

// devRequirements name requirement lists an image never installs.
var devRequirements = lazyre.New(`(?i)(dev|test|lint|doc)`)

// mainRequirements picks the requirements file an image installs: the
// top-level requirements.txt, else a production one, never a dev or test
// list.
func mainRequirements(files []string) string {
	for _, want := range []string{"requirements.txt", "requirements/prod.txt", "requirements/production.txt", "requirements/base.txt"} {
		for _, f := range files {
			if f == want {
				return f
			}
		}
	}
	for _, f := range files {
		if !devRequirements().MatchString(path.Base(f)) {
			return f
		}
	}
	return ""
}

// requirementFiles lists a requirements file and the files it includes
// with -r or -c, so the builder copies everything pip reads.
func requirementFiles(p *project, name string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(string, int)
	walk = func(f string, depth int) {
		if seen[f] || depth > 5 {
			return
		}
		seen[f] = true
		out = append(out, f)
		sc := bufio.NewScanner(bytes.NewReader(p.read(f)))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 {
				continue
			}
			switch fields[0] {
			case "-r", "--requirement", "-c", "--constraint":
				if inc, ok := cleanRel(path.Join(path.Dir(f), fields[1])); ok && p.exists(inc) {
					walk(inc, depth+1)
				}
			}
		}
	}
	walk(name, 0)
	return out
}

// poetryLockHeader names the Poetry version that wrote a lockfile.
var poetryLockHeader = lazyre.New(`@generated by Poetry ([0-9]+\.[0-9]+\.[0-9]+)`)

func poetryLockVersion(data []byte) string {
	if m := poetryLockHeader().FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

func lockfileIf(p *project, name string) string {
	if p.exists(name) {
		return name
	}
	return ""
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

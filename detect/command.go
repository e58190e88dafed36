package detect

import (
	"path"
	"strconv"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/internal/lazyre"
)

// programs maps the programs found in RUN, CMD and ENTRYPOINT (and
// Procfiles) to the ecosystem they belong to.
var programs = sync.OnceValue(func() map[string]Ecosystem {
	return map[string]Ecosystem{
		"pip": Python, "pip3": Python, "python": Python, "python3": Python, "poetry": Python,
		"pipenv": Python, "uv": Python, "pdm": Python, "hatch": Python, "gunicorn": Python,
		"uvicorn": Python, "hypercorn": Python, "daphne": Python, "waitress-serve": Python,
		"granian": Python, "flask": Python, "django-admin": Python, "celery": Python,
		"npm": Node, "npx": Node, "yarn": Node, "pnpm": Node, "bun": Node, "node": Node,
		"corepack": Node, "next": Node, "nest": Node, "pm2": Node, "pm2-runtime": Node,
		"go":  Go,
		"mvn": Java, "mvnw": Java, "gradle": Java, "gradlew": Java, "java": Java, "jlink": Java,
		"bundle": Ruby, "bundler": Ruby, "gem": Ruby, "rails": Ruby, "rake": Ruby, "ruby": Ruby,
		"puma": Ruby, "unicorn": Ruby, "rackup": Ruby, "passenger": Ruby,
		"cargo": Rust, "rustup": Rust, "rustc": Rust,
		"composer": PHP, "php": PHP, "php-fpm": PHP, "apache2-foreground": PHP, "frankenphp": PHP,
		"docker-php-ext-install": PHP, "docker-php-ext-enable": PHP, "docker-php-ext-configure": PHP,
		"pecl":   PHP,
		"dotnet": DotNet,
		"nginx":  Static, "httpd": Static, "httpd-foreground": Static, "caddy": Static,
	}
})

// programName is a command word's program name: its base name, with
// version suffixes folded ("python3.12" and "pip3.12" are python and pip).
func programName(word string) string {
	name := path.Base(word)
	switch {
	case pythonVersioned().MatchString(name):
		return "python"
	case pipVersioned().MatchString(name):
		return "pip"
	}
	return name
}

var (
	pythonVersioned = lazyre.New(`^python[0-9.]*$`)
	pipVersioned    = lazyre.New(`^pip[0-9.]*$`)
)

// packageManagers names the package manager a build command uses.
var packageManagers = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"pip": "pip", "poetry": "poetry", "pipenv": "pipenv", "uv": "uv", "pdm": "pdm", "hatch": "hatch",
		"npm": "npm", "yarn": "yarn", "pnpm": "pnpm", "bun": "bun",
		"mvn": "maven", "mvnw": "maven", "gradle": "gradle", "gradlew": "gradle",
		"bundle": "bundler", "bundler": "bundler", "cargo": "cargo", "composer": "composer",
		"dotnet": "nuget", "go": "go",
	}
})

// launch is what a start command says about the application.
type launch struct {
	program string
	eco     Ecosystem
	entry   *Entrypoint
	port    int
	server  string // gunicorn, uvicorn, puma, fpm, apache, nginx, ...
	// portSet is set when the command chooses the port, even through a
	// variable ($PORT) harden cannot read.
	portSet   bool
	framework string // django (manage.py runserver), flask (flask run), rails, next
	asgi      bool
}

// runWrappers start the command in their arguments.
var runWrappers = sync.OnceValue(func() map[string]int {
	return map[string]int{
		// name: words of its own to skip after it
		"exec": 0, "dumb-init": 0, "tini": 0, "--": 0, "nohup": 0, "catatonit": 0,
		"gosu": 1, "su-exec": 1, "setpriv": 0, "chpst": 0,
	}
})

// runnerPrefixes run the command after them inside the project's
// environment ("poetry run gunicorn ...", "bundle exec puma").
var runnerPrefixes = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"poetry": "run", "uv": "run", "pipenv": "run", "pdm": "run", "hatch": "run",
		"bundle": "exec", "npx": "", "pnpx": "", "bunx": "",
	}
})

// readLaunch reads a start command given as words.
func readLaunch(words []string) launch {
	var l launch
	w := skipWrappers(words)
	if len(w) == 0 {
		return l
	}
	prog := programName(w[0])
	if sub, ok := runnerPrefixes()[prog]; ok && len(w) > 1 && (sub == "" || w[1] == sub) {
		skip := 2
		if sub == "" {
			skip = 1
		}
		if len(w) > skip {
			inner := readLaunch(w[skip:])
			if inner.eco == "" {
				inner.eco = programs()[prog]
			}
			if inner.entry != nil {
				inner.entry.Command = words
			}
			return inner
		}
	}
	if prog == "sh" || prog == "bash" || prog == "ash" || prog == "dash" {
		if len(w) >= 3 && w[1] == "-c" {
			inner := readLaunchShell(w[2])
			if inner.entry != nil {
				inner.entry.Command = words
			}
			return inner
		}
		if len(w) >= 2 {
			l.program = prog
			l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " "), Command: words}
		}
		return l
	}
	l.program, l.eco = prog, programs()[prog]
	args := w[1:]
	switch prog {
	case "python":
		l.python(args)
	case "gunicorn", "uvicorn", "hypercorn", "daphne", "waitress-serve", "granian":
		l.pythonServer(prog, args)
	case "flask":
		l.framework = "flask"
		l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " ")}
		l.port = portFlag(args, "--port", "-p")
		if l.port == 0 && hasWord(args, "run") {
			l.port = 5000
		}
	case "node":
		if script := firstPositional(args, "-r", "--require", "--import", "--loader"); script != "" {
			l.entry = &Entrypoint{Kind: EntryScript, Value: script}
		}
	case "npm", "yarn", "pnpm", "bun":
		l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " ")}
		if prog == "bun" && len(args) > 0 && !strings.HasPrefix(args[0], "-") && args[0] != "run" && (strings.HasSuffix(args[0], ".js") || strings.HasSuffix(args[0], ".ts")) {
			l.entry = &Entrypoint{Kind: EntryScript, Value: args[0]}
		}
	case "next":
		l.framework = "next"
		l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " ")}
		l.port = portFlag(args, "--port", "-p")
	case "java":
		l.java(args)
	case "dotnet":
		if len(args) > 0 && strings.HasSuffix(args[0], ".dll") {
			l.entry = &Entrypoint{Kind: EntryAssembly, Value: path.Base(args[0])}
		}
	case "rails":
		if hasWord(args, "server") || hasWord(args, "s") {
			l.framework, l.server = "rails", "puma"
			l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " ")}
			l.port = portFlag(args, "--port", "-p")
		}
	case "puma", "unicorn", "rackup", "thin", "falcon", "passenger":
		l.server = prog
		if prog == "rackup" {
			l.server = ""
		}
		l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " ")}
		l.port = portFlag(args, "--port", "-p", "--bind", "-b")
	case "php-fpm":
		l.server = "fpm"
	case "apache2-foreground":
		l.server = "apache"
	case "frankenphp":
		l.server = "frankenphp"
	case "php":
		l.php(args)
	case "nginx", "httpd", "httpd-foreground", "caddy":
		l.server = strings.TrimSuffix(prog, "-foreground")
	default:
		if strings.HasPrefix(w[0], "/") || strings.HasPrefix(w[0], "./") {
			if strings.HasSuffix(w[0], ".sh") {
				l.entry = &Entrypoint{Kind: EntryCommand, Value: strings.Join(w, " ")}
			} else {
				l.entry = &Entrypoint{Kind: EntryBinary, Value: w[0]}
			}
		}
	}
	if l.entry != nil && l.entry.Command == nil {
		l.entry.Command = words
	}
	return l
}

func skipWrappers(words []string) []string {
	for len(words) > 0 {
		name := path.Base(words[0])
		if name == "env" {
			words = words[1:]
			for len(words) > 0 && (strings.Contains(words[0], "=") || strings.HasPrefix(words[0], "-")) {
				words = words[1:]
			}
			continue
		}
		n, ok := runWrappers()[name]
		if !ok {
			return words
		}
		words = words[1:]
		for len(words) > 0 && strings.HasPrefix(words[0], "-") && words[0] != "--" {
			words = words[1:]
		}
		if len(words) > 0 && words[0] == "--" {
			words = words[1:]
		}
		words = words[min(n, len(words)):]
	}
	return words
}

// readLaunchShell reads a shell-form start command: the last simple
// command that names something harden knows is the one that stays
// running ("python manage.py migrate && gunicorn ...").
func readLaunchShell(script string) launch {
	file, err := syntax.NewParser().Parse(strings.NewReader(script), "")
	if err != nil {
		return launch{}
	}
	var best launch
	syntax.Walk(file, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok {
			return true
		}
		var words []string
		for _, w := range call.Args {
			lit := w.Lit()
			if lit == "" {
				// A word with quotes or expansions: keep its literal text
				// when it has no expansions.
				if v, ok := plainWord(w); ok {
					lit = v
				} else {
					lit = "$"
				}
			}
			words = append(words, lit)
		}
		if l := readLaunch(words); l.eco != "" || l.entry != nil || l.server != "" {
			best = l
		}
		return true
	})
	if best.entry != nil {
		// A shell command has no exec form to report.
		best.entry.Command = nil
	}
	return best
}

// plainWord returns a shell word's value when it has quotes but no
// expansions.
func plainWord(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(lit.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// pythonOptsWithValue are the interpreter options that take a value.
var pythonOptsWithValue = map[string]bool{"-X": true, "-W": true, "-c": true}

func (l *launch) python(args []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-m" && i+1 < len(args):
			mod := args[i+1]
			if _, ok := programs()[mod]; ok && mod != "python" && mod != "pip" {
				inner := readLaunch(append([]string{mod}, args[i+2:]...))
				inner.program = "python"
				if inner.entry != nil {
					inner.entry.Command = nil // readLaunch fills in the whole command
				}
				*l = inner
				return
			}
			l.entry = &Entrypoint{Kind: EntryModule, Value: mod}
			return
		case pythonOptsWithValue[a]:
			i++
		case strings.HasPrefix(a, "-"):
		default:
			l.entry = &Entrypoint{Kind: EntryScript, Value: a}
			if path.Base(a) == "manage.py" {
				l.framework = "django"
				if hasWord(args[i+1:], "runserver") {
					l.port = 8000
					for _, b := range args[i+1:] {
						if p := portOf(b); p > 0 && !strings.HasPrefix(b, "-") {
							l.port = p
						}
					}
				}
			}
			return
		}
	}
}

// serverOptsWithValue are the options of Python servers that take a
// value, so that their values are not taken for the application.
var serverOptsWithValue = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"-b": true, "--bind": true, "-w": true, "--workers": true, "-k": true, "--worker-class": true,
		"-c": true, "--config": true, "--chdir": true, "-t": true, "--timeout": true, "--threads": true,
		"--log-level": true, "--access-logfile": true, "--error-logfile": true, "-e": true, "--env": true,
		"--pythonpath": true, "--host": true, "--port": true, "-p": true, "--uds": true, "--fd": true,
		"--root-path": true, "--app-dir": true, "--log-config": true, "--workers-kill-timeout": true,
		"--forwarded-allow-ips": true, "--proxy-headers-ip": true, "--interface": true, "--listen": true,
		"--keep-alive": true, "--graceful-timeout": true, "--max-requests": true, "--limit-concurrency": true,
		"-u": true, "--user": true, "-g": true, "--group": true, "--name": true, "-n": true,
	}
})

var appObject = lazyre.New(`^[A-Za-z_][\w.]*(:[\w.()'"=, ]+)?$`)

func (l *launch) pythonServer(prog string, args []string) {
	l.server = prog
	if prog == "waitress-serve" {
		l.server = "waitress"
	}
	l.asgi = prog == "uvicorn" || prog == "hypercorn" || prog == "daphne" || prog == "granian" && hasWord(args, "asgi")
	var app string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case strings.HasPrefix(a, "-") && hasVal:
			l.serverOpt(name, val)
		case serverOptsWithValue()[a] && i+1 < len(args):
			l.serverOpt(a, args[i+1])
			i++
		case strings.HasPrefix(a, "-"):
		case app == "" && appObject().MatchString(a):
			app = a
		}
	}
	if app != "" {
		l.entry = &Entrypoint{Kind: EntryModule, Value: app}
	}
	if !l.portSet {
		l.port = serverDefaultPorts[l.server]
	}
}

// serverDefaultPorts are the ports Python servers bind without options.
var serverDefaultPorts = map[string]int{"gunicorn": 8000, "uvicorn": 8000, "hypercorn": 8000, "daphne": 8000, "waitress": 8080, "granian": 8000}

func (l *launch) serverOpt(name, val string) {
	switch name {
	case "-b", "--bind", "--port", "-p", "--listen":
		l.portSet = true
		if p := portOf(val); p > 0 {
			l.port = p
		}
	case "-k", "--worker-class":
		if strings.Contains(strings.ToLower(val), "uvicorn") {
			l.asgi = true
		}
	case "--interface":
		l.asgi = strings.HasPrefix(val, "asgi")
	}
}

func (l *launch) java(args []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-jar" && i+1 < len(args):
			l.entry = &Entrypoint{Kind: EntryJar, Value: args[i+1]}
			return
		case strings.HasPrefix(a, "-Dserver.port="):
			l.port = portOf(strings.TrimPrefix(a, "-Dserver.port="))
		case a == "-cp" || a == "-classpath" || a == "--class-path":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			l.entry = &Entrypoint{Kind: EntryCommand, Value: "java " + strings.Join(args, " ")}
			return
		}
	}
}

func (l *launch) php(args []string) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-S" && i+1 < len(args):
			l.server = "builtin"
			l.port = portOf(args[i+1])
			i++
		case a == "artisan" && hasWord(args[i:], "serve"):
			l.server, l.framework = "builtin", "laravel"
			if l.port = portFlag(args, "--port"); l.port == 0 {
				l.port = 8000
			}
		}
	}
}

// portFlag reads a port from the first of the given options.
func portFlag(args []string, flags ...string) int {
	for i, a := range args {
		for _, f := range flags {
			if a == f && i+1 < len(args) {
				return portOf(args[i+1])
			}
			if v, ok := strings.CutPrefix(a, f+"="); ok && strings.HasPrefix(f, "--") {
				return portOf(v)
			}
		}
	}
	return 0
}

// portOf reads "8000", ":8000", "0.0.0.0:8000", "tcp://0.0.0.0:8000".
func portOf(s string) int {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/tcp"), "/udp")
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

func hasWord(args []string, w string) bool {
	for _, a := range args {
		if a == w {
			return true
		}
	}
	return false
}

// firstPositional returns the first argument that is not an option,
// skipping the values of the given options.
func firstPositional(args []string, valued ...string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if hasWord(valued, a) {
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// procfileWeb reads the web process of a Procfile (Heroku, Dokku, foreman).
func (s *scan) procfileWeb(dir string) (launch, Evidence, bool) {
	p := join(dir, "Procfile")
	if !s.exists(p) {
		return launch{}, Evidence{}, false
	}
	for i, line := range strings.Split(string(s.read(p)), "\n") {
		name, cmd, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "web" {
			continue
		}
		l := readLaunchShell(strings.TrimSpace(cmd))
		if l.eco == "" && l.entry == nil {
			return launch{}, Evidence{}, false
		}
		return l, Evidence{File: p, Line: i + 1, Why: "the Procfile's web process runs " + strings.TrimSpace(cmd)}, true
	}
	return launch{}, Evidence{}, false
}

package runmodel

import (
	"encoding/json"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/dockerfile"
)

// maxDepth bounds how far the model follows scripts that run other
// scripts or package.json scripts.
const maxDepth = 4

// startWords are the exec words the container starts with: ENTRYPOINT then
// CMD, a shell form wrapped in /bin/sh -c as Docker does.
func (s *stageState) startWords() (entry, cmd []string) {
	words := func(ins *dockerfile.Instruction) []string {
		if ins == nil {
			return nil
		}
		args := ins.Args()
		if ins.IsJSON() {
			return args
		}
		return []string{"/bin/sh", "-c", strings.Join(args, " ")}
	}
	entry, cmd = words(s.entry), words(s.cmd)
	if s.entry != nil && !s.entry.IsJSON() {
		cmd = nil // a shell-form ENTRYPOINT ignores CMD
	}
	return entry, cmd
}

// runner follows a start command through wrappers, shells, scripts and
// package.json scripts, recording in the model what each step needs.
type runner struct {
	a *analysis
	// cmd are the CMD words, for an entrypoint script's exec "$@".
	cmd []string
}

// wrappers start the command that follows their own options.
var wrappers = map[string]bool{
	"exec": true, "tini": true, "dumb-init": true, "nohup": true, "catatonit": true, "time": true, "nice": true, "chpst": false,
}

// interpreters keep caches, history or settings in HOME, or run code that
// may: the home must exist when one of them runs the app.
var homeUsers = map[string]string{
	"python": "Python", "node": "Node.js", "ruby": "Ruby", "java": "the JVM", "perl": "Perl", "deno": "Deno",
	"bun": "Bun", "dotnet": ".NET", "npm": "npm", "npx": "npx", "yarn": "Yarn", "pnpm": "pnpm", "pip": "pip", "poetry": "Poetry",
	"pipenv": "Pipenv", "uv": "uv", "bundle": "Bundler", "rails": "Rails", "rake": "Rake", "streamlit": "Streamlit",
	"jupyter": "Jupyter", "git": "git", "R": "R", "Rscript": "R", "gradio": "Gradio", "celery": "Celery",
	"gunicorn": "Python", "uvicorn": "Python", "hypercorn": "Python", "daphne": "Python", "flask": "Python",
	"waitress-serve": "Python", "granian": "Python", "puma": "Ruby", "unicorn": "Ruby", "rackup": "Ruby", "sidekiq": "Ruby",
	"next": "Node.js", "nest": "Node.js", "nodemon": "Node.js", "pm2": "Node.js", "pm2-runtime": "Node.js", "ng": "Node.js",
	"vite": "Node.js", "nuxt": "Node.js", "ts-node": "Node.js", "tsx": "Node.js", "composer": "Composer", "mvn": "Maven",
	"gradle": "Gradle", "mvnw": "Maven", "gradlew": "Gradle", "cargo": "Cargo", "go": "the go command",
}

// programOf folds versioned names: python3.12 is python, pip3 is pip.
func programOf(word string) string {
	name := path.Base(word)
	switch {
	case strings.HasPrefix(name, "python") && strings.Trim(name[len("python"):], "0123456789.") == "":
		return "python"
	case strings.HasPrefix(name, "pip") && strings.Trim(name[len("pip"):], "0123456789.") == "":
		return "pip"
	case strings.HasPrefix(name, "php") && strings.Trim(name[len("php"):], "0123456789.") == "":
		return "php"
	case strings.HasPrefix(name, "php-fpm"):
		return "php-fpm"
	}
	return name
}

// follow reads one command given as words.
func (r *runner) follow(words []string, at Evidence, depth int) {
	if depth > maxDepth || len(words) == 0 {
		return
	}
	// Leading NAME=value words and env's options.
	for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
		words = words[1:]
	}
	if len(words) == 0 {
		return
	}
	prog := programOf(words[0])
	args := words[1:]
	a := r.a
	switch {
	case prog == "env":
		i := 0
		for i < len(args) && (strings.HasPrefix(args[i], "-") || strings.Contains(args[i], "=")) {
			i++
		}
		r.follow(args[i:], at, depth)
		return
	case wrappers[prog]:
		i := 0
		for i < len(args) && strings.HasPrefix(args[i], "-") {
			if args[i] == "--" {
				i++
				break
			}
			i++
		}
		r.follow(args[i:], at, depth)
		return
	case prog == "gosu" || prog == "su-exec" || prog == "s6-setuidgid" || prog == "runuser" || prog == "setpriv" ||
		prog == "su" || prog == "setuidgid" || prog == "chroot" && hasPrefixArg(args, "--userspec"):
		a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: prog, Setting: "the user " + prog + " switches to", Why: at})
		return
	case prog == "sh" || prog == "bash" || prog == "ash" || prog == "dash" || prog == "zsh":
		for i := 0; i < len(args); i++ {
			switch {
			case args[i] == "-c" && i+1 < len(args):
				r.shellText(args[i+1], at, depth+1)
				return
			case strings.HasPrefix(args[i], "-"):
			default:
				r.scriptAs(args[i], args[i+1:], at, depth+1, true)
				return
			}
		}
		return
	}
	if scripts, ok := passThroughEntrypoints[repoName(a.in.Image.Ref)]; ok && scripts[words[0]] {
		if _, copied := a.contextFile(a.onPath(path.Base(words[0]))); !copied {
			r.follow(args, at, depth) // the base image's script runs its arguments
			return
		}
	}
	if strings.Contains(words[0], "/") || strings.HasSuffix(words[0], ".sh") {
		// A script or program of the app: shell scripts are read, other
		// programs remembered.
		r.script(words[0], args, at, depth+1)
		a.programArgs(programOf(words[0]), args, at)
		return
	}
	a.program(prog, at)
	a.programArgs(prog, args, at)
	switch prog {
	case "npm", "yarn", "pnpm", "bun":
		if name := packageScriptName(prog, args); name != "" {
			r.packageScript(name, at, depth+1)
		}
		return
	case "poetry", "pipenv", "pdm", "hatch", "uv":
		if len(args) > 1 && args[0] == "run" {
			r.follow(args[1:], at, depth)
		}
		return
	case "bundle":
		if len(args) > 1 && args[0] == "exec" {
			r.follow(args[1:], at, depth)
		}
		return
	case "npx", "pnpx", "bunx":
		r.follow(skipOptions(args), at, depth)
		return
	case "python":
		r.python(args, at)
		return
	case "node", "ts-node", "tsx", "ruby", "php", "perl", "deno":
		if script := firstOperand(args); script != "" && !strings.HasPrefix(script, "-") {
			a.sourceEntry(script)
		}
		return
	}
}

func hasPrefixArg(args []string, p string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return false
}

func skipOptions(args []string) []string {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			return args[i:]
		}
	}
	return nil
}

func firstOperand(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-r" || a == "--require" || a == "--import" || a == "--loader" || a == "-I" || a == "-e" || a == "-c":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

// python reads `python [options] script|-m module args`.
func (r *runner) python(args []string, at Evidence) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-m" && i+1 < len(args):
			mod := args[i+1]
			r.a.program(mod, at) // gunicorn, uvicorn, streamlit, http.server, ...
			r.a.programArgs(mod, args[i+2:], at)
			r.a.sourceEntry(strings.ReplaceAll(mod, ".", "/") + ".py")
			return
		case a == "-c":
			return
		case strings.HasPrefix(a, "-"):
		default:
			r.a.sourceEntry(a)
			if path.Base(a) == "manage.py" && i+1 < len(args) {
				r.a.djangoCommand(args[i+1:], at)
			}
			return
		}
	}
}

// packageScriptName is the package.json script npm, yarn, pnpm or bun runs.
func packageScriptName(prog string, args []string) string {
	args = skipOptions(args)
	if len(args) == 0 {
		return ""
	}
	switch args[0] {
	case "start", "test", "stop", "restart":
		return args[0]
	case "run", "run-script":
		if rest := skipOptions(args[1:]); len(rest) > 0 {
			return rest[0]
		}
		return ""
	}
	if prog == "yarn" || prog == "pnpm" || prog == "bun" {
		return args[0] // yarn dev runs the dev script
	}
	return ""
}

// packageScript follows a package.json script of the app.
func (r *runner) packageScript(name string, at Evidence, depth int) {
	a := r.a
	file := a.packageJSON()
	if file == "" {
		return
	}
	data, err := a.read(file)
	if err != nil {
		return
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
		Main    string            `json:"main"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return
	}
	text, ok := pkg.Scripts[name]
	if !ok {
		if name == "start" {
			main := pkg.Main
			if main == "" {
				main = "server.js" // npm start's default when server.js exists
			}
			a.sourceEntry(main)
		}
		return
	}
	ev := Evidence{File: file, Why: "the " + name + " script runs " + text}
	if pre, ok := pkg.Scripts["pre"+name]; ok {
		r.shellText(pre, Evidence{File: file, Why: "the pre" + name + " script runs " + pre}, depth)
	}
	r.shellText(text, ev, depth)
}

// shellText follows a command line given as shell code.
func (r *runner) shellText(text string, at Evidence, depth int) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(text), "")
	if err != nil {
		r.a.m.unknown(Evidence{File: at.File, Line: at.Line, Why: "harden cannot read the shell command " + quoteShort(text)})
		return
	}
	sc := &scriptReader{a: r.a, r: r, file: at.File, line: at.Line, vars: map[string]string{}, wd: r.a.st.workdir, depth: depth, inline: true}
	sc.walk(f)
}

// script follows a script the command names: a path in the image that
// the build copies from the context.
func (r *runner) script(name string, args []string, at Evidence, depth int) {
	r.scriptAs(name, args, at, depth, false)
}

// scriptAs is script; forcedScript is set when a shell runs the file, so it
// is a script whatever its name.
func (r *runner) scriptAs(name string, args []string, at Evidence, depth int, forcedScript bool) {
	a := r.a
	img := a.st.abs(name)
	if !strings.Contains(name, "/") {
		img = a.onPath(name)
	}
	if strings.Contains(name, "$") {
		a.m.unknown(Evidence{File: at.File, Line: at.Line, Why: "the start command runs " + name + ", a path computed at run time"})
		return
	}
	src, ok := a.contextFile(img)
	if !ok {
		// Only a shell script must be read: a program (the app's binary,
		// or one the base image ships) writes what its sources say,
		// which the source scan reads.
		if !forcedScript && !strings.HasSuffix(name, ".sh") {
			a.program(programOf(name), at)
			return
		}
		switch {
		case a.in.Context == nil:
			a.m.unknown(Evidence{File: at.File, Line: at.Line, Why: "the start command runs the script " + img + ", and without a build context harden cannot read it"})
		case a.madeByRun(img):
			a.m.unknown(Evidence{File: at.File, Line: at.Line, Why: "the start command runs the script " + img + ", which the build writes, so harden cannot read it"})
		default:
			a.m.unknown(Evidence{File: at.File, Line: at.Line, Why: "the start command runs the script " + img + ", which is not in the build context (it comes from the base image or another stage), so harden cannot read it"})
		}
		return
	}
	data, err := a.read(src)
	if err != nil {
		a.m.unknown(Evidence{File: src, Why: "harden could not read it: " + err.Error()})
		return
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if strings.HasPrefix(first, "#!") && !shellShebang(first) {
		// A script in another language: the interpreter on its first line.
		interp := strings.Fields(strings.TrimPrefix(first, "#!"))
		if len(interp) > 0 {
			prog := programOf(interp[0])
			if prog == "env" && len(interp) > 1 {
				prog = programOf(interp[1])
			}
			a.program(prog, Evidence{File: src, Line: 1, Why: "the script runs with " + prog})
			a.sourceFile(src)
		}
		return
	}
	if !strings.HasPrefix(first, "#!") && !strings.HasSuffix(src, ".sh") {
		a.program(path.Base(img), at) // a binary of the app
		return
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(false)).Parse(strings.NewReader(string(data)), src)
	if err != nil {
		a.m.unknown(Evidence{File: src, Why: "harden cannot parse this shell script: " + err.Error()})
		return
	}
	vars := map[string]string{}
	sc := &scriptReader{a: a, r: r, file: src, vars: vars, wd: a.st.workdir, depth: depth, args: args}
	sc.walk(f)
}

// onPath finds where a program name without a folder resolves: the first
// folder of PATH that the build copies it into, else the working
// directory's copy (which only runs when PATH holds "."), else "".
func (a *analysis) onPath(name string) string {
	dirs := a.st.env["PATH"]
	if dirs == "" {
		dirs = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, d := range strings.Split(dirs, ":") {
		if p := path.Join(d, name); a.inImage(p) {
			return p
		}
	}
	return path.Join(a.st.workdir, name)
}

func shellShebang(line string) bool {
	f := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(f) == 0 {
		return false
	}
	p := programOf(f[0])
	if p == "env" && len(f) > 1 {
		p = programOf(f[1])
	}
	switch p {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
		return true
	}
	return false
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return "`" + s + "`"
}

// Package servermode tells whether an image runs its app in production or as a
// development server, from the evidence a rule can see: the start command
// (and the package.json scripts or Procfile line it runs), the environment
// the image or a compose service sets (RAILS_ENV, RACK_ENV, NODE_ENV,
// APP_ENV, FLASK_DEBUG, DJANGO_DEBUG), and the framework's default when
// nothing says (Rails runs in development unless told otherwise).
//
// Rules use it before production-only pruning: a development server needs
// its development dependencies (nodemon, the listen gem), so a rule that
// would remove them keeps them and suggests a production command instead.
package servermode

import (
	"path"
	"strings"
)

// Mode is how an app runs.
type Mode string

const (
	Unknown     Mode = ""
	Production  Mode = "production"
	Development Mode = "development"
)

// Signal is one piece of evidence for a mode.
type Signal struct {
	Mode Mode
	// Why says what was seen ("the command runs nodemon").
	Why string
	// Where names the source ("Dockerfile:9", "docker-compose.yml service web").
	Where string
	// Advice says how to run the app in production instead, for a
	// development signal.
	Advice string
}

func (s Signal) String() string {
	if s.Where == "" {
		return s.Why
	}
	return s.Why + " (" + s.Where + ")"
}

// Run is one way the image is started: a command with the environment it
// sees. The image's own CMD is one; each compose service that runs the
// image with its own command or environment is another.
type Run struct {
	// Command is the exec-form command (ENTRYPOINT and CMD joined); a shell
	// form is one word after "sh", "-c".
	Command []string
	// CommandWhere names where the command comes from.
	CommandWhere string
	// Env is the environment: name to value.
	Env map[string]string
	// EnvWhere names where each variable is set.
	EnvWhere map[string]string
}

// App is what is known about the application itself.
type App struct {
	// Scripts are package.json's scripts, which npm start and npm run use.
	Scripts map[string]string
	// Procfile is the Procfile's web command, which foreman and Heroku-style
	// launchers run.
	Procfile string
	// Rails is set for a Rails app, which runs in development when neither
	// RAILS_ENV nor RACK_ENV is set and the command names no environment.
	Rails bool
}

// Verdict is the mode of an image over all the ways it runs: development
// when any run is a development server, production when every run is
// known to be production, otherwise unknown.
type Verdict struct {
	Mode Mode
	// Signals back the mode: for development, the runs that make it so.
	Signals []Signal
}

// Reason joins the signals for a message.
func (v Verdict) Reason() string {
	var parts []string
	for _, s := range v.Signals {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, "; ")
}

// Decide weighs the runs of an image.
func Decide(app App, runs ...Run) Verdict {
	var dev, prod []Signal
	allProd := len(runs) > 0
	seen := map[string]bool{}
	for _, r := range runs {
		s := runMode(app, r)
		if seen[s.String()] && s.Mode != Unknown {
			continue // a compose service that runs the image as it is
		}
		seen[s.String()] = true
		switch s.Mode {
		case Development:
			dev = append(dev, s)
			allProd = false
		case Production:
			prod = append(prod, s)
		default:
			allProd = false
		}
	}
	switch {
	case len(dev) > 0:
		return Verdict{Mode: Development, Signals: dev}
	case allProd:
		return Verdict{Mode: Production, Signals: prod}
	}
	return Verdict{}
}

// envOrder is the order in which environment variables are weighed.
var envOrder = []string{"RAILS_ENV", "RACK_ENV", "NODE_ENV", "APP_ENV", "FLASK_ENV", "FLASK_DEBUG", "DJANGO_DEBUG"}

// runMode decides one run: the command first (a development server is one
// whatever the environment says; a command that names its environment
// wins), then the environment, then the framework's default.
func runMode(app App, r Run) Signal {
	cmd := Command(r.Command, app)
	if cmd.Mode == Development || cmd.Mode == Production && cmd.explicit {
		return Signal{Mode: cmd.Mode, Why: cmd.why, Where: r.CommandWhere, Advice: cmd.advice}
	}
	rubyEnvSet := false
	for _, name := range envOrder {
		value, ok := r.Env[name]
		if !ok {
			continue
		}
		if name == "RAILS_ENV" || name == "RACK_ENV" {
			rubyEnvSet = true
		}
		if m := Env(name, value); m != Unknown {
			advice := ""
			if m == Development {
				advice = envAdvice(name)
			}
			return Signal{Mode: m, Why: name + "=" + value, Where: r.EnvWhere[name], Advice: advice}
		}
	}
	if cmd.Mode == Production {
		return Signal{Mode: Production, Why: cmd.why, Where: r.CommandWhere}
	}
	if app.Rails && cmd.rails && !rubyEnvSet {
		return Signal{Mode: Development, Why: cmd.why + " with neither RAILS_ENV nor RACK_ENV set, so Rails boots in development", Where: r.CommandWhere, Advice: railsAdvice}
	}
	return Signal{}
}

// Env reads one environment variable.
func Env(name, value string) Mode {
	v := strings.ToLower(strings.Trim(value, `"'`))
	switch name {
	case "RAILS_ENV", "RACK_ENV", "NODE_ENV", "APP_ENV", "FLASK_ENV":
		switch v {
		case "development", "dev", "local":
			return Development
		case "production", "prod":
			return Production
		}
	case "FLASK_DEBUG", "DJANGO_DEBUG":
		switch v {
		case "1", "true", "yes", "on":
			return Development
		}
	}
	return Unknown
}

// commandMode is what a command says.
type commandMode struct {
	Mode Mode
	why  string
	// explicit is set when the command names its environment (rails -e
	// production), which beats the environment variables.
	explicit bool
	// rails is set when the command boots Rails (rails server, puma or
	// unicorn_rails in a Rails app).
	rails bool
	// advice says what to run in production instead.
	advice string
}

const railsAdvice = "set ENV RAILS_ENV=production (with SECRET_KEY_BASE given at run time) or start the server with -e production"

// envAdvice says how to leave development mode set by a variable.
func envAdvice(name string) string {
	switch name {
	case "FLASK_DEBUG", "DJANGO_DEBUG":
		return "leave " + name + " unset in the image and run a production server (gunicorn, uvicorn without --reload)"
	case "RAILS_ENV", "RACK_ENV":
		return railsAdvice
	}
	return "set " + name + "=production"
}

// Command reads a start command, following npm/yarn/pnpm/bun scripts,
// `sh -c` strings, and wrappers such as bundle exec, npx and foreman.
func Command(words []string, app App) commandMode {
	return command(words, app, 0)
}

func command(words []string, app App, depth int) commandMode {
	if depth > 4 || len(words) == 0 {
		return commandMode{}
	}
	// Shells: read the string they run, command by command.
	if isShell(words[0]) {
		for i := 1; i+1 < len(words); i++ {
			if words[i] == "-c" || words[i] == "-ec" || words[i] == "-lc" {
				return shellString(words[i+1], app, depth)
			}
		}
		return commandMode{}
	}
	name := path.Base(words[0])
	args := words[1:]
	if strings.HasSuffix(words[0], "bin/dev") {
		return commandMode{Mode: Development, why: "the command runs bin/dev, Rails' development launcher", advice: railsAdvice}
	}
	switch name {
	case "exec", "env", "dumb-init", "tini", "gosu", "su-exec", "npx", "pnpx", "bunx":
		rest := args
		for len(rest) > 0 && (strings.HasPrefix(rest[0], "-") || strings.Contains(rest[0], "=") || name == "gosu" || name == "su-exec") {
			if (name == "gosu" || name == "su-exec") && !strings.HasPrefix(rest[0], "-") {
				rest = rest[1:] // the user
				break
			}
			rest = rest[1:]
		}
		return command(rest, app, depth+1)
	case "bundle":
		if len(args) > 0 && args[0] == "exec" {
			return command(args[1:], app, depth+1)
		}
	case "npm", "pnpm", "yarn", "bun":
		return packageScript(name, args, app, depth)
	case "foreman", "overmind", "hivemind":
		for i, a := range args {
			if (a == "-f" || a == "--procfile") && i+1 < len(args) && strings.Contains(args[i+1], "dev") {
				return commandMode{Mode: Development, why: "the command runs " + args[i+1], advice: "run the Procfile's production processes"}
			}
		}
		if app.Procfile != "" {
			return shellString(app.Procfile, app, depth+1)
		}
	}
	return program(name, args, app)
}

// packageScript follows `npm start`, `npm run dev`, `yarn dev`...
func packageScript(pm string, args []string, app App, depth int) commandMode {
	if len(args) == 0 {
		return commandMode{}
	}
	script := ""
	switch {
	case args[0] == "start" || args[0] == "test":
		script = args[0]
	case (args[0] == "run" || args[0] == "run-script") && len(args) > 1:
		script = args[1]
	case pm != "npm" && !strings.HasPrefix(args[0], "-"):
		script = args[0] // yarn dev, pnpm dev, bun dev
	}
	if script == "" {
		return commandMode{}
	}
	if body, ok := app.Scripts[script]; ok {
		m := shellString(body, app, depth+1)
		if m.why != "" {
			m.why = "package.json's " + script + " script runs " + body + ": " + m.why
		}
		return m
	}
	switch script {
	case "dev", "develop", "watch", "serve":
		return commandMode{Mode: Development, why: "the command runs the " + script + " script", advice: "run the production start script"}
	}
	return commandMode{}
}

// shellString reads a command line: the first command that says
// something decides (cd and exports do not).
func shellString(s string, app App, depth int) commandMode {
	var last commandMode
	for _, part := range splitCommands(s) {
		words := strings.Fields(part)
		for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
			// VAR=value prefixes set the environment of the command.
			name, value, _ := strings.Cut(words[0], "=")
			if m := Env(name, value); m != Unknown {
				last = commandMode{Mode: m, why: "the command sets " + words[0], explicit: true}
				if m == Development {
					last.advice = envAdvice(name)
				}
			}
			words = words[1:]
		}
		m := command(words, app, depth+1)
		if m.Mode == Development {
			return m
		}
		if m.Mode != Unknown || m.rails {
			last = m
		}
	}
	return last
}

// splitCommands splits a command line at ;, && and ||.
func splitCommands(s string) []string {
	s = strings.NewReplacer("&&", ";", "||", ";", "\n", ";").Replace(s)
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isShell(w string) bool {
	switch path.Base(w) {
	case "sh", "bash", "ash", "dash", "zsh":
		return true
	}
	return false
}

// program reads one program and its arguments.
func program(name string, args []string, app App) commandMode {
	has := func(ws ...string) bool {
		for _, a := range args {
			for _, w := range ws {
				if a == w {
					return true
				}
			}
		}
		return false
	}
	first := ""
	if len(args) > 0 {
		first = args[0]
	}
	dev := func(why, advice string) commandMode {
		return commandMode{Mode: Development, why: "the command runs " + why, advice: advice}
	}
	const nodeAdvice = "build the app and start it with node (or the framework's production start) and NODE_ENV=production"
	const staticAdvice = "build the site and serve the output with a web server"
	switch name {
	// Node.js development servers and watchers.
	case "nodemon", "ts-node-dev", "tsnd", "webpack-dev-server", "next-dev":
		return dev(name, nodeAdvice)
	case "node", "tsx":
		if has("--watch") || name == "tsx" && first == "watch" {
			return dev(name+" in watch mode", nodeAdvice)
		}
	case "nest":
		if first == "start" && (has("--watch", "-w", "--debug", "-d")) {
			return dev("nest start --watch", "run nest build, then node dist/main with NODE_ENV=production")
		}
		if first == "start" {
			return commandMode{Mode: Production, why: "the command runs nest start"}
		}
	case "next", "nuxt", "nuxi", "astro", "remix", "svelte-kit":
		switch first {
		case "dev":
			return dev(name+" dev", "run "+name+" build, then "+name+" start")
		case "start":
			return commandMode{Mode: Production, why: "the command runs " + name + " start"}
		}
	case "ng":
		if first == "serve" || first == "s" {
			return dev("ng serve", staticAdvice)
		}
	case "vite":
		if first == "" || first == "dev" || first == "serve" || strings.HasPrefix(first, "-") {
			return dev("the vite dev server", staticAdvice)
		}
	case "react-scripts":
		if first == "start" {
			return dev("react-scripts start", staticAdvice)
		}
	case "vue-cli-service":
		if first == "serve" {
			return dev("vue-cli-service serve", staticAdvice)
		}
	case "webpack":
		if first == "serve" || has("--watch", "-w") {
			return dev("webpack "+first, staticAdvice)
		}
	case "gatsby":
		if first == "develop" {
			return dev("gatsby develop", staticAdvice)
		}
	case "parcel":
		if first != "build" {
			return dev("the parcel dev server", staticAdvice)
		}
	// Ruby.
	case "rails":
		if first == "server" || first == "s" {
			return rubyEnvFlag("rails server", args, "-e", "--environment")
		}
	case "puma", "unicorn", "unicorn_rails", "thin", "rackup", "falcon":
		m := rubyEnvFlag(name, args, "-e", "--environment", "-E", "--env")
		m.rails = m.rails && (name != "rackup" || app.Rails)
		return m
	// Python.
	case "flask":
		if first == "run" && has("--debug", "--reload") {
			return dev("flask run --debug", "run a production WSGI server such as gunicorn")
		}
	case "uvicorn", "hypercorn", "gunicorn", "granian", "daphne":
		if has("--reload") {
			return dev(name+" --reload", "drop --reload")
		}
		return commandMode{Mode: Production, why: "the command runs " + name}
	case "manage.py":
		if first == "runserver" {
			return dev("manage.py runserver, Django's development server", "run the project's WSGI or ASGI application with gunicorn or uvicorn")
		}
	case "python", "python3":
		if len(args) >= 2 && path.Base(args[0]) == "manage.py" && args[1] == "runserver" {
			return dev("manage.py runserver, Django's development server", "run the project's WSGI or ASGI application with gunicorn or uvicorn")
		}
		if len(args) >= 2 && args[0] == "-m" {
			return program(args[1], args[2:], app)
		}
	}
	if strings.HasPrefix(name, "python") && len(args) >= 2 && args[0] == "-m" {
		return program(args[1], args[2:], app)
	}
	return commandMode{}
}

// rubyEnvFlag reads the environment a Rails or Rack server is told to use.
func rubyEnvFlag(what string, args []string, flags ...string) commandMode {
	for i, a := range args {
		for _, f := range flags {
			value := ""
			switch {
			case a == f && i+1 < len(args):
				value = args[i+1]
			case strings.HasPrefix(a, f+"="):
				value = strings.TrimPrefix(a, f+"=")
			case len(f) == 2 && strings.HasPrefix(a, f) && len(a) > 2:
				value = a[2:] // -edevelopment
			default:
				continue
			}
			switch Env("RAILS_ENV", value) {
			case Development:
				return commandMode{Mode: Development, why: "the command runs " + what + " in development", explicit: true, rails: true, advice: railsAdvice}
			case Production:
				return commandMode{Mode: Production, why: "the command runs " + what + " in production", explicit: true, rails: true}
			}
		}
	}
	return commandMode{why: "the command runs " + what, rails: true}
}

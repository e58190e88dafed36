package runmodel

import (
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// portEnv are environment variables apps and servers read their port from.
var portEnv = []string{"PORT", "APP_PORT", "HTTP_PORT", "SERVER_PORT", "LISTEN_PORT", "WEB_PORT", "FLASK_RUN_PORT",
	"UVICORN_PORT", "NGINX_PORT", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_URLS", "GUNICORN_CMD_ARGS"}

// portFlags are the options that choose a listening port or address.
var portFlags = map[string]bool{"--port": true, "-p": true, "--bind": true, "-b": true, "--listen": true, "-l": true,
	"--http": true, "--http-socket": true, "--server.port": true, "--host-port": true}

// programArgs reads what a program's arguments say about the runtime:
// the port it binds, a user it switches to.
func (a *analysis) programArgs(prog string, args []string, at Evidence) {
	switch prog {
	case "gunicorn", "uwsgi", "celery":
		for i, w := range args {
			if (w == "--user" || w == "-u" || w == "--uid" || w == "--gid" || w == "--group" || w == "-g") && i+1 < len(args) ||
				strings.HasPrefix(w, "--user=") || strings.HasPrefix(w, "--uid=") {
				if prog == "celery" && w == "-u" {
					continue
				}
				a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: prog, Setting: "its " + strings.SplitN(w, "=", 2)[0] + " option",
					Why: Evidence{File: at.File, Line: at.Line, Why: prog + " switches to another user itself, which only root can do"}})
				break
			}
		}
		if prog == "uwsgi" {
			for i, w := range args {
				if (w == "--ini" || w == "--yaml" || w == "--xml") && i+1 < len(args) {
					a.uwsgiConfigArg(args[i+1], at)
				}
				if strings.HasSuffix(w, ".ini") && !strings.HasPrefix(w, "-") {
					a.uwsgiConfigArg(w, at)
				}
			}
		}
	case "supervisord":
		for i, w := range args {
			if (w == "-c" || w == "--configuration") && i+1 < len(args) {
				if src, ok := a.contextFile(a.st.abs(args[i+1])); ok {
					a.sourceConfig(src)
				}
			}
		}
	}
	for i := 0; i < len(args); i++ {
		w := args[i]
		name, val, hasVal := strings.Cut(w, "=")
		if !portFlags[name] {
			if prog == "python" || prog == "http.server" {
				continue
			}
			// runserver 0.0.0.0:80, php -S 0.0.0.0:80
			if i > 0 && (args[i-1] == "runserver" || args[i-1] == "-S") {
				a.flagPort(w, at)
			}
			if strings.HasPrefix(w, "-Dserver.port=") {
				a.flagPort(strings.TrimPrefix(w, "-Dserver.port="), at)
			}
			continue
		}
		if name == "-p" && (prog == "php" || prog == "ssh" || prog == "mkdir") {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
			i++
		}
		a.flagPort(val, at)
	}
	if prog == "http.server" {
		for _, w := range args {
			if n := atoi(w); n > 0 {
				a.m.addPort(Port{Number: n, Setting: "flag", Why: at})
			}
		}
	}
}

// flagPort reads a port from a flag value: 80, :80, 0.0.0.0:80,
// tcp://0.0.0.0:80, $PORT.
func (a *analysis) flagPort(val string, at Evidence) {
	if strings.HasPrefix(val, "unix:") || val == "" {
		return
	}
	v := val
	if i := strings.LastIndex(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	if strings.HasPrefix(v, "$") {
		name := strings.Trim(v, "${}")
		if def, ok := a.st.env[name]; ok {
			if n := atoi(def); n > 0 {
				a.m.addPort(Port{Number: n, Setting: "env " + name, Why: at})
			}
		}
		return
	}
	if n := atoi(v); n > 0 && n < 65536 {
		setting := "flag"
		// A shell command's $PORT arrives expanded: the setting is still
		// the variable.
		for _, name := range portEnv {
			if a.st.env[name] == v && (strings.Contains(at.Why, "$"+name) || strings.Contains(at.Why, "${"+name)) {
				setting = "env " + name
			}
		}
		a.m.addPort(Port{Number: n, Setting: setting, Why: at})
	}
}

func (a *analysis) uwsgiConfigArg(p string, at Evidence) {
	if src, ok := a.contextFile(a.st.abs(p)); ok {
		a.sourceConfig(src)
	} else {
		a.m.Notes = append(a.m.Notes, Evidence{File: at.File, Line: at.Line, Why: "uWSGI reads " + p + ", which is not in the build context"})
	}
}

// sourceConfig marks a config file as read, for serverConfigs.
func (a *analysis) sourceConfig(src string) {
	if !a.seen[src] {
		a.seen[src] = true
	}
}

// ports adds the ports ENV and EXPOSE declare to those the command and
// configurations gave.
func (a *analysis) ports() {
	for _, name := range portEnv {
		val, ok := a.st.env[name]
		if !ok {
			continue
		}
		ins := a.st.envIns[name]
		at := Evidence{File: a.in.File.Name, Why: "ENV " + name + "=" + val}
		if ins != nil {
			at.Line = ins.Line
		}
		switch name {
		case "ASPNETCORE_URLS", "GUNICORN_CMD_ARGS":
			for _, f := range strings.FieldsFunc(val, func(r rune) bool { return r == ';' || r == ' ' || r == ',' }) {
				if i := strings.LastIndex(f, ":"); i >= 0 {
					if n := atoi(strings.TrimRight(f[i+1:], "/")); n > 0 {
						a.m.addPort(Port{Number: n, Setting: "env " + name, Why: at})
					}
				}
			}
		default:
			if n := atoi(val); n > 0 {
				a.m.addPort(Port{Number: n, Setting: "env " + name, Why: at})
			}
		}
	}
	if len(a.m.Ports) == 0 && a.st.entry == nil && a.st.cmd == nil && a.in.Image.Port > 0 {
		a.m.addPort(Port{Number: a.in.Image.Port, Setting: "image", Why: Evidence{Why: a.in.Image.Ref + " listens on port " + itoa(a.in.Image.Port)}})
	}
	for _, p := range a.st.exposed {
		a.m.addPort(p)
	}
}

// djangoCommand reads `manage.py SUBCOMMAND ...`.
func (a *analysis) djangoCommand(args []string, at Evidence) {
	switch args[0] {
	case "runserver":
		port := 8000
		for _, w := range args[1:] {
			if !strings.HasPrefix(w, "-") {
				v := w
				if i := strings.LastIndex(v, ":"); i >= 0 {
					v = v[i+1:]
				}
				if n := atoi(v); n > 0 {
					port = n
				}
			}
		}
		a.m.addPort(Port{Number: port, Setting: "flag", Why: at})
	}
}

// envInstruction remembers which ENV set a variable, for evidence.
func (s *stageState) noteEnv(ins *dockerfile.Instruction, name string) {
	if s.envIns == nil {
		s.envIns = map[string]*dockerfile.Instruction{}
	}
	s.envIns[name] = ins
}

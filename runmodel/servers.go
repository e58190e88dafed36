package runmodel

import (
	"path"
	"slices"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// Servers that start as root and switch to their own user (Apache with
// APACHE_RUN_USER, php-fpm pools, uWSGI with uid=, supervisord programs
// with user=, stock nginx), and the ports servers are configured to bind.

// serverPrograms start as root and drop privileges by their own setting.
var serverPrograms = map[string]string{
	"apache2-foreground": "APACHE_RUN_USER and APACHE_RUN_GROUP (Apache's envvars)",
	"apache2ctl":         "APACHE_RUN_USER and APACHE_RUN_GROUP (Apache's envvars)",
	"apachectl":          "the User and Group directives of httpd.conf",
	"httpd-foreground":   "the User and Group directives of httpd.conf",
	"httpd":              "the User and Group directives of httpd.conf",
	"php-fpm":            "the user and group settings of the php-fpm pool (www.conf)",
	"nginx":              "the user directive of nginx.conf",
}

// serverPorts are the ports these servers bind unless configured.
var serverPorts = map[string]int{"apache2-foreground": 80, "apache2ctl": 80, "apachectl": 80, "httpd-foreground": 80, "httpd": 80, "nginx": 80}

var (
	uwsgiUID      = lazyre.New(`(?m)^\s*(?:uid|gid)\s*[=:]\s*(\S+)`)
	uwsgiHTTP     = lazyre.New(`(?m)^\s*(?:http|http-socket|https|socket|uwsgi-socket)\s*[=:]\s*\S*:(\d+)`)
	supervisorUsr = lazyre.New(`(?m)^\s*user\s*=\s*(\S+)`)
	nginxListen   = lazyre.New(`(?m)^\s*listen\s+(?:[^\s;:]+:)?(\d+)`)
	nginxUser     = lazyre.New(`(?m)^\s*user\s+(\S+?)\s*;`)
	apacheListen  = lazyre.New(`(?mi)^\s*Listen\s+(?:\S+:)?(\d+)`)
	fpmUser       = lazyre.New(`(?m)^\s*user\s*=\s*(\S+)`)
	gunicornUser  = lazyre.New(`(?m)^\s*user\s*=\s*['"]?([^'"\s]+)`)
	gunicornBind  = lazyre.New(`(?m)^\s*bind\s*=\s*\[?\s*['"][^'"]*:(\d+)['"]`)
)

// serverConfigs reads the server configuration files the build copies
// into the image, and the servers the start command runs.
func (a *analysis) serverConfigs() {
	a.readServerConfigs()
	for _, p := range a.m.Programs {
		setting, ok := serverPrograms[p]
		if !ok {
			continue
		}
		if p == "nginx" && a.unprivilegedNginx() {
			continue
		}
		if p == "php-fpm" && !a.fpmDrops() {
			continue
		}
		a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: p, Setting: setting, Why: Evidence{Why: p + " starts as root and switches its workers to another user"}})
		if port, ok := serverPorts[p]; ok && !a.configuresPort() {
			a.m.addPort(Port{Number: port, Setting: "config", Why: Evidence{Why: p + " listens on port " + itoa(port) + " unless configured otherwise"}})
		}
	}
}

// readServerConfigs reads the configuration files the build copies.
func (a *analysis) readServerConfigs() {
	if a.in.Context == nil {
		return
	}
	for _, f := range a.copiedConfigs() {
		data, err := a.read(f)
		if err != nil {
			continue
		}
		text := string(data)
		base := path.Base(f)
		switch {
		case strings.HasPrefix(base, "uwsgi") || strings.HasSuffix(base, ".ini") && strings.Contains(text, "[uwsgi]"):
			if m := uwsgiUID().FindStringSubmatchIndex(text); m != nil && strings.Contains(text, "[uwsgi]") {
				a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: "uwsgi", Setting: "uid and gid in " + f,
					Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "uWSGI switches to " + text[m[2]:m[3]] + " itself and fails to start when it is not root"}})
			}
			for _, m := range uwsgiHTTP().FindAllStringSubmatchIndex(text, -1) {
				a.m.addPort(Port{Number: atoi(text[m[2]:m[3]]), Setting: "config", Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "uWSGI listens on port " + text[m[2]:m[3]]}})
			}
		case strings.Contains(base, "supervisor") || strings.Contains(text, "[supervisord]"):
			if m := supervisorUsr().FindStringSubmatchIndex(text); m != nil && !rootUser(text[m[2]:m[3]]) {
				a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: "supervisord", Setting: "user= in " + f,
					Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "supervisord starts as root and runs programs as " + text[m[2]:m[3]]}})
			}
		case strings.HasSuffix(base, ".conf") && (strings.Contains(text, "server {") || strings.Contains(text, "http {")):
			for _, m := range nginxListen().FindAllStringSubmatchIndex(text, -1) {
				a.m.addPort(Port{Number: atoi(text[m[2]:m[3]]), Setting: "config", Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "nginx listens on port " + text[m[2]:m[3]]}})
			}
			if m := nginxUser().FindStringSubmatchIndex(text); m != nil {
				a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: "nginx", Setting: "the user directive in " + f,
					Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "nginx starts as root and runs its workers as " + text[m[2]:m[3]]}})
			}
		case strings.HasSuffix(base, ".conf") && (strings.Contains(text, "<VirtualHost") || apacheListen().MatchString(text)):
			for _, m := range apacheListen().FindAllStringSubmatchIndex(text, -1) {
				a.m.addPort(Port{Number: atoi(text[m[2]:m[3]]), Setting: "config", Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "Apache listens on port " + text[m[2]:m[3]]}})
			}
		case base == "gunicorn.conf.py" || base == "gunicorn_config.py" || base == "gunicorn.py":
			if m := gunicornUser().FindStringSubmatchIndex(text); m != nil {
				a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: "gunicorn", Setting: "user in " + f,
					Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "gunicorn switches its workers to " + text[m[2]:m[3]] + ", which only root can do"}})
			}
			if m := gunicornBind().FindStringSubmatchIndex(text); m != nil {
				a.m.addPort(Port{Number: atoi(text[m[2]:m[3]]), Setting: "config", Why: Evidence{File: f, Line: lineOf(text, m[0]), Why: "gunicorn binds port " + text[m[2]:m[3]]}})
			}
		}
	}
}

// copiedConfigs lists configuration files the build copies into the image,
// and those the start command names.
func (a *analysis) copiedConfigs() []string {
	var out []string
	for _, p := range contextListing(a.in.Context).configs {
		if _, copied := a.imagePath(p); copied || a.seen[p] {
			out = append(out, p)
		}
	}
	for p := range a.seen {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// unprivilegedNginx reports whether the image is nginx's unprivileged
// variant, which runs as uid 101 on port 8080 already.
func (a *analysis) unprivilegedNginx() bool {
	return strings.Contains(a.in.Image.Ref, "nginx-unprivileged") || a.in.Image.User != nil && a.in.Image.Runtime == "nginx"
}

// fpmDrops reports whether php-fpm's pool switches users: the official
// images' www.conf does (user = www-data), unless the context replaces it
// without a user setting.
func (a *analysis) fpmDrops() bool {
	if a.in.Context == nil {
		return true
	}
	found := false
	drops := true
	for _, f := range a.copiedConfigs() {
		if !strings.HasSuffix(f, ".conf") {
			continue
		}
		data, err := a.read(f)
		if err != nil || !strings.Contains(string(data), "pm =") && !strings.Contains(string(data), "pm=") {
			continue
		}
		found = true
		if fpmUser().Match(data) {
			return true
		}
		drops = false
	}
	return !found || drops
}

// configuresPort reports whether a copied config sets the server's port.
func (a *analysis) configuresPort() bool {
	for _, p := range a.m.Ports {
		if p.Setting == "config" && p.Why.File != "" {
			return true
		}
	}
	return false
}

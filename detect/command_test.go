package detect

import (
	"strings"
	"testing"
)

func TestReadLaunch(t *testing.T) {
	cases := []struct {
		words              string // exec form, space-separated; "sh: ..." for shell form
		eco                Ecosystem
		entry, server      string
		port               int
		asgi               bool
		command, framework string
	}{
		{words: "gunicorn -b 0.0.0.0:8000 --workers 3 app:app", eco: Python, entry: "module app:app", server: "gunicorn", port: 8000},
		{words: "gunicorn app:create_app() -k uvicorn.workers.UvicornWorker", eco: Python, entry: "module app:create_app()", server: "gunicorn", port: 8000, asgi: true},
		{words: "uvicorn main:app --host 0.0.0.0 --port 8080", eco: Python, entry: "module main:app", server: "uvicorn", port: 8080, asgi: true},
		{words: "python -m uvicorn main:app", eco: Python, entry: "module main:app", server: "uvicorn", port: 8000, asgi: true, command: "python -m uvicorn main:app"},
		{words: "poetry run gunicorn proj.wsgi", eco: Python, entry: "module proj.wsgi", server: "gunicorn", port: 8000, command: "poetry run gunicorn proj.wsgi"},
		{words: "python manage.py runserver 0.0.0.0:9000", eco: Python, entry: "script manage.py", port: 9000, framework: "django"},
		{words: "python3.12 -u worker.py", eco: Python, entry: "script worker.py"},
		{words: "python -m myapp.cli serve", eco: Python, entry: "module myapp.cli"},
		{words: "flask run --host 0.0.0.0", eco: Python, entry: "command flask run --host 0.0.0.0", port: 5000, framework: "flask"},
		{words: "waitress-serve --port=8081 app:app", eco: Python, entry: "module app:app", server: "waitress", port: 8081},
		{words: "sh: python manage.py migrate && exec gunicorn proj.wsgi -b :$PORT", eco: Python, entry: "module proj.wsgi", server: "gunicorn"},
		{words: "node --require ./otel.js dist/server.js", eco: Node, entry: "script dist/server.js"},
		{words: "npm run start:prod", eco: Node, entry: "command npm run start:prod"},
		{words: "next start -p 4000", eco: Node, entry: "command next start -p 4000", port: 4000, framework: "next"},
		{words: "java -Dserver.port=9090 -jar /app/app.jar", eco: Java, entry: "jar /app/app.jar", port: 9090},
		{words: "dotnet /app/Api.dll", eco: DotNet, entry: "assembly Api.dll"},
		{words: "tini -- bundle exec puma -C config/puma.rb", eco: Ruby, entry: "command puma -C config/puma.rb", server: "puma", command: "tini -- bundle exec puma -C config/puma.rb"},
		{words: "rails server -b 0.0.0.0 -p 3001", eco: Ruby, entry: "command rails server -b 0.0.0.0 -p 3001", server: "puma", port: 3001, framework: "rails"},
		{words: "php -S 0.0.0.0:8000 -t public", eco: PHP, server: "builtin", port: 8000},
		{words: "php-fpm", eco: PHP, server: "fpm"},
		{words: "nginx -g daemon off;", eco: Static, server: "nginx"},
		{words: "/docker-entrypoint.sh", entry: "command /docker-entrypoint.sh"},
		{words: "/app/server --listen :8080", entry: "binary /app/server"},
		{words: "env GOMAXPROCS=2 ./api", entry: "binary ./api"},
		{words: "sh -c exec uvicorn api:app --port 7000", eco: Python, entry: "module api:app", server: "uvicorn", port: 7000, asgi: true},
		{words: "make run"},
	}
	for _, c := range cases {
		t.Run(c.words, func(t *testing.T) {
			var l launch
			if script, ok := strings.CutPrefix(c.words, "sh: "); ok {
				l = readLaunchShell(script)
			} else if rest, ok := strings.CutPrefix(c.words, "sh -c "); ok {
				l = readLaunch([]string{"sh", "-c", rest})
			} else {
				l = readLaunch(strings.Fields(c.words))
			}
			entry := ""
			if l.entry != nil {
				entry = string(l.entry.Kind) + " " + l.entry.Value
			}
			is(t, "ecosystem", l.eco, c.eco)
			is(t, "entry", entry, c.entry)
			is(t, "server", l.server, c.server)
			is(t, "port", l.port, c.port)
			is(t, "asgi", l.asgi, c.asgi)
			is(t, "framework", l.framework, c.framework)
			if c.command != "" {
				is(t, "command", strings.Join(l.entry.Command, " "), c.command)
			}
		})
	}
}

func TestPortOf(t *testing.T) {
	for in, want := range map[string]int{
		"8000": 8000, ":8000": 8000, "0.0.0.0:8000": 8000, "tcp://0.0.0.0:3000": 3000, "8080/tcp": 8080,
		"[::]:9000": 9000, "unix:/tmp/sock": 0, "$PORT": 0, "0": 0, "70000": 0, "": 0,
	} {
		is(t, in, portOf(in), want)
	}
}

package bktest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// realClient connects to the environment with realistic bases.
func realClient(t *testing.T) *build.Client {
	t.Helper()
	env := bktest.StartReal(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// smokeHTTP starts the image and requires an HTTP answer on its port.
func smokeHTTP(t *testing.T, res *build.Result) *smoke.Report {
	t.Helper()
	img, err := res.Image()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := smoke.Run(context.Background(), img, smoke.Options{HTTPPath: "/", Run: 2 * time.Second, Timeout: 30 * time.Second, Grace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// notesApp is a small real service: at start it creates its SQLite
// database in the working directory and a state file under $HOME, as
// Django's default settings and many CLIs do, and only then listens, so an
// HTTP answer proves both writes worked.
const notesApp = `import json
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

db = sqlite3.connect("data.db")
db.execute("CREATE TABLE IF NOT EXISTS starts (pid INTEGER)")
db.execute("INSERT INTO starts VALUES (?)", (os.getpid(),))
db.commit()
(Path.home() / ".appstate").write_text(json.dumps({"pid": os.getpid()}))


class Notes(BaseHTTPRequestHandler):
    def do_GET(self):
        (starts,) = db.execute("SELECT count(*) FROM starts").fetchone()
        body = json.dumps({"starts": starts, "home": str(Path.home())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Notes).serve_forever()
`

// The harness tells a non-root image whose user cannot write what the app
// writes from one that works: a real python3 on the realistic
// python:3.11-slim, started by the smoke runner as the image's user.
func TestRealPythonAppNeedsWritableWorkdirAndHome(t *testing.T) {
	c := realClient(t)
	dir := writeFiles(t, map[string]string{"app.py": notesApp})
	cases := []struct {
		name string
		user string // RUN lines that make the user
		pass bool
		// why is what the app says when it cannot write.
		why string
	}{
		{"no writable working directory or home",
			"RUN useradd --uid 10001 --no-create-home --home-dir /home/app app",
			false, "unable to open database file"},
		{"working directory but no home",
			"RUN useradd --uid 10001 --no-create-home --home-dir /home/app app && chown app:app /app",
			false, "No such file or directory: '/home/app/.appstate'"},
		{"owns its working directory and home",
			"RUN useradd --uid 10001 --create-home --home-dir /home/app app && chown app:app /app",
			true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			res := buildDir(t, c, "notes", fmt.Sprintf(`FROM python:3.11-slim
WORKDIR /app
COPY app.py .
%s
USER app
ENV PORT=%d
EXPOSE %d
CMD ["python", "app.py"]
`, tc.user, port, port), dir)
			rep := smokeHTTP(t, res)
			if rep.Passed != tc.pass {
				t.Fatalf("smoke passed=%v, want %v: %s\n%s", rep.Passed, tc.pass, rep.Reason, strings.Join(rep.Output, "\n"))
			}
			if rep.UID != 10001 && tc.pass {
				t.Errorf("ran as uid %d, want 10001", rep.UID)
			}
			if !tc.pass && !strings.Contains(strings.Join(rep.Output, "\n"), tc.why) {
				t.Errorf("the app failed for another reason than %q:\n%s", tc.why, strings.Join(rep.Output, "\n"))
			}
		})
	}
}

// pulseServer is a small real Node service: it writes its pid file in the
// working directory at start and appends to a log there on each request,
// and formats its uptime with a package from the npm registry, which a RUN
// step installs (through the host's CA certificates, copied into the base).
const pulseServer = `const fs = require("fs");
const http = require("http");
const ms = require("ms");

fs.writeFileSync("server.pid", String(process.pid));
http
  .createServer((req, res) => {
    fs.appendFileSync("requests.log", req.method + " " + req.url + "\n");
    res.end("up " + ms(Math.round(process.uptime() * 1000)) + "\n");
  })
  .listen(Number(process.env.PORT));
`

const pulsePackage = `{
  "name": "pulse",
  "version": "1.0.0",
  "private": true,
  "dependencies": { "ms": "2.1.3" }
}
`

// The same distinction on the realistic node:20-slim, as the base's own
// node user (1000), started through the image's docker-entrypoint.sh.
func TestRealNodeAppNeedsWritableWorkdir(t *testing.T) {
	c := realClient(t)
	dir := writeFiles(t, map[string]string{"server.js": pulseServer, "package.json": pulsePackage})
	for _, tc := range []struct {
		name, chown string
		pass        bool
	}{
		{"root-owned working directory", "", false},
		{"working directory owned by node", "RUN chown node:node /srv/pulse", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			res := buildDir(t, c, "pulse", fmt.Sprintf(`FROM node:20-slim
WORKDIR /srv/pulse
COPY package.json server.js ./
RUN npm install --omit=dev --no-audit --no-fund
%s
USER node
ENV PORT=%d
EXPOSE %d
CMD ["server.js"]
`, tc.chown, port, port), dir)
			rep := smokeHTTP(t, res)
			if rep.Passed != tc.pass {
				t.Fatalf("smoke passed=%v, want %v: %s\n%s", rep.Passed, tc.pass, rep.Reason, strings.Join(rep.Output, "\n"))
			}
			if tc.pass && rep.UID != 1000 {
				t.Errorf("ran as uid %d, want the node user's 1000", rep.UID)
			}
			if !tc.pass && !strings.Contains(strings.Join(rep.Output, "\n"), "EACCES: permission denied, open 'server.pid'") {
				t.Errorf("the server failed for another reason than its pid file:\n%s", strings.Join(rep.Output, "\n"))
			}
		})
	}
}

// Each realistic base has what its official namesake has where tests rely
// on it, checked from RUN steps: interpreters and their versions, pip
// without the externally-managed marker, the node user, apt over HTTP with
// the official cleanup, HTTPS through the host's CA certificates.
func TestRealBasesLookLikeTheOfficialImages(t *testing.T) {
	c := realClient(t)
	dir := t.TempDir()
	checks := map[string]string{
		"debian:bookworm-slim": `test -f /etc/apt/apt.conf.d/docker-clean && test ! -e /usr/share/man/man1/ls.1.gz && test -f /usr/share/doc/bash/copyright
RUN apt-get update && apt-get install -y --no-install-recommends sqlite3 && sqlite3 -version && ! ls /var/cache/apt/archives/*.deb`,
		"debian:bookworm": `test -e /usr/share/man/man1/ls.1.gz && ! command -v python3`,
		"python:3.11-slim": `python --version && pip --version && python -c "import sqlite3, ssl, venv, ensurepip" \
 && test "$(python3 -c 'import platform; print(platform.python_version())')" = "$PYTHON_VERSION" \
 && ! ls /usr/lib/python3*/EXTERNALLY-MANAGED && ! command -v gcc \
 && python -m venv /tmp/venv && /tmp/venv/bin/pip --version \
 && python -c "import urllib.request; urllib.request.urlopen('https://registry.npmjs.org/ms')"`,
		"python:3.11": `gcc --version && python3-config --includes && test -f /usr/include/postgresql/libpq-fe.h && xml2-config --version && git --version \
 && curl -sSfo /dev/null https://registry.npmjs.org/ms && pip --version`,
		"node:20-slim": `test "$(node --version)" = "v$NODE_VERSION" && npm --version \
 && test "$(id -u node):$(id -g node)" = 1000:1000 && test "$(stat -c %u /home/node)" = 1000 \
 && test "$(getent passwd node | cut -d: -f6)" = /home/node && ! command -v gcc`,
		"node:20": `node --version && gcc --version && git --version && id node`,
	}
	for name, run := range checks {
		t.Run(name, func(t *testing.T) {
			buildDir(t, c, "base", "FROM "+name+"\nRUN "+run+"\n", dir)
		})
	}
}

// The realistic environment serves no stand-ins: a name without a
// realistic base fails to resolve instead of quietly getting busybox.
func TestRealEnvServesNoStandIns(t *testing.T) {
	c := realClient(t)
	_, err := c.Build(context.Background(), build.Request{Name: "alpine", Dockerfile: []byte("FROM alpine:3.20\nRUN true\n"), ContextDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "alpine") {
		t.Fatalf("FROM alpine:3.20 in the realistic environment: %v", err)
	}
}

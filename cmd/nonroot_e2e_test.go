package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// Real apps on realistic bases (real CPython and Node.js, Debian's useradd)
// that write where apps write: their working directory, their home and a
// data folder. Each must build, start and answer as root before harden and
// as a non-root user after `harden fix --write`; every app writes before
// it listens, so an answer proves the writes worked.

// notesPy keeps a SQLite database in its working directory and a state file
// under HOME, as Django's defaults and many CLIs do.
const notesPy = `import json, os, sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

db = sqlite3.connect("notes.db")
db.execute("CREATE TABLE IF NOT EXISTS starts (pid INTEGER)")
db.execute("INSERT INTO starts VALUES (?)", (os.getpid(),))
db.commit()
state = Path.home() / ".notes"
state.mkdir(exist_ok=True)
(state / "last-start.json").write_text(json.dumps({"pid": os.getpid()}))


class Notes(BaseHTTPRequestHandler):
    def do_GET(self):
        (n,) = db.execute("SELECT count(*) FROM starts").fetchone()
        body = json.dumps({"starts": n, "uid": os.getuid()}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Notes).serve_forever()
`

// pulseJS writes its pid file and a request log in its working directory.
const pulseJS = `const fs = require("fs");
const http = require("http");

fs.writeFileSync("server.pid", String(process.pid));
http
  .createServer((req, res) => {
    fs.appendFileSync("requests.log", req.method + " " + req.url + "\n");
    res.end("up, uid " + process.getuid() + "\n");
  })
  .listen(Number(process.env.PORT));
`

// ledgerEntrypoint prepares the app's state folder under /var/lib, as
// entrypoint scripts of real images do, then hands over to CMD.
const ledgerEntrypoint = `#!/bin/sh
set -e
: "${LEDGER_DIR:=/var/lib/ledger}"
mkdir -p "$LEDGER_DIR/archive"
if [ ! -f "$LEDGER_DIR/created" ]; then
	date > "$LEDGER_DIR/created"
fi
exec "$@"
`

// ledgerPy writes into the state folder and into an uploads folder the
// Dockerfile makes.
const ledgerPy = `import os, sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer

db = sqlite3.connect("/var/lib/ledger/ledger.db")
db.execute("CREATE TABLE IF NOT EXISTS entries (amount INTEGER)")
db.commit()
with open("/srv/uploads/boot.txt", "w") as f:
    f.write("booted\n")


class Ledger(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Ledger).serve_forever()
`

type nonRootApp struct {
	name       string
	dockerfile string // %d is the port
	files      map[string]string
	// userLine matches the USER the rewrite must end with.
	userLine string
}

var nonRootApps = []nonRootApp{
	{
		// No start script and a build step: harden once mistook this
		// server for a static site and served dist/ with nginx. tsc and
		// the types come from the npm registry, as in a real build.
		name: "node server compiled with tsc is split, not served as files",
		dockerfile: `FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm install
COPY . .
RUN npm run build
ENV PORT=%d
EXPOSE %d
CMD ["node", "dist/server.js"]
`,
		files: map[string]string{
			"package.json":  `{"name": "inventory", "version": "1.0.0", "private": true, "scripts": {"build": "tsc -p ."}, "devDependencies": {"typescript": "5.4.5", "@types/node": "20.12.7"}}` + "\n",
			"tsconfig.json": `{"compilerOptions": {"outDir": "dist", "rootDir": "src", "module": "commonjs", "target": "es2020", "strict": true}}` + "\n",
			"src/server.ts": "import { createServer } from \"node:http\";\ncreateServer((req, res) => res.end(\"stock\")).listen(Number(process.env.PORT));\n",
		},
		userLine: `(?m)^FROM node:20-slim\n(?s:.*)^USER 1000:1000$`,
	},
	{
		name: "python writes its working directory and home",
		dockerfile: `FROM python:3.11-slim
WORKDIR /app
COPY . .
ENV PORT=%d
EXPOSE %d
CMD ["python", "app.py"]
`,
		files:    map[string]string{"app.py": notesPy},
		userLine: `(?m)^USER 10001:10001$`,
	},
	{
		name: "node writes its working directory",
		dockerfile: `FROM node:20-slim
WORKDIR /usr/src/app
COPY package.json server.js ./
ENV PORT=%d
EXPOSE %d
CMD ["node", "server.js"]
`,
		files: map[string]string{
			"server.js":    pulseJS,
			"package.json": `{"name": "pulse", "version": "1.0.0", "private": true, "main": "server.js"}` + "\n",
		},
		userLine: `(?m)^USER 1000:1000$`,
	},
	{
		name: "entrypoint and RUN make data folders",
		dockerfile: `FROM python:3.11-slim
RUN mkdir -p /srv/uploads
COPY docker-entrypoint.sh /usr/local/bin/
COPY ledger.py /opt/ledger/ledger.py
ENV PORT=%d
EXPOSE %d
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["python", "/opt/ledger/ledger.py"]
`,
		files:    map[string]string{"docker-entrypoint.sh": ledgerEntrypoint, "ledger.py": ledgerPy},
		userLine: `(?m)^USER 10001:10001$`,
	},
}

func TestRewritesOfRealAppsStartAndAnswer(t *testing.T) {
	env := bktest.StartReal(t)
	client, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	for _, app := range nonRootApps {
		t.Run(app.name, func(t *testing.T) {
			port := freeTCPPort(t)
			dir := t.TempDir()
			original := fmt.Sprintf(app.dockerfile, port, port)
			files := map[string]string{"Dockerfile": original}
			for k, v := range app.files {
				files[k] = v
			}
			for name, data := range files {
				mode := os.FileMode(0o644)
				if strings.HasSuffix(name, ".sh") {
					mode = 0o755
				}
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), mode); err != nil {
					t.Fatal(err)
				}
			}

			// The original works as root.
			if rep := buildAndSmoke(t, client, "original", []byte(original), dir); !rep.Passed || rep.UID != 0 {
				t.Fatalf("the original should answer as root: %+v", rep)
			}

			var out, errOut bytes.Buffer
			s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
			if code := Run(s, []string{"fix", "--write", dir}); code != ExitOK {
				t.Fatalf("harden fix --write: exit %d\n%s", code, errOut.String())
			}
			hardened, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(app.userLine).Match(hardened) {
				t.Fatalf("the rewrite should switch to a non-root user (%s):\n%s\n%s", app.userLine, hardened, errOut.String())
			}
			rep := buildAndSmoke(t, client, "hardened", hardened, dir)
			if !rep.Passed || rep.UID == 0 {
				t.Fatalf("the hardened image should answer as non-root: %s (uid %d)\n%s\n%s\nharden said:\n%s",
					rep.Reason, rep.UID, strings.Join(rep.Output, "\n"), hardened, errOut.String())
			}
		})
	}
}

func buildAndSmoke(t *testing.T, c *build.Client, name string, dockerfile []byte, dir string) *smoke.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := c.Build(ctx, build.Request{Name: name, Dockerfile: dockerfile, ContextDir: dir})
	if err != nil {
		t.Fatalf("%s build: %v\n%s", name, err, dockerfile)
	}
	t.Cleanup(func() { _ = res.Cleanup() })
	img, err := res.Image()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := smoke.Run(ctx, img, smoke.Options{HTTPPath: "/", Run: 2 * time.Second, Timeout: 30 * time.Second, Grace: 2 * time.Second})
	if err != nil {
		t.Fatalf("%s smoke: %v", name, err)
	}
	return rep
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// harden new scaffolds the same kind of service: a real Python app that
// keeps SQLite in its working directory and state under HOME must start and
// answer as the non-root user the scaffolded Dockerfile creates.
func TestNewScaffoldsServicesThatWriteTheirFolderAndHome(t *testing.T) {
	env := bktest.StartReal(t)
	client, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	port := freeTCPPort(t)
	dir := filepath.Join(t.TempDir(), "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	app := strings.Replace(notesPy, `int(os.environ["PORT"])`, fmt.Sprint(port), 1)
	for name, data := range map[string]string{"notes.py": app, ".python-version": "3.11\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	s := &Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
	if code := Run(s, []string{"new", "--port", fmt.Sprint(port), "--entrypoint", "notes.py", dir}); code != ExitOK {
		t.Fatalf("harden new: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	rep := buildAndSmoke(t, client, "new", df, dir)
	if !rep.Passed || rep.UID != 10001 {
		t.Fatalf("the scaffolded image should answer as uid 10001: %s (uid %d)\n%s\n%s", rep.Reason, rep.UID, strings.Join(rep.Output, "\n"), df)
	}
}

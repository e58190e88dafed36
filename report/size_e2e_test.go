package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/cmd"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// Each app is built three ways on the realistic bases (real CPython and
// Node.js on Debian bookworm): the naive Dockerfile as people write it,
// the one an expert writes by hand, and what `harden fix --write` makes of
// the naive one, with its .dockerignore. harden's image must be within 5%
// of the expert's, compressed; both run as non-root and answer. Sizes
// are those of the exported OCI images, which do not vary between builds
// on the same bases.

// sizeApp is one app. Dockerfiles take the port the app listens on as
// %[1]d (replaced, not formatted: nginx configurations hold $ and %); the
// nginx runtimes listen on 8080 whatever it is.
type sizeApp struct {
	name  string
	files map[string]string
	// binary are files made by the test (a wheel).
	binary map[string][]byte
	naive  string
	hand   string
	// handIgnore is the expert's .dockerignore.
	handIgnore string
}

// sizeFlask uses Debian's Flask, installed with apt-get.
const sizeFlask = `import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"uid": os.getuid()}


app.run(host="0.0.0.0", port=int(os.environ["PORT"]))
`

// sizeGreetServer imports greet, a pure-Python package installed from a
// local wheel (PyPI is out of reach here), and serves with the standard
// library.
const sizeGreetServer = `import os
from http.server import BaseHTTPRequestHandler, HTTPServer

import greet


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = greet.hello(os.getuid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Hello).serve_forever()
`

// sizeSite is a site whose build writes dist/ with Node alone.
var sizeSite = map[string]string{
	"package.json":      `{"name": "site", "version": "1.0.0", "private": true, "scripts": {"build": "node build.js"}}` + "\n",
	"package-lock.json": `{"name": "site", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "site", "version": "1.0.0"}}}` + "\n",
	"build.js": `const fs = require("fs");
fs.mkdirSync("dist/about", { recursive: true });
fs.writeFileSync("dist/index.html", fs.readFileSync("src/index.html"));
fs.writeFileSync("dist/about/index.html", "<h1>About</h1>\n");
`,
	"src/index.html": "<!doctype html><title>site</title><h1>Hello</h1>\n",
	"README.md":      "# site\n",
}

// siteServerBlock is the expert's nginx site: clean URLs and the
// single-page fallback that serve -s gives.
const siteServerBlock = `server {
    listen 8080;
    root /usr/share/nginx/html;
    location / {
        try_files $uri $uri.html $uri/ /index.html;
    }
}
`

var sizeApps = []sizeApp{
	{
		name:  "python apt-only",
		files: map[string]string{"app.py": sizeFlask},
		naive: `FROM python:3.11
RUN apt-get update
RUN apt-get install -y python3-flask
WORKDIR /app
COPY . .
ENV PORT=%[1]d
EXPOSE %[1]d
CMD python3 app.py
`,
		hand: `FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-flask \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --no-create-home app
WORKDIR /app
COPY app.py .
USER 10001:10001
ENV PORT=%[1]d
EXPOSE %[1]d
CMD ["python3", "app.py"]
`,
		handIgnore: "*\n!app.py\n",
	},
	{
		name:   "python pure-Python pip",
		files:  map[string]string{"app.py": sizeGreetServer, "requirements.txt": "greet==1.0\n"},
		binary: map[string][]byte{"wheels/greet-1.0-py3-none-any.whl": nil}, // made by greetWheel
		naive: `FROM python:3.11
WORKDIR /app
COPY requirements.txt .
COPY wheels ./wheels
RUN pip install --no-index --find-links ./wheels -r requirements.txt
COPY . .
ENV PORT=%[1]d
EXPOSE %[1]d
CMD ["python", "app.py"]
`,
		hand: `FROM python:3.11-slim
WORKDIR /app
RUN --mount=type=bind,source=wheels,target=/wheels \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip install --no-cache-dir --no-index --find-links /wheels -r /tmp/requirements.txt
COPY app.py .
RUN useradd --system --uid 10001 --user-group --no-create-home app
USER 10001:10001
ENV PORT=%[1]d
EXPOSE %[1]d
CMD ["python", "app.py"]
`,
		handIgnore: "*\n!app.py\n!requirements.txt\n!wheels\n",
	},
	{
		name:  "node build-then-serve (nginx)",
		files: sizeSite,
		naive: `FROM node:20
WORKDIR /app
COPY . .
RUN npm install
RUN npm run build
RUN npm install -g serve
EXPOSE %[1]d
CMD serve -s dist -l %[1]d
`,
		hand: `FROM node:20 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY build.js ./
COPY src ./src
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.27-alpine
COPY --from=build /app/dist /usr/share/nginx/html
COPY <<'EOF' /etc/nginx/conf.d/default.conf
` + siteServerBlock + `EOF
EXPOSE 8080
`,
		handIgnore: "node_modules\ndist\n",
	},
	{
		name:  "node build-then-serve (serve --cors)",
		files: sizeSite,
		naive: `FROM node:20
WORKDIR /app
COPY . .
RUN npm install
RUN npm run build
RUN npm install -g serve
EXPOSE %[1]d
CMD ["serve", "--cors", "-s", "dist", "-l", "%[1]d"]
`,
		hand: `FROM node:20 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY build.js ./
COPY src ./src
RUN npm run build

FROM node:20-slim
RUN npm install -g serve
WORKDIR /app
COPY --from=build /app/dist ./dist
USER node
EXPOSE %[1]d
CMD ["serve", "--cors", "-s", "dist", "-l", "%[1]d"]
`,
		handIgnore: "node_modules\ndist\n",
	},
}

// sizeRow is one line of the size table.
type sizeRow struct {
	app                 string
	naive, hand, harden int64
}

func TestSizesMatchAnExpertsOnRealisticBases(t *testing.T) {
	env := bktest.StartReal(t)
	// nginx-unprivileged has no realistic base; its stand-in serves the
	// site with BusyBox httpd from the same folder, as the same user.
	env.PushStandIn(t, "nginxinc/nginx-unprivileged:1.27-alpine", bktest.NginxUnprivileged, "")
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	var rows []sizeRow
	t.Cleanup(func() {
		var b strings.Builder
		b.WriteString("\n| app | naive | hand | harden | harden/hand |\n|---|---:|---:|---:|---:|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.4f |\n", r.app, mb(r.naive), mb(r.hand), mb(r.harden), float64(r.harden)/float64(r.hand))
		}
		t.Log("compressed sizes on the realistic bases:" + b.String())
	})
	for _, app := range sizeApps {
		t.Run(app.name, func(t *testing.T) {
			port := freePort(t)
			dir := writeTree(t, app.files)
			for name := range app.binary {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, greetWheel(t), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			naive := withPort(app.naive, port)
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(naive), 0o644); err != nil {
				t.Fatal(err)
			}
			row := sizeRow{app: app.name}

			// The naive image works, as root.
			row.naive = buildAndCheck(t, c, "naive", []byte(naive), dir, []byte{}, false)
			row.hand = buildAndCheck(t, c, "hand", []byte(withPort(app.hand, port)), dir, []byte(app.handIgnore), true)

			var out, errOut bytes.Buffer
			s := &cmd.Streams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
			if code := cmd.Run(s, []string{"fix", "--write", dir}); code != cmd.ExitOK {
				t.Fatalf("harden fix --write: exit %d\n%s", code, errOut.String())
			}
			hardened, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			row.harden = buildAndCheck(t, c, "harden", hardened, dir, nil, true)
			rows = append(rows, row)
			t.Logf("%s: compressed naive %d, hand %d, harden %d bytes (%.4f of hand)\n%s\nharden said:\n%s",
				app.name, row.naive, row.hand, row.harden, float64(row.harden)/float64(row.hand), hardened, errOut.String())
			if float64(row.harden) > 1.05*float64(row.hand) {
				t.Errorf("harden's image is %s, more than 5%% over the expert's %s:\n%s\nharden said:\n%s", mb(row.harden), mb(row.hand), hardened, errOut.String())
			}
			if row.harden >= row.naive {
				t.Errorf("harden's image (%s) is not smaller than the naive one (%s)", mb(row.harden), mb(row.naive))
			}
		})
	}
}

// buildAndCheck builds one variant, starts it and requires an HTTP answer,
// as a non-root user when nonRoot is set; it returns the compressed size.
// ignore is the build's ignore file (nil: the context's own).
func buildAndCheck(t *testing.T, c *build.Client, name string, dockerfile []byte, dir string, ignore []byte, nonRoot bool) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := c.Build(ctx, build.Request{Name: name, Dockerfile: dockerfile, ContextDir: dir, IgnoreFile: ignore})
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
	if !rep.Passed || nonRoot && rep.UID <= 0 {
		t.Fatalf("%s image should answer%s: %s (uid %d)\n%s\n%s", name, map[bool]string{true: " as non-root"}[nonRoot],
			rep.Reason, rep.UID, strings.Join(rep.Output, "\n"), dockerfile)
	}
	return res.Stats.CompressedSize
}

// greetWheel is a pure-Python wheel of a package named greet, made here
// since PyPI cannot be reached: a module, its metadata and its RECORD.
func greetWheel(t *testing.T) []byte {
	t.Helper()
	files := []struct{ name, data string }{
		{"greet/__init__.py", "def hello(uid):\n    return f\"hello from uid {uid}\\n\"\n"},
		{"greet-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: greet\nVersion: 1.0\n"},
		{"greet-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: harden-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{"greet-1.0.dist-info/RECORD", "greet/__init__.py,,\ngreet-1.0.dist-info/METADATA,,\ngreet-1.0.dist-info/WHEEL,,\ngreet-1.0.dist-info/RECORD,,\n"},
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := z.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func withPort(dockerfile string, port int) string {
	return strings.ReplaceAll(dockerfile, "%[1]d", fmt.Sprint(port))
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

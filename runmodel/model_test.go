package runmodel

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// analyze builds the model of a Dockerfile with the given context files.
func analyze(t *testing.T, dockerfileText string, files map[string]string, img Image, framework string) *Model {
	t.Helper()
	f, err := dockerfile.Parse("Dockerfile", []byte(dockerfileText))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body), Mode: 0o644}
	}
	ctx, err := buildctx.FromFS(fsys, "ctx", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(Input{File: f, Context: ctx, Image: img, Framework: framework})
}

func hasWrite(m *Model, p string, kind WriteKind) bool {
	for _, w := range m.Writes {
		if w.Path == p && (kind == "" || w.Kind == kind) {
			return true
		}
	}
	return false
}

func describeWrites(m *Model) string {
	var b strings.Builder
	for _, w := range m.Writes {
		b.WriteString(w.Path + " " + string(w.Kind) + " (" + w.Why.String() + ")\n")
	}
	return b.String()
}

func TestDjangoDefaultSQLiteMakesTheProjectFolderWritable(t *testing.T) {
	m := analyze(t, `FROM python:3.12-slim
WORKDIR /app
COPY . .
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]
`, map[string]string{
		"manage.py": "import os\n",
		"mysite/settings.py": `from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': BASE_DIR / 'db.sqlite3',
    }
}
MEDIA_ROOT = BASE_DIR / 'media'
`,
	}, Image{Ref: "python:3.12-slim", Distro: "debian", Runtime: "python"}, "django")
	if !hasWrite(m, "/app", CreatesIn) {
		t.Errorf("want /app creates-in, got:\n%s", describeWrites(m))
	}
	if !hasWrite(m, "/app/media", MakesDir) {
		t.Errorf("want /app/media makes-dir, got:\n%s", describeWrites(m))
	}
	if m.Home == nil {
		t.Error("python runs the app: the home should be needed")
	}
	if len(m.Ports) != 1 || m.Ports[0].Number != 8000 || m.Ports[0].Setting != "flag" {
		t.Errorf("ports %+v, want 8000 from a flag", m.Ports)
	}
}

func TestStreamlitNeedsHome(t *testing.T) {
	m := analyze(t, "FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nCMD [\"streamlit\", \"run\", \"app.py\"]\n",
		map[string]string{"app.py": "import streamlit as st\nst.write('hi')\n"}, Image{Ref: "python:3.12-slim", Runtime: "python"}, "")
	if m.Home == nil || !strings.Contains(m.Home.Why, "Streamlit") {
		t.Errorf("home: %+v", m.Home)
	}
	if len(m.Writes) != 0 {
		t.Errorf("a read-only app should write nothing:\n%s", describeWrites(m))
	}
}

func TestRootHomeInstalls(t *testing.T) {
	for name, tc := range map[string]struct{ dockerfile, kind string }{
		"pip --user":  {"FROM python:3.12\nCOPY r.txt .\nRUN pip install --user -r r.txt\nCMD [\"python\", \"app.py\"]\n", "pip-user"},
		"PIP_USER":    {"FROM python:3.12\nENV PIP_USER=1\nRUN pip install flask\nCMD [\"python\", \"app.py\"]\n", "pip-user"},
		"poetry":      {"FROM python:3.12\nRUN pip install poetry && poetry install --no-root\nCMD [\"poetry\", \"run\", \"python\", \"app.py\"]\n", "poetry-venv"},
		"pipx":        {"FROM python:3.12\nRUN pipx install black\nCMD [\"black\", \".\"]\n", "pipx"},
		"copy /root":  {"FROM python:3.12-slim\nCOPY --from=builder /root/.local /root/.local\nCMD [\"python\", \"app.py\"]\n", "copy"},
		"poetry ok":   {"FROM python:3.12\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install\nCMD [\"poetry\", \"run\", \"app\"]\n", ""},
		"pip as user": {"FROM python:3.12\nUSER 1000\nRUN pip install --user flask\nCMD [\"python\", \"app.py\"]\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			m := analyze(t, tc.dockerfile, nil, Image{Ref: "python:3.12", Runtime: "python"}, "")
			if tc.kind == "" {
				if len(m.RootHome) != 0 {
					t.Errorf("want nothing under /root, got %+v", m.RootHome)
				}
				return
			}
			if len(m.RootHome) != 1 || m.RootHome[0].Kind != tc.kind {
				t.Errorf("root home uses %+v, want one %s", m.RootHome, tc.kind)
			}
		})
	}
}

func TestEntrypointScriptWritesUnderVarLib(t *testing.T) {
	m := analyze(t, `FROM debian:bookworm-slim
WORKDIR /srv
COPY docker-entrypoint.sh /usr/local/bin/
COPY server /srv/server
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["/srv/server"]
`, map[string]string{
		"docker-entrypoint.sh": `#!/bin/sh
set -e
STATE_DIR=${STATE_DIR:-/var/lib/myapp}
mkdir -p "$STATE_DIR/cache"
if [ ! -f "$STATE_DIR/config.json" ]; then
  echo '{}' > "$STATE_DIR/config.json"
fi
exec "$@"
`,
		"server": "\x7fELF",
	}, Image{Ref: "debian:bookworm-slim", Distro: "debian"}, "")
	if !hasWrite(m, "/var/lib/myapp/cache", MakesDir) || !hasWrite(m, "/var/lib/myapp", CreatesIn) {
		t.Errorf("writes:\n%s", describeWrites(m))
	}
	if len(m.Unknown) != 0 || len(m.NeedsRoot) != 0 {
		t.Errorf("unknown %v, needs root %v", m.Unknown, m.NeedsRoot)
	}
	if !strings.Contains(strings.Join(m.Programs, " "), "server") {
		t.Errorf("exec \"$@\" should run CMD: programs %v", m.Programs)
	}
}

func TestEntrypointThatDropsPrivilegesOrNeedsRoot(t *testing.T) {
	m := analyze(t, "FROM debian:bookworm-slim\nCOPY start.sh /start.sh\nENTRYPOINT [\"/start.sh\"]\n", map[string]string{
		"start.sh": "#!/bin/bash\nchown -R app:app /data\nexec gosu app /usr/local/bin/server\n",
	}, Image{Ref: "debian:bookworm-slim", Distro: "debian"}, "")
	if len(m.Drops) != 1 || m.Drops[0].Server != "gosu" {
		t.Errorf("drops %+v", m.Drops)
	}
	if len(m.NeedsRoot) != 1 || m.NeedsRoot[0].Line != 2 {
		t.Errorf("needs root %+v", m.NeedsRoot)
	}
}

func TestUnreadableEntrypointIsUnknown(t *testing.T) {
	m := analyze(t, "FROM debian:bookworm-slim\nENTRYPOINT [\"/opt/vendor/run.sh\"]\n", nil, Image{Ref: "debian:bookworm-slim", Distro: "debian"}, "")
	if len(m.Unknown) != 1 || !strings.Contains(m.Unknown[0].Why, "not in the build context") {
		t.Errorf("unknown %+v", m.Unknown)
	}
}

func TestServersThatDropPrivileges(t *testing.T) {
	for name, tc := range map[string]struct {
		dockerfile string
		files      map[string]string
		img        Image
		server     string
		port       int
	}{
		"apache image": {"FROM php:8.3-apache\nCOPY . /var/www/html/\n", nil, Image{Ref: "php:8.3-apache", Runtime: "php", Flavor: "apache", Port: 80}, "apache2-foreground", 80},
		"php-fpm":      {"FROM php:8.3-fpm\nCOPY . /var/www/html/\nCMD [\"php-fpm\"]\n", nil, Image{Ref: "php:8.3-fpm", Runtime: "php", Flavor: "fpm", Port: 9000}, "php-fpm", 0},
		"stock nginx":  {"FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n", nil, Image{Ref: "nginx:1.27", Runtime: "nginx", Port: 80}, "nginx", 80},
		"uwsgi ini": {"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"uwsgi\", \"--ini\", \"uwsgi.ini\"]\n",
			map[string]string{"uwsgi.ini": "[uwsgi]\nmodule = app:app\nuid = www-data\ngid = www-data\nhttp = :8080\n", "app.py": ""},
			Image{Ref: "python:3.12-slim", Runtime: "python"}, "uwsgi", 8080},
		"supervisord": {"FROM debian:bookworm-slim\nCOPY supervisord.conf /etc/supervisor/conf.d/app.conf\nCMD [\"supervisord\", \"-n\"]\n",
			map[string]string{"supervisord.conf": "[supervisord]\nnodaemon=true\n[program:app]\ncommand=/app/run\nuser=app\n"},
			Image{Ref: "debian:bookworm-slim", Distro: "debian"}, "supervisord", 0},
	} {
		t.Run(name, func(t *testing.T) {
			m := analyze(t, tc.dockerfile, tc.files, tc.img, "")
			found := false
			for _, d := range m.Drops {
				found = found || d.Server == tc.server
			}
			if !found {
				t.Errorf("drops %+v, want %s", m.Drops, tc.server)
			}
			if tc.port > 0 && (len(m.Ports) == 0 || m.Ports[0].Number != tc.port) {
				t.Errorf("ports %+v, want %d", m.Ports, tc.port)
			}
		})
	}
}

func TestUnprivilegedNginxDoesNotDrop(t *testing.T) {
	m := analyze(t, "FROM nginxinc/nginx-unprivileged:1.27\nCOPY site /usr/share/nginx/html\n", nil,
		Image{Ref: "nginxinc/nginx-unprivileged:1.27", Runtime: "nginx", User: &User{Name: "nginx", UID: 101, GID: 101}, Port: 8080}, "")
	if len(m.Drops) != 0 {
		t.Errorf("drops %+v", m.Drops)
	}
}

func TestUsersOfTheFileAndOtherStages(t *testing.T) {
	m := analyze(t, `FROM python:3.12 AS build
RUN groupadd -g 10002 svc && useradd -u 10002 -g svc -m svc

FROM python:3.12-slim
RUN useradd --gid 50 --uid 1001 docker
CMD ["python", "app.py"]
`, nil, Image{Ref: "python:3.12-slim", Distro: "debian", Runtime: "python"}, "")
	if len(m.Users) != 2 {
		t.Fatalf("users %+v", m.Users)
	}
	if u := m.Users[0]; u.Name != "docker" || u.Ref() != "1001:50" || u.Owner() != "docker:50" || u.Stage != "" {
		t.Errorf("first user %+v (ref %s, owner %s)", u, u.Ref(), u.Owner())
	}
	if u := m.Users[1]; u.Name != "svc" || u.Ref() != "10002:10002" || u.Stage != "build" || !u.HomeExists {
		t.Errorf("other stage's user %+v", u)
	}
}

func TestDataDirectoriesAndVolumes(t *testing.T) {
	m := analyze(t, `FROM node:22-slim
WORKDIR /app
RUN mkdir -p /documents /app/static
COPY static /app/static
RUN mkdir /uploads && chmod 777 /uploads
VOLUME /var/lib/app
COPY server.js .
CMD ["node", "server.js"]
`, map[string]string{"server.js": "require('http').createServer().listen(3000)\n", "static/a.css": ""}, Image{Ref: "node:22-slim", Runtime: "node"}, "")
	if !hasWrite(m, "/documents", CreatesIn) || hasWrite(m, "/app/static", "") || !hasWrite(m, "/uploads", Modifies) {
		t.Errorf("writes:\n%s", describeWrites(m))
	}
	if v := m.Volumes(); len(v) != 1 || v[0].Path != "/var/lib/app" {
		t.Errorf("volumes %+v", v)
	}
}

func TestSourceScan(t *testing.T) {
	m := analyze(t, "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nENV DATA_DIR=/data\nCMD [\"python\", \"main.py\"]\n", map[string]string{
		"main.py": `import os, sqlite3, logging
DB = os.environ.get("DB_PATH", "state/app.db")
conn = sqlite3.connect(DB)
DATA = os.getenv("DATA_DIR", "/tmp/x")
os.makedirs(os.path.join(DATA, "exports"), exist_ok=True)
logging.basicConfig(filename="app.log")
# open("ignored.txt", "w")
with open("readme.md") as f: pass
cfg = os.path.expanduser("~/.myapp")
`,
	}, Image{Ref: "python:3.12-slim", Runtime: "python"}, "")
	for _, want := range []struct {
		p    string
		kind WriteKind
	}{{"/srv/app/state", CreatesIn}, {"/data/exports", MakesDir}, {"/srv/app", CreatesIn}} {
		if !hasWrite(m, want.p, want.kind) {
			t.Errorf("want %s %s; writes:\n%s", want.p, want.kind, describeWrites(m))
		}
	}
	if hasWrite(m, "/srv/app/ignored.txt", "") {
		t.Error("a commented-out call counted")
	}
	if m.Home == nil {
		t.Error("expanduser(~) uses the home")
	}
}

func TestNodeSourceScan(t *testing.T) {
	m := analyze(t, "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nCMD [\"npm\", \"start\"]\n", map[string]string{
		"package.json": `{"scripts": {"start": "node src/server.js"}}`,
		"src/server.js": `const fs = require('fs'); const path = require('path');
const dir = path.join(__dirname, 'uploads');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync('visits.json', '{}');
`,
	}, Image{Ref: "node:22-slim", Runtime: "node"}, "")
	if !hasWrite(m, "/app/src/uploads", MakesDir) || !hasWrite(m, "/app", CreatesIn) {
		t.Errorf("writes:\n%s", describeWrites(m))
	}
	if strings.Join(m.Programs, ",") != "npm,node" {
		t.Errorf("programs %v", m.Programs)
	}
}

func TestPorts(t *testing.T) {
	m := analyze(t, "FROM python:3.12-slim\nENV PORT=80\nEXPOSE 80\nCMD [\"sh\", \"-c\", \"gunicorn -b 0.0.0.0:$PORT app:app\"]\n", nil,
		Image{Ref: "python:3.12-slim", Runtime: "python"}, "")
	if len(m.Ports) != 1 || m.Ports[0].Number != 80 || m.Ports[0].Setting != "env PORT" {
		t.Errorf("ports %+v", m.Ports)
	}
}

func TestKubernetesRunAsUser(t *testing.T) {
	m := analyze(t, "FROM python:3.12-slim\nCMD [\"python\", \"app.py\"]\n", map[string]string{
		"deploy/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      securityContext:
        runAsUser: 1001
      containers:
        - name: app
          image: app
          ports:
            - containerPort: 8080
`,
	}, Image{Ref: "python:3.12-slim", Runtime: "python"}, "")
	if m.RunAsUser == nil || m.RunAsUser.Number != 1001 {
		t.Errorf("runAsUser %+v", m.RunAsUser)
	}
	if len(m.Ports) != 1 || m.Ports[0].Number != 8080 {
		t.Errorf("ports %+v", m.Ports)
	}
}

func TestBaseImageEntrypoints(t *testing.T) {
	m := analyze(t, "FROM node:22-slim\nWORKDIR /app\nCOPY server.js .\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\", \"server.js\"]\n",
		map[string]string{"server.js": "require('http').createServer().listen(3000)\n"}, Image{Ref: "node:22-slim", Runtime: "node"}, "")
	if len(m.Unknown) != 0 || strings.Join(m.Programs, ",") != "node" {
		t.Errorf("node's own docker-entrypoint.sh runs its arguments: unknown %v, programs %v", m.Unknown, m.Programs)
	}
	m = analyze(t, "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\nCMD [\"postgres\", \"-c\", \"log_statement=all\"]\n",
		map[string]string{"init.sql": "create table t (id int);\n"}, Image{Ref: "postgres:16"}, "")
	if len(m.Drops) != 1 || m.Drops[0].Server != "postgres" {
		t.Errorf("postgres' inherited entrypoint switches to the postgres user: drops %+v", m.Drops)
	}
}

package bktest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// rootfs unpacks a stand-in and makes /dev usable inside it, so its shims
// can be run with chroot as a RUN step would run them.
func rootfs(t *testing.T, kind bktest.Kind) (string, []string) {
	t.Helper()
	bktest.RequireRunc(t)
	img, err := bktest.NewStandIn(kind, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	if err := smoke.Unpack(img, dir); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("/dev", dev, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(dev, syscall.MNT_DETACH) })
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return dir, append([]string{"HOME=/root"}, cf.Config.Env...)
}

// sh runs a script in the rootfs and returns its output; it fails t unless
// the exit code is want.
func sh(t *testing.T, dir string, env []string, want int, script string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-ec", script)
	cmd.Dir, cmd.Env = "/", env
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("script exited %d, want %d:\n%s\noutput:\n%s", code, want, script, out.String())
	}
	return out.String()
}

func TestDebianAccountShims(t *testing.T) {
	dir, env := rootfs(t, bktest.PythonSlim)
	out := sh(t, dir, env, 0, `
		groupadd -r app && useradd -r -g app -d /app -s /sbin/nologin app
		groupadd -g 2000 web && useradd -m -u 10001 -g web -G app bob
		useradd carol
		id app; id bob; id carol; ls -ld /home/bob; test ! -d /home/carol`)
	for _, want := range []string{"uid=999(app) gid=999(app)", "uid=10001(bob) gid=2000(web) groups=2000(web),999(app)", "uid=1000(carol) gid=1000(carol)", "bob      web"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	sh(t, dir, env, 9, "useradd bob")
	sh(t, dir, env, 4, "useradd -u 10001 dave")
	sh(t, dir, env, 6, "useradd -g nogroup-here erin")
}

func TestBusyboxAccountShims(t *testing.T) {
	dir, env := rootfs(t, bktest.NodeAlpine)
	out := sh(t, dir, env, 0, `
		addgroup -S app && adduser -S -D -H -G app app
		addgroup -g 10001 web && adduser -D -u 10001 -G web -h /srv/web web
		adduser web app
		id app; id web; ls -ld /srv/web; test ! -d /home/app`)
	for _, want := range []string{"uid=100(app) gid=101(app)", "uid=10001(web) gid=10001(web) groups=10001(web),101(app)", "web      web"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	sh(t, dir, env, 1, "adduser -D web")
}

func size(t *testing.T, dir, p string) int64 {
	t.Helper()
	var total int64
	filepath.Walk(filepath.Join(dir, p), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
		return nil
	})
	return total
}

func TestAptGetShimLeavesWhatCleanupRemoves(t *testing.T) {
	dir, env := rootfs(t, bktest.Python)
	sh(t, dir, env, 100, "apt-get install -y curl") // no lists yet, as on a fresh image
	sh(t, dir, env, 0, "apt-get update && apt-get install -y --no-install-recommends curl")
	if size(t, dir, "var/lib/apt/lists") < 1<<20 || size(t, dir, "usr/share/harden-standin/recommends") != 0 {
		t.Error("update should leave lists behind, --no-install-recommends should skip recommends")
	}
	if size(t, dir, "var/cache/apt/archives") != 0 {
		t.Error("docker-clean should remove downloaded .debs")
	}
	sh(t, dir, env, 0, "apt-get install -y git && rm -rf /var/lib/apt/lists/*")
	if size(t, dir, "var/lib/apt/lists") != 0 || size(t, dir, "usr/share/harden-standin/recommends") == 0 {
		t.Error("install without the flag pulls recommends; rm -rf lists empties them")
	}
}

func TestPipShimCachesUnlessTold(t *testing.T) {
	dir, env := rootfs(t, bktest.Python)
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "app/requirements.txt"), []byte("flask==3.0 # web\nrequests>=2\n\n-i https://example\n"), 0o644)
	out := sh(t, dir, env, 0, "cd /app && pip install -r requirements.txt")
	if !strings.Contains(out, "Successfully installed flask-1.0 requests-1.0") || size(t, dir, "root/.cache/pip") == 0 {
		t.Errorf("pip install should install both and fill the cache:\n%s", out)
	}
	sh(t, dir, env, 0, "rm -rf /root/.cache && cd /app && pip install --no-cache-dir -r requirements.txt && PIP_NO_CACHE_DIR=1 pip install flask")
	if size(t, dir, "root/.cache") != 0 {
		t.Error("--no-cache-dir and PIP_NO_CACHE_DIR must not fill the cache")
	}
	sh(t, dir, env, 0, "python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r /app/requirements.txt && test -d /opt/venv/lib/python3.11/site-packages/flask")
	sh(t, dir, env, 1, "pip install -r /nope.txt")
	sh(t, dir, env, 0, `python3 -c "import app" && python3 --version | grep -q "Python 3.11"`)
}

func TestNpmShimHonoursOmitDev(t *testing.T) {
	dir, env := rootfs(t, bktest.Node)
	app := filepath.Join(dir, "app")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "package.json"), []byte(`{
  "name": "web",
  "scripts": { "start": "node server.js", "build": "tsc" },
  "dependencies": { "express": "^4.18.0" },
  "devDependencies": { "typescript": "^5.0.0" }
}`), 0o644)
	sh(t, dir, env, 1, "cd /app && npm ci") // no lock file
	os.WriteFile(filepath.Join(app, "package-lock.json"), []byte("{}"), 0o644)
	sh(t, dir, env, 0, "cd /app && npm ci && test -d node_modules/typescript && npm run build && test -f dist/index.html")
	sh(t, dir, env, 0, "cd /app && npm ci --omit=dev && test -d node_modules/express && test ! -d node_modules/typescript")
	sh(t, dir, env, 0, "npm cache clean --force && test ! -d /root/.npm/_cacache && id node | grep -q 'uid=1000(node)'")
}

func TestGoShimBuildsARealStaticServer(t *testing.T) {
	dir, env := rootfs(t, bktest.Golang)
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/hello\n\ngo 1.22\n"), 0o644)
	sh(t, dir, env, 0, "cd /src && go mod download && go build -o /out/server ./cmd/server && go build && test -x hello")
	if size(t, dir, "root/.cache/go-build") == 0 || size(t, dir, "go/pkg/mod") == 0 {
		t.Error("builds and downloads should fill GOCACHE and GOMODCACHE")
	}
	// The output runs anywhere, even without a shell: run it on the host.
	port := fmt.Sprint(20000 + os.Getpid()%20000)
	srv := exec.Command(filepath.Join(dir, "out/server"))
	srv.Env = []string{"PORT=" + port}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	var body []byte
	for i := 0; i < 50; i++ {
		resp, err := http.Get("http://127.0.0.1:" + port + "/")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.HasPrefix(string(body), "ok uid=") {
		t.Fatalf("server answered %q", body)
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("server should exit cleanly on SIGTERM: %v", err)
	}
}

// background starts a command in the rootfs, as a container's process would
// run, and returns it; the test kills it at the end.
func background(t *testing.T, dir string, env []string, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir, cmd.Env = "/", env
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("output of %q:\n%s", script, out.String())
		}
	})
	return cmd
}

// get polls an HTTP port until it answers.
func get(t *testing.T, port int, path string) string {
	t.Helper()
	for i := 0; i < 50; i++ {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing answered on port %d", port)
	return ""
}

// stopsOnTERM sends SIGTERM and reports whether the process exited within 3s.
func stopsOnTERM(t *testing.T, cmd *exec.Cmd) bool {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return true
	case <-time.After(3 * time.Second):
		return false
	}
}

func TestPipWheelsAndConsoleScripts(t *testing.T) {
	dir, env := rootfs(t, bktest.Python)
	os.MkdirAll(filepath.Join(dir, "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "app/requirements.txt"), []byte("flask\ngunicorn==22.0.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app/app.py"), []byte("app = None\n"), 0o644)
	out := sh(t, dir, env, 0, "cd /app && pip wheel -r requirements.txt -w /wheels && ls /wheels")
	if !strings.Contains(out, "flask-1.0-py3-none-any.whl\ngunicorn-1.0-py3-none-any.whl") {
		t.Errorf("pip wheel should write a wheel per requirement:\n%s", out)
	}
	sh(t, dir, env, 0, `python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir /wheels/* &&
		test -d /opt/venv/lib/python3.11/site-packages/gunicorn && test -x /opt/venv/bin/gunicorn && test ! -e /opt/venv/bin/flask-1.0`)
	// Not installed system-wide, and the app module must exist, as imports go.
	sh(t, dir, env, 1, "cd /app && python -m gunicorn app:app")
	sh(t, dir, env, 1, "cd /app && /opt/venv/bin/gunicorn missing:app")
	sh(t, dir, env, 1, "python -m nothing_installed")
	sh(t, dir, env, 0, "pip install --no-cache-dir poetry && poetry --version && cd /app && touch pyproject.toml && poetry install --no-root && poetry run true")

	port := freePort(t)
	srv := background(t, dir, append(env, "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), fmt.Sprintf("cd /app && exec gunicorn app:app --bind 0.0.0.0:%d", port))
	if body := get(t, port, "/app.py"); body != "app = None\n" {
		t.Errorf("gunicorn should serve the app's folder, got %q", body)
	}
	if !stopsOnTERM(t, srv) {
		t.Error("gunicorn handles SIGTERM; the stand-in must stop too")
	}
}

// pip installs a folder only when it is a package, with its [project]
// dependencies, as the real pip does; version pins do not name the package;
// poetry install puts the main dependencies into the active environment.
func TestPipFoldersAndPoetryDependencies(t *testing.T) {
	dir, env := rootfs(t, bktest.Python)
	os.MkdirAll(filepath.Join(dir, "script"), 0o755)
	os.WriteFile(filepath.Join(dir, "script/server.py"), []byte("import http.server\n"), 0o644)
	out := sh(t, dir, env, 1, "pip install /script")
	if !strings.Contains(out, "Directory '/script' is not installable") {
		t.Errorf("pip install of a folder that is not a package should fail as pip does:\n%s", out)
	}
	os.MkdirAll(filepath.Join(dir, "proj"), 0o755)
	os.WriteFile(filepath.Join(dir, "proj/pyproject.toml"), []byte("[project]\nname = \"quotes\"\ndependencies = [\"fastapi>=0.111\", \"uvicorn>=0.30\"]\n"), 0o644)
	sh(t, dir, env, 0, `python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir /proj &&
		test -d /opt/venv/lib/python3.11/site-packages/proj && test -x /opt/venv/bin/uvicorn &&
		pip install --no-cache-dir poetry==1.8.3 && test -x /usr/local/bin/poetry`)
	os.MkdirAll(filepath.Join(dir, "blog"), 0o755)
	os.WriteFile(filepath.Join(dir, "blog/pyproject.toml"), []byte("[tool.poetry.dependencies]\npython = \"^3.11\"\ngunicorn = \"^22.0\"\n\n[build-system]\nrequires = [\"poetry-core\"]\n"), 0o644)
	sh(t, dir, env, 0, `cd /blog && PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv poetry install --only main --no-root &&
		test -x /opt/venv/bin/gunicorn && test ! -e /opt/venv/lib/python3.11/site-packages/python`)
}

func TestPythonRunsTheAppsOwnModule(t *testing.T) {
	dir, env := rootfs(t, bktest.PythonAlpine)
	os.MkdirAll(filepath.Join(dir, "app/app"), 0o755)
	os.WriteFile(filepath.Join(dir, "app/app/__main__.py"), []byte("print('hi')\n"), 0o644)
	port := freePort(t)
	background(t, dir, append(env, fmt.Sprintf("PORT=%d", port)), "cd /app && exec python -m app")
	if body := get(t, port, "/app/__main__.py"); body != "print('hi')\n" {
		t.Errorf("python -m app should serve the app, got %q", body)
	}
}

func TestYarnShimMapsOntoNpm(t *testing.T) {
	dir, env := rootfs(t, bktest.NodeAlpine)
	app := filepath.Join(dir, "app")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "package.json"), []byte(`{
  "name": "svc",
  "scripts": { "build": "tsc -p .", "start": "node build/index.js" },
  "dependencies": { "koa": "^2.15.0" },
  "devDependencies": { "typescript": "^5.4.0" }
}`), 0o644)
	sh(t, dir, env, 1, "cd /app && yarn install --frozen-lockfile") // no yarn.lock
	os.WriteFile(filepath.Join(app, "yarn.lock"), nil, 0o644)
	sh(t, dir, env, 0, `cd /app && yarn install --frozen-lockfile && test -d node_modules/typescript &&
		yarn build && test -f build/index.js && test -f dist/index.html &&
		yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline &&
		test -d node_modules/koa && test ! -d node_modules/typescript &&
		test -d /usr/local/share/.cache/yarn/_cacache && yarn --version`)
	sh(t, dir, env, 0, "corepack enable && yarn --version")
	sh(t, dir, env, 1, "corepack prepare pnpm@9.1.0 --activate")
}

func TestNginxStandInServesItsSiteAndStops(t *testing.T) {
	dir, env := rootfs(t, bktest.NginxUnprivileged)
	sh(t, dir, env, 0, `grep -q "listen       8080;" /etc/nginx/conf.d/default.conf && id nginx | grep -q "uid=101(nginx)"`)
	port := freePort(t)
	conf := filepath.Join(dir, "etc/nginx/conf.d/default.conf")
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte(strings.Replace(string(data), "8080", fmt.Sprint(port), 1)), 0o644)
	srv := background(t, dir, env, "exec nginx -g 'daemon off;'")
	if body := get(t, port, "/"); !strings.Contains(body, "Welcome to nginx!") {
		t.Errorf("nginx should serve its default page, got %q", body)
	}
	if !stopsOnTERM(t, srv) {
		t.Error("nginx stops on SIGTERM; the stand-in must too")
	}
}

package detect

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// expect is what a fixture must yield; zero fields are not checked except
// where noted. The goldens pin the full result; this table states the
// conclusions each case exists for, so that a regenerated golden cannot
// quietly change them.
type expect struct {
	eco       Ecosystem
	framework string
	pm        string
	// versions lists key=version pairs, sorted, space-separated; "-" means
	// no versions at all.
	versions string
	// entry is "kind value".
	entry string
	port  int
	root  string
	also  string
	// conflicts are substrings; each must match its own conflict, and
	// there must be no other conflicts.
	conflicts []string
	// notes are substrings that must each match a note.
	notes []string
	// minConf and maxConf bound the confidence.
	minConf, maxConf float64
	check            func(t *testing.T, r *Result)
}

var expectations = map[string]expect{
	"python-flask-gunicorn": {eco: Python, framework: "flask", pm: "pip", versions: "python=3.12", entry: "module app:app", port: 8000, minConf: 0.85,
		check: func(t *testing.T, r *Result) {
			is(t, "server", r.Python.Server, "gunicorn")
			is(t, "interface", r.Python.Interface, "wsgi")
			is(t, "command", strings.Join(r.Entrypoint.Command, " "), "gunicorn --bind 0.0.0.0:8000 --workers 2 app:app")
		}},
	"python-poetry-django": {eco: Python, framework: "django", pm: "poetry", versions: "python=3.11.8", entry: "module mysite.wsgi:application", port: 8000,
		check: func(t *testing.T, r *Result) {
			is(t, "settings", r.Python.Settings, "mysite.settings")
			is(t, "lockfile", r.Python.Lockfile, "poetry.lock")
			is(t, "backend", r.Python.BuildBackend, "poetry.core.masonry.api")
		}},
	"python-uv-fastapi": {eco: Python, framework: "fastapi", pm: "uv", versions: "python=3.12", entry: "module app.main:app", port: 8080, minConf: 0.9,
		check: func(t *testing.T, r *Result) {
			is(t, "venv", r.Python.Venv, true)
			is(t, "interface", r.Python.Interface, "asgi")
			is(t, "constraint", r.Versions["python"].Constraint, ">=3.12")
		}},
	"python-pdm-starlette": {eco: Python, framework: "starlette", pm: "pdm", versions: "python=3.10", entry: "module feeds.app:app", port: 8000,
		check: func(t *testing.T, r *Result) { is(t, "server", r.Python.Server, "hypercorn") }},
	"python-hatch-cli":        {eco: Python, pm: "hatch", versions: "python=3.9", entry: "command reportgen"},
	"python-setuptools-flask": {eco: Python, framework: "flask", pm: "pip", versions: "-", entry: "module wsgi:app", port: 8080},
	"python-pipenv-django": {eco: Python, framework: "django", pm: "pipenv", versions: "python=3.10", entry: "module shop.wsgi:application", port: 8000,
		check: func(t *testing.T, r *Result) { is(t, "settings", r.Python.Settings, "shop.settings.production") }},
	"python-venv-multistage": {eco: Python, pm: "pip", versions: "python=3.11", entry: "script main.py",
		check: func(t *testing.T, r *Result) {
			is(t, "venv", r.Python.Venv, true)
			is(t, "command", strings.Join(r.Entrypoint.Command, " "), "python -u /app/main.py")
			is(t, "requirements", strings.Join(r.Python.Requirements, " "), "requirements.txt requirements-base.txt")
		}},
	"python-quoted-workdir":  {eco: Python, pm: "pip", entry: "script main.py"},
	"python-procfile-heroku": {eco: Python, framework: "django", pm: "pip", versions: "python=3.11.6", entry: "module config.wsgi", port: 8000},
	"python-pyproject-setuptools": {eco: Python, framework: "quart", pm: "pip", versions: "python=3.11", entry: "module ledger.web:app", port: 8000,
		check: func(t *testing.T, r *Result) {
			is(t, "backend", r.Python.BuildBackend, "setuptools.build_meta")
			is(t, "server", r.Python.Server, "hypercorn")
			is(t, "interface", r.Python.Interface, "asgi")
		}},
	"python-with-node-assets": {eco: Python, framework: "django", pm: "pip", versions: "python=3.11", entry: "module portal.asgi:application", port: 8000, also: "node",
		check: func(t *testing.T, r *Result) { is(t, "interface", r.Python.Interface, "asgi") }},

	"node-vite-vanilla": {eco: Node, framework: "vite", pm: "pnpm", versions: "node=22.2.0", entry: "directory site",
		check: func(t *testing.T, r *Result) { is(t, "static", r.Node.Static, true) }},
	"node-express-npm": {eco: Node, framework: "express", pm: "npm", versions: "node=20.11.1", entry: "script server.js", port: 3000},
	"node-next-pnpm": {eco: Node, framework: "next", pm: "pnpm", versions: "node=20 pnpm=9.1.0", entry: "command pnpm start", port: 3000, minConf: 0.9,
		check: func(t *testing.T, r *Result) {
			is(t, "static", r.Node.Static, false)
			is(t, "typescript", r.Node.TypeScript, true)
		}},
	"node-vite-react-nginx": {eco: Node, framework: "react", pm: "yarn", versions: "node=18", entry: "directory dist", port: 80,
		check: func(t *testing.T, r *Result) {
			is(t, "static", r.Node.Static, true)
			is(t, "final image", r.Base[1].Runtime, "nginx")
		}},
	"node-nest":               {eco: Node, framework: "nest", pm: "npm", versions: "-", entry: "script dist/main", port: 3000},
	"node-angular":            {eco: Node, framework: "angular", pm: "npm", entry: "directory dist/shop"},
	"node-vue-cli":            {eco: Node, framework: "vue", pm: "npm", entry: "directory public-dist"},
	"node-bun":                {eco: Node, pm: "bun", versions: "bun=1.1", entry: "command bun run index.ts", port: 3000},
	"node-two-lockfiles":      {eco: Node, framework: "koa", pm: "yarn", entry: "script index.js", port: 8081, conflicts: []string{"several Node.js lockfiles"}},
	"node-next-static-export": {eco: Node, framework: "next", pm: "npm", entry: "directory out"},
	"node-dockerignore-lockfile": {eco: Node, framework: "fastify", pm: "npm", versions: "node=20", entry: "script src/index.js", port: 8080,
		conflicts: []string{"copies package-lock.json, which .dockerignore excludes"}},

	"go-single-main": {eco: Go, pm: "go", versions: "go=1.22.5", entry: "package .", port: 8090,
		check: func(t *testing.T, r *Result) {
			is(t, "module", r.Go.Module, "github.com/acme/hello")
			is(t, "toolchain", r.Go.Toolchain, "go1.22.5")
			is(t, "binary", r.Go.Binary, "hello")
		}},
	"go-gin-cmd-distroless": {eco: Go, framework: "gin", pm: "go", versions: "go=1.22.3", entry: "package ./cmd/api", port: 8080,
		check: func(t *testing.T, r *Result) {
			is(t, "main packages", strings.Join(r.Go.MainPackages, " "), "./cmd/api ./cmd/worker")
			is(t, "binary", r.Go.Binary, "shop-api")
			is(t, "final user", r.Base[1].User.UID, 65532)
			is(t, "final non-root", r.Base[1].NonRootDefault, true)
		}},
	"go-cgo": {eco: Go, pm: "go", versions: "go=1.21", entry: "package .", conflicts: []string{`CGO_ENABLED=0 but the code imports "C"`},
		check: func(t *testing.T, r *Result) { is(t, "cgo", r.Go.CGO, true) }},
	"go-cgo-imported": {eco: Go, pm: "go", entry: "package ./cmd/server", port: 8080,
		check: func(t *testing.T, r *Result) {
			is(t, "cgo", r.Go.CGO, true)
			found := false
			for _, e := range r.Evidence {
				found = found || e.File == "internal/sqlite/sqlite.go" && e.Line == 6
			}
			is(t, "cgo evidence at internal/sqlite/sqlite.go:6", found, true)
		}},
	"go-cgo-unrelated-tool": {eco: Go, pm: "go", entry: "package ./cmd/gateway",
		check: func(t *testing.T, r *Result) {
			is(t, "cgo", r.Go.CGO, false)
			is(t, "main packages", strings.Join(r.Go.MainPackages, " "), "./cmd/gateway ./tools/probe")
		}},
	"go-sqlite-module": {eco: Go, pm: "go", entry: "package .",
		check: func(t *testing.T, r *Result) { is(t, "cgo", r.Go.CGO, true) }},
	"go-workspace-vendor": {eco: Go, pm: "go", versions: "go=1.23.1", entry: "package .", port: 9000,
		check: func(t *testing.T, r *Result) {
			is(t, "vendor", r.Go.Vendor, true)
			is(t, "workspace", r.Go.Workspace, true)
			is(t, "main packages", strings.Join(r.Go.MainPackages, " "), ".")
		}},

	"java-maven-spring-boot": {eco: Java, framework: "spring-boot", pm: "maven", versions: "java=21 maven=3.9.6", entry: "jar target/payments-0.0.1-SNAPSHOT.jar", port: 8081,
		check: func(t *testing.T, r *Result) {
			is(t, "boot version", r.Java.SpringBootVersion, "3.2.5")
			is(t, "wrapper", r.Java.Wrapper, true)
		}},
	"java-maven-multimodule": {eco: Java, framework: "spring-boot", pm: "maven", versions: "java=17", entry: "jar service/target/ledger.jar", port: 8080},
	"java-gradle-kotlin-spring": {eco: Java, framework: "spring-boot", pm: "gradle", versions: "gradle=8.5 java=17", entry: "jar build/libs/catalog-0.0.1-SNAPSHOT.jar", port: 9090,
		check: func(t *testing.T, r *Result) { is(t, "kotlin", r.Java.Kotlin, true) }},
	"java-gradle-init-app":  {eco: Java, pm: "gradle", versions: "java=11", entry: "jar app/build/libs/app.jar"},
	"java-maven-war-tomcat": {eco: Java, pm: "maven", versions: "java=8", entry: "war target/legacy.war", port: 8080},

	"ruby-rails-puma": {eco: Ruby, framework: "rails", pm: "bundler", versions: "bundler=2.5.6 ruby=3.3.0", entry: "command bin/rails server", port: 3000,
		check: func(t *testing.T, r *Result) { is(t, "server", r.Ruby.Server, "puma") }},
	"ruby-sinatra-rack": {eco: Ruby, framework: "sinatra", pm: "bundler", versions: "ruby=3.2.4", entry: "command bundle exec rackup", port: 9292},

	"rust-axum": {eco: Rust, framework: "axum", pm: "cargo", versions: "rust=1.77.2", entry: "binary tiles", port: 3001},
	"rust-workspace": {eco: Rust, framework: "warp", pm: "cargo", versions: "rust=1.78", entry: "binary relayd",
		check: func(t *testing.T, r *Result) {
			is(t, "bins", strings.Join(r.Rust.Bins, " "), "relayd")
			is(t, "members", strings.Join(r.Rust.Members, " "), "crates/proto crates/relay")
		}},

	"php-laravel-fpm": {eco: PHP, framework: "laravel", pm: "composer", versions: "php=8.2", entry: "directory public", port: 9000,
		check: func(t *testing.T, r *Result) {
			is(t, "server", r.PHP.Server, "fpm")
			is(t, "extensions", strings.Join(r.PHP.Extensions, " "), "mbstring pdo")
		}},
	"php-symfony-apache": {eco: PHP, framework: "symfony", pm: "composer", versions: "php=8.2", entry: "directory public", port: 80,
		check: func(t *testing.T, r *Result) { is(t, "server", r.PHP.Server, "apache") }},
	"php-plain-site": {eco: PHP, versions: "php=8.1", entry: "directory ."},

	"dotnet-webapi": {eco: DotNet, framework: "aspnetcore", pm: "nuget", versions: "dotnet=8.0 dotnet-sdk=8.0.204", entry: "assembly Orders.Api.dll", port: 8080,
		check: func(t *testing.T, r *Result) {
			is(t, "project", r.DotNet.Project, "src/Orders.Api/Orders.Api.csproj")
			is(t, "runtime user", r.Base[1].User.Name, "app")
		}},
	"dotnet-directory-build-props": {eco: DotNet, framework: "aspnetcore", pm: "nuget", versions: "dotnet=9.0", entry: "assembly Shop.Web.dll", port: 8080,
		check: func(t *testing.T, r *Result) { is(t, "tfm", r.DotNet.TargetFramework, "net9.0") }},
	"dotnet-worker-fsharp":     {eco: DotNet, framework: "worker", pm: "nuget", versions: "dotnet=6.0", entry: "assembly ingest-worker.dll"},
	"dotnet-framework-windows": {eco: DotNet, entry: "assembly Site.dll", conflicts: []string{"Windows containers only"}},

	"static-nginx-html":         {eco: Static, entry: "directory .", port: 80},
	"static-public-folder":      {eco: Static, entry: "directory public", versions: "-"},
	"static-hugo":               {eco: Static, framework: "hugo", entry: "directory public"},
	"static-httpd-unprivileged": {eco: Static, entry: "directory site", port: 80, check: func(t *testing.T, r *Result) { is(t, "server", r.Static.Server, "httpd") }},

	"monorepo-dockerfile-in-subfolder": {eco: Go, pm: "go", entry: "package .", root: ".",
		check: func(t *testing.T, r *Result) { is(t, "also", len(r.Also), 0) }},
	"monorepo-root-context":      {eco: Python, framework: "django", pm: "pip", entry: "module billing.wsgi:application", root: "services/billing", also: "node", port: 8000},
	"monorepo-several-apps":      {eco: Unknown, maxConf: 0.001, notes: []string{"several folders hold applications (api, web)"}},
	"monorepo-single-app-folder": {eco: Python, framework: "aiohttp", root: "app", notes: []string{"detected the application in app/"}},

	"dockerfile-only-node": {eco: Node, pm: "npm", versions: "node=20.12", entry: "script server.js", port: 3000, minConf: 0.5, maxConf: 0.7,
		check: func(t *testing.T, r *Result) {
			is(t, "distro", r.Base[0].Distro+" "+r.Base[0].DistroRelease, "alpine 3.19")
		}},
	"dockerfile-only-go-distroless": {eco: Go, pm: "go", versions: "go=1.22", entry: "package ./cmd/server", maxConf: 0.6,
		check: func(t *testing.T, r *Result) { is(t, "binary", r.Go.Binary, "server") }},
	"dockerfile-only-unknown": {eco: Unknown, maxConf: 0.001,
		check: func(t *testing.T, r *Result) { is(t, "variable", r.Base[0].Variable, true) }},

	"conflict-node-dockerfile-go-context": {eco: Go, entry: "package .", maxConf: 0.3, conflicts: []string{
		"the Dockerfile builds a node application", "copies package.json, which is not in the build context", "copies package-lock.json, which is not in the build context"}},
	"conflict-port-and-version": {eco: Python, framework: "flask", versions: "python=3.12", port: 8000, conflicts: []string{
		"port mismatch: EXPOSE 5000", "version mismatch: python 3.12 at .python-version:1 but 3.10 at Dockerfile:1"}},

	"empty-folder": {eco: Unknown, versions: "-", maxConf: 0.001},
	"bad-manifests": {eco: Python, also: "node go", maxConf: 0.6,
		conflicts: []string{"python and node are equally likely"},
		notes:     []string{"invalid JSON", "invalid TOML", "invalid go.mod", `"node" is not a version`}},
	"arg-base-images": {eco: Python, versions: "python=3.12", entry: "script app.py",
		check: func(t *testing.T, r *Result) {
			is(t, "expanded", r.Base[0].Ref, "python:3.12-slim")
			is(t, "unexpanded distro", r.Base[1].Distro, "unknown")
			is(t, "variable", r.Base[1].Variable, true)
			is(t, "version kept", r.Base[1].RuntimeVersion, "3.12")
		}},
}

func is[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestExpectations checks the table above against every fixture, and
// that no fixture lacks an entry.
func TestExpectations(t *testing.T) {
	seen := map[string]bool{}
	for _, fx := range loadFixtures(t) {
		seen[fx.name] = true
		want, ok := expectations[fx.name]
		if !ok {
			t.Errorf("fixture %s has no entry in the expectations table", fx.name)
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			r := fx.run(t)
			is(t, "ecosystem", r.Ecosystem, want.eco)
			is(t, "framework", r.Framework, want.framework)
			if want.pm != "" {
				is(t, "package manager", r.PackageManager, want.pm)
			}
			if want.versions != "" {
				is(t, "versions", versionList(r.Versions), want.versions)
			}
			if want.entry != "" {
				got := ""
				if r.Entrypoint != nil {
					got = string(r.Entrypoint.Kind) + " " + r.Entrypoint.Value
				}
				is(t, "entrypoint", got, want.entry)
			}
			if want.port != 0 {
				is(t, "port", r.Port, want.port)
			}
			root := want.root
			if root == "" {
				root = "."
			}
			is(t, "root", r.Root, root)
			is(t, "also", ecoList(r.Also), want.also)
			matchAll(t, "conflict", r.Conflicts, want.conflicts, true)
			var notes []string
			for _, n := range r.Notes {
				notes = append(notes, n.File+": "+n.Why)
			}
			matchAll(t, "note", notes, want.notes, false)
			if r.Confidence < want.minConf || want.maxConf > 0 && r.Confidence > want.maxConf {
				t.Errorf("confidence %.2f outside [%.2f, %.2f]", r.Confidence, want.minConf, want.maxConf)
			}
			if r.Ecosystem != Unknown && len(r.Evidence) == 0 {
				t.Error("a conclusion without evidence")
			}
			if want.check != nil {
				want.check(t, r)
			}
		})
	}
	for name := range expectations {
		if !seen[name] {
			t.Errorf("expectation %s has no fixture testdata/contexts/%s.txtar", name, name)
		}
	}
}

func versionList(vs map[string]Version) string {
	if len(vs) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(vs))
	for k := range vs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + vs[k].Version
	}
	return strings.Join(out, " ")
}

func ecoList(es []Ecosystem) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e)
	}
	return strings.Join(out, " ")
}

// matchAll checks that each wanted substring matches a distinct entry;
// with exact, that nothing else is there.
func matchAll(t *testing.T, what string, got, want []string, exact bool) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && strings.Contains(g, w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("no %s matches %q; got %s", what, w, fmt.Sprintf("%q", got))
		}
	}
	if exact {
		for i, g := range got {
			if !used[i] {
				t.Errorf("unexpected %s: %s", what, g)
			}
		}
	}
}

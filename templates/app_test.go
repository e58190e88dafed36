package templates

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/harden-dev/harden/detect"
)

// TestNewAppFromFlagsOnly covers a folder that does not exist yet: every
// ecosystem must come out renderable from --lang alone, with defaults
// pinned and a note saying so.
func TestNewAppFromFlagsOnly(t *testing.T) {
	for _, eco := range detect.Ecosystems {
		if eco == detect.Unknown {
			continue
		}
		t.Run(string(eco), func(t *testing.T) {
			a, err := NewApp(nil, nil, Overrides{Ecosystem: string(eco)}, "Billing Service")
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != "billing-service" {
				t.Errorf("name %q, want billing-service", a.Name)
			}
			if d := runtimeDefaults()[eco]; a.Version != d.version && eco != detect.Static {
				t.Errorf("version %q, want the default %q", a.Version, d.version)
			}
			files, err := Embedded().Render(a, Dockerfile, DockerIgnore, Compose)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 3 {
				t.Fatalf("%d files rendered", len(files))
			}
			if eco != detect.Static && !slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, "harden's default") }) {
				t.Errorf("no note about the default version in %q", a.Notes)
			}
		})
	}
}

func TestNewAppOverridesWin(t *testing.T) {
	facts := &detect.Result{
		Ecosystem: detect.Python, Framework: "flask", PackageManager: "pip", Port: 5000, Root: ".",
		Versions: map[string]detect.Version{"python": {Version: "3.11"}},
		Python:   &detect.PythonFacts{App: "app:app", Server: "gunicorn", Interface: "wsgi"},
	}
	a, err := NewApp(nil, facts, Overrides{Port: 9000, Version: "3.13", PackageManager: "uv"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if a.Port != 9000 || a.Version != "3.13" || a.Variant != "python/uv" {
		t.Errorf("port %d, version %s, variant %s; want 9000, 3.13, python/uv", a.Port, a.Version, a.Variant)
	}
	if want := []string{"gunicorn", "--bind", "0.0.0.0:9000", "app:app"}; !slices.Equal(a.Command, want) {
		t.Errorf("command %q, want %q", a.Command, want)
	}

	// --lang for another ecosystem drops everything detection said.
	a, err = NewApp(nil, facts, Overrides{Ecosystem: "golang"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if a.Ecosystem != detect.Go || a.Framework != "" || a.Port != 8080 || a.Version != runtimeDefaults()[detect.Go].version {
		t.Errorf("got %s %q port %d version %s, want go with its defaults", a.Ecosystem, a.Framework, a.Port, a.Version)
	}
}

func TestNewAppVariantImpliesEcosystem(t *testing.T) {
	a, err := NewApp(nil, nil, Overrides{Variant: "node/static"}, "site")
	if err != nil {
		t.Fatal(err)
	}
	if a.Ecosystem != detect.Node || a.Variant != "node/static" || a.Port != 8080 || a.Static == nil {
		t.Errorf("got %s %s port %d, want a node/static site on 8080", a.Ecosystem, a.Variant, a.Port)
	}
}

func TestNewAppRefuses(t *testing.T) {
	python := &detect.Result{Ecosystem: detect.Python, Root: "."}
	for _, tc := range []struct {
		name  string
		facts *detect.Result
		over  Overrides
		want  string
	}{
		{"nothing detected", nil, Overrides{}, ErrUnknownEcosystem.Error()},
		{"unknown language", nil, Overrides{Ecosystem: "cobol"}, `unknown language "cobol"`},
		{"port out of range", python, Overrides{Port: 65536}, "not between 1 and 65535"},
		{"version with a space", python, Overrides{Version: "3.12 AS x"}, "is not an image tag version"},
		{"version latest is a word, but with a slash", python, Overrides{Version: "../latest"}, "is not an image tag version"},
		{"a Go package that breaks the RUN line", nil, Overrides{Ecosystem: "go", Entrypoint: "./cmd/api && curl x"}, "harden does not write into a Dockerfile"},
		{"a Rust binary with a quote", nil, Overrides{Ecosystem: "rust", Entrypoint: `api"`}, "harden does not write into a Dockerfile"},
		{"a path outside the app", nil, Overrides{Ecosystem: "java", Entrypoint: "../other/app.jar"}, "outside the app's folder"},
		{"pipenv", python, Overrides{PackageManager: "pipenv"}, "no Python template for pipenv"},
		{"bun", nil, Overrides{Ecosystem: "node", PackageManager: "bun"}, "no Node.js template for bun"},
		{"a WAR", &detect.Result{Ecosystem: detect.Java, Root: ".", Java: &detect.JavaFacts{BuildTool: "maven", Packaging: "war"}}, Overrides{}, "WAR"},
		{"frankenphp", &detect.Result{Ecosystem: detect.PHP, Root: ".", PHP: &detect.PHPFacts{Server: "frankenphp"}}, Overrides{}, "not frankenphp"},
		{"a hugo site", &detect.Result{Ecosystem: detect.Static, Root: ".", Static: &detect.StaticFacts{Root: "public", Generator: "hugo"}}, Overrides{}, "built with hugo"},
		{"an app in a subfolder", &detect.Result{Ecosystem: detect.Node, Root: "web"}, Overrides{}, "subfolder web"},
		{"a variant that is not a folder name", nil, Overrides{Variant: "../x"}, "first part must be a language"},
		{"a user with a slash", python, Overrides{User: User{Name: "a/b", UID: 1}}, "has characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewApp(nil, tc.facts, tc.over, "app")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := NewApp(nil, nil, Overrides{}, "app"); !errors.Is(err, ErrUnknownEcosystem) {
		t.Errorf("error %v is not ErrUnknownEcosystem", err)
	}
}

func TestTeamUser(t *testing.T) {
	a, err := NewApp(nil, nil, Overrides{Ecosystem: "python", User: User{Name: "svc", UID: 20000}}, "api")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Embedded().Render(a, Dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	df := string(files[0].Data)
	for _, want := range []string{
		"groupadd --system --gid 20000 svc && useradd --system --create-home --home-dir /home/svc --uid 20000 --gid svc",
		"\nUSER 20000:20000\n",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q:\n%s", want, df)
		}
	}
}

func TestPythonCommands(t *testing.T) {
	for _, tc := range []struct {
		name  string
		facts detect.PythonFacts
		over  Overrides
		want  []string
		note  string
	}{
		{"uvicorn app", detect.PythonFacts{App: "app.main:app", Server: "uvicorn", Interface: "asgi"}, Overrides{}, []string{"uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"}, ""},
		{"daphne", detect.PythonFacts{App: "proj.asgi:application", Server: "daphne", Interface: "asgi"}, Overrides{}, []string{"daphne", "--bind", "0.0.0.0", "--port", "8000", "proj.asgi:application"}, ""},
		{"granian serves WSGI too", detect.PythonFacts{App: "app:app", Server: "granian", Interface: "wsgi"}, Overrides{}, []string{"granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "app:app"}, ""},
		{"no server yet", detect.PythonFacts{App: "app:app", Interface: "wsgi"}, Overrides{}, []string{"gunicorn", "--bind", "0.0.0.0:8000", "app:app"}, "does not depend on gunicorn"},
		{"a script", detect.PythonFacts{}, Overrides{Entrypoint: "worker.py"}, []string{"python", "worker.py"}, ""},
		{"a console command", detect.PythonFacts{}, Overrides{Entrypoint: "celery -A proj worker"}, []string{"celery", "-A", "proj", "worker"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			facts := &detect.Result{Ecosystem: detect.Python, Root: ".", Python: &tc.facts}
			a, err := NewApp(nil, facts, tc.over, "app")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Command, tc.want) {
				t.Errorf("command %q, want %q", a.Command, tc.want)
			}
			if tc.note != "" && !slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Errorf("notes %q lack %q", a.Notes, tc.note)
			}
		})
	}
}

func TestNodeStartCommands(t *testing.T) {
	for _, tc := range []struct {
		start string
		want  []string
	}{
		{"node dist/main.js", []string{"node", "dist/main.js"}},
		{"next start", []string{"/app/node_modules/.bin/next", "start"}},
		{"NODE_OPTIONS=--max-old-space-size=400 node index.js", []string{"npm", "start"}},
		{"node index.js && echo done", []string{"npm", "start"}},
		{"my-launcher", []string{"npm", "start"}},
	} {
		facts := &detect.Result{Ecosystem: detect.Node, Root: ".", Node: &detect.NodeFacts{Start: tc.start}}
		a, err := NewApp(nil, facts, Overrides{}, "app")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Command, tc.want) {
			t.Errorf("start %q: command %q, want %q", tc.start, a.Command, tc.want)
		}
	}
}

func TestImageName(t *testing.T) {
	for in, want := range map[string]string{
		"api": "api", "My App": "my-app", "--": "app", "Svc_1.2": "svc_1.2", "été": "t", ".hidden": "hidden",
	} {
		if got := imageName(in); got != want {
			t.Errorf("imageName(%q) = %q, want %q", in, got, want)
		}
	}
}

package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userTemplates writes a user's template folder.
func userTemplates(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func goApp(t *testing.T) *App {
	t.Helper()
	a, err := NewApp(nil, nil, Overrides{Ecosystem: "go"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLookupOrder: the user's folder wins at every level, the variant's
// folder wins over the folders above it, harden's fill in the rest.
func TestLookupOrder(t *testing.T) {
	dir := userTemplates(t, map[string]string{
		"Dockerfile.tmpl":      "FROM scratch\nLABEL from=user-root\n",
		"compose.yaml.tmpl":    "services:\n  {{.Name}}:\n    image: user-compose\n",
		"_shared.tmpl":         `{{define "header"}}# user header{{end}}`,
		"python/.keep":         "",
		"rust/Dockerfile.tmpl": "{{template \"header\" .}}\nFROM scratch\nLABEL from=user-rust\n",
	})
	src, err := WithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	render := func(a *App, name string) File {
		t.Helper()
		files, err := src.Render(a, name)
		if err != nil {
			t.Fatal(err)
		}
		return files[0]
	}

	// A user's top-level Dockerfile beats harden's go/Dockerfile.tmpl.
	if f := render(goApp(t), Dockerfile); !strings.Contains(string(f.Data), "user-root") || f.Template != dir+":Dockerfile.tmpl" {
		t.Errorf("go Dockerfile from %s:\n%s", f.Template, f.Data)
	}
	// The user's rust/ template beats their top-level one, and their
	// _shared.tmpl replaces harden's blocks.
	rust, err := NewApp(nil, nil, Overrides{Ecosystem: "rust"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if f := render(rust, Dockerfile); string(f.Data) != "# user header\nFROM scratch\nLABEL from=user-rust\n" {
		t.Errorf("rust Dockerfile from %s:\n%s", f.Template, f.Data)
	}
	// harden's go/.dockerignore.tmpl fills in what the user has not got.
	if f := render(goApp(t), DockerIgnore); f.Template != "harden:go/.dockerignore.tmpl" {
		t.Errorf(".dockerignore from %s", f.Template)
	}
	if f := render(goApp(t), Compose); !strings.Contains(string(f.Data), "user-compose") {
		t.Errorf("compose.yaml from %s", f.Template)
	}
}

func TestRenderErrorsNameTheTemplate(t *testing.T) {
	dir := userTemplates(t, map[string]string{
		"go/parse/Dockerfile.tmpl":        "FROM {{.Version\n",
		"go/missing/Dockerfile.tmpl":      "FROM golang:{{.NoSuchField}}\n",
		"go/version/Dockerfile.tmpl":      "FROM golang:{{.Versions.nosuchtool}}\n",
		"go/broken/Dockerfile.tmpl":       "FROM golang:{{.Version}}\nONBUILD ONBUILD RUN true\n",
		"go/badyaml/Dockerfile.tmpl":      "FROM golang:{{.Version}}\n",
		"go/badyaml/compose.yaml.tmpl":    "services: [\n",
		"go/noservices/Dockerfile.tmpl":   "FROM golang:{{.Version}}\n",
		"go/noservices/compose.yaml.tmpl": "volumes: {}\n",
		"go/badignore/Dockerfile.tmpl":    "FROM golang:{{.Version}}\n",
		"go/badignore/.dockerignore.tmpl": "[\n",
	})
	src, err := WithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for variant, want := range map[string]string{
		"go/parse":      dir + ":go/parse/Dockerfile.tmpl",
		"go/missing":    "can't evaluate field NoSuchField",
		"go/version":    `map has no entry for key "nosuchtool"`,
		"go/broken":     "renders a Dockerfile that BuildKit rejects",
		"go/badyaml":    "renders a compose.yaml that is not valid YAML",
		"go/noservices": "renders a compose.yaml that has no services",
		"go/badignore":  "renders a .dockerignore that BuildKit rejects",
		"go/nothing":    "there are no templates for go/nothing: no folder go/nothing in " + dir + " or harden",
	} {
		t.Run(variant, func(t *testing.T) {
			a, err := NewApp(nil, nil, Overrides{Variant: variant}, "api")
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Render(a, Dockerfile, DockerIgnore, Compose)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want one containing %q", err, want)
			}
		})
	}
}

func TestWithDirNeedsAFolder(t *testing.T) {
	if _, err := WithDir(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("a missing folder is accepted")
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WithDir(file); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as templates folder: %v", err)
	}
}

func TestEmbeddedVariants(t *testing.T) {
	got, err := Embedded().Variants()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dotnet", "go", "java/gradle", "java/maven", "node/server", "node/static", "php/apache", "php/fpm",
		"python/pip", "python/poetry", "python/uv", "ruby/rack", "ruby/rails", "rust", "static"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("variants %q, want %q", got, want)
	}
}

func TestCopyFiles(t *testing.T) {
	got := copyFiles([]string{"package.json", "package-lock.json", ".yarn/releases/", "requirements/base.txt", ".npmrc", "requirements/prod.txt"})
	want := "COPY package.json package-lock.json .npmrc ./\n" +
		"COPY .yarn/releases/ .yarn/releases/\n" +
		"COPY requirements/base.txt requirements/prod.txt requirements/"
	if got != want {
		t.Errorf("copyFiles:\n%s\nwant:\n%s", got, want)
	}
}

func TestExecForm(t *testing.T) {
	got, err := execForm([]string{"sh", "-c", "echo \"<hi>\"\nexit 1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `["sh", "-c", "echo \"<hi>\"\nexit 1"]`; got != want {
		t.Errorf("execForm = %s, want %s", got, want)
	}
}

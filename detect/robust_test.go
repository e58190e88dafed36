package detect

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// manifestNames are every file a detector parses, with a valid example
// that garbage is derived from.
var parsedFiles = map[string]string{
	"package.json":                       `{"name":"a","scripts":{"start":"node a.js","build":"vite build"},"engines":{"node":">=18"},"dependencies":{"express":"4"}}`,
	"pyproject.toml":                     "[project]\nname = \"a\"\nrequires-python = \">=3.11\"\ndependencies = [\"fastapi\"]\n",
	"Pipfile":                            "[packages]\ndjango = \"*\"\n[requires]\npython_version = \"3.11\"\n",
	"requirements.txt":                   "flask==3\n-r base.txt\ngunicorn\n",
	"go.mod":                             "module example.com/a\n\ngo 1.22\n\ntoolchain go1.22.5\n",
	"pom.xml":                            "<project><artifactId>a</artifactId><version>1</version><properties><java.version>21</java.version></properties></project>",
	"build.gradle":                       "plugins { id 'org.springframework.boot' version '3.2.0' }\njava { toolchain { languageVersion = JavaLanguageVersion.of(21) } }\n",
	"Gemfile":                            "source 'https://rubygems.org'\nruby '3.3.0'\ngem 'rails'\n",
	"Gemfile.lock":                       "GEM\n  specs:\n    rails (7.1.3)\n\nRUBY VERSION\n   ruby 3.3.0p0\n\nBUNDLED WITH\n   2.5.6\n",
	"Cargo.toml":                         "[package]\nname = \"a\"\nrust-version = \"1.75\"\n[[bin]]\nname = \"a\"\n[workspace]\nmembers = [\"crates/*\"]\n",
	"rust-toolchain.toml":                "[toolchain]\nchannel = \"1.77.2\"\n",
	"composer.json":                      `{"require":{"php":"^8.2","laravel/framework":"^11","ext-pdo":"*"},"config":{"platform":{"php":"8.2.0"}}}`,
	"App.csproj":                         `<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>`,
	"global.json":                        `{"sdk":{"version":"8.0.100"}}`,
	"angular.json":                       `{"projects":{"a":{"architect":{"build":{"options":{"outputPath":"dist/a"}}}}}}`,
	".nvmrc":                             "20\n",
	".python-version":                    "3.12\n",
	".tool-versions":                     "python 3.12.1\nnodejs 20.1.0\n",
	"Procfile":                           "web: gunicorn app:app\n",
	"manage.py":                          "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'a.settings')\n",
	"main.go":                            "package main\n\nimport \"C\"\n\nfunc main() {}\n",
	"app.py":                             "from flask import Flask\napp = Flask(__name__)\n",
	"src/main/resources/application.yml": "server:\n  port: 8081\n",
	"next.config.js":                     "module.exports = { output: 'export' }\n",
	"config/puma.rb":                     "port ENV.fetch('PORT') { 3000 }\n",
}

// garbage derives broken variants of a valid file.
func garbage(valid string, rng *rand.Rand) map[string][]byte {
	random := make([]byte, 512)
	rng.Read(random)
	flipped := []byte(valid)
	for i := 0; i < len(flipped)/8+1; i++ {
		flipped[rng.Intn(len(flipped))] = byte(rng.Intn(256))
	}
	return map[string][]byte{
		"empty":      nil,
		"random":     random,
		"truncated":  []byte(valid[:len(valid)/2]),
		"flipped":    flipped,
		"nul":        append([]byte(valid[:len(valid)/3]), 0, 0, 0),
		"nested":     bytes.Repeat([]byte("[{"), 50_000),
		"enormous":   bytes.Repeat([]byte("a"), maxManifestSize+10),
		"wrong type": []byte(`[1, "two", {"three": null}]`),
		"bom":        append([]byte{0xEF, 0xBB, 0xBF}, valid...),
		"crlf":       []byte(strings.ReplaceAll(valid, "\n", "\r\n")),
	}
}

// primaryManifests are read whenever they exist, so an enormous one must
// always be noted; the other files are read only when a manifest makes
// them matter, and source files only by their first bytes.
var primaryManifests = []string{"package.json", "pyproject.toml", "Pipfile", "requirements.txt", "go.mod", "pom.xml", "build.gradle", "Gemfile", "Cargo.toml", "composer.json", "App.csproj"}

// TestGarbageManifests feeds broken variants of every parsed file to
// detection, beside valid versions of all the others so that every
// reader runs: nothing may panic and the result must stay well-formed.
func TestGarbageManifests(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	df, err := dockerfile.Parse("Dockerfile", []byte("FROM python:3.12\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, valid := range parsedFiles {
		for kind, data := range garbage(valid, rng) {
			t.Run(name+"/"+kind, func(t *testing.T) {
				fsys := fstest.MapFS{}
				for other, content := range parsedFiles {
					fsys[other] = &fstest.MapFile{Data: []byte(content)}
				}
				fsys[name] = &fstest.MapFile{Data: data}
				checkWellFormed(t, Detect(contextOf(t, fsys), df))
				checkWellFormed(t, Detect(contextOf(t, fstest.MapFS{name: {Data: data}}), nil))
			})
		}
	}
	for _, name := range primaryManifests {
		huge := bytes.Repeat([]byte("a"), maxManifestSize+10)
		res := Detect(contextOf(t, fstest.MapFS{name: {Data: huge}}), nil)
		if !hasNote(res, name, "limit") {
			t.Errorf("no note for an enormous %s: %+v", name, res.Notes)
		}
		bin := append([]byte(parsedFiles[name][:10]), 0, 1, 2)
		res = Detect(contextOf(t, fstest.MapFS{name: {Data: bin}}), nil)
		if !hasNote(res, name, "binary") {
			t.Errorf("no note for a binary %s: %+v", name, res.Notes)
		}
	}
}

// TestInvalidManifestsAreNoted checks that each parser's errors become
// notes that name the file and, where the parser knows it, the line.
func TestInvalidManifestsAreNoted(t *testing.T) {
	cases := map[string]struct {
		data, why string
		line      int
	}{
		"package.json":   {"{\n  \"name\": \"a\",\n}\n", "invalid JSON", 3},
		"composer.json":  {"{\"require\": {\"php\": }", "invalid JSON", 1},
		"pyproject.toml": {"[project]\nname = \n", "invalid TOML", 2},
		"Cargo.toml":     {"[package\n", "invalid TOML", 1},
		"pom.xml":        {"<project>\n<artifactId>a</artifactId>\n</projec>\n", "invalid XML", 3},
		"go.mod":         {"module a\ngo 1.22\nrequire (\n", "invalid go.mod", 4},
		"App.csproj":     {"<Project>\n<PropertyGroup>\n", "invalid XML", 3},
		"global.json":    {"{\"sdk\": [}", "invalid JSON", 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{name: {Data: []byte(c.data)}}
			if name == "global.json" {
				fsys["App.csproj"] = &fstest.MapFile{Data: []byte(parsedFiles["App.csproj"])}
			}
			res := Detect(contextOf(t, fsys), nil)
			checkWellFormed(t, res)
			for _, n := range res.Notes {
				if n.File == name && strings.Contains(n.Why, c.why) {
					is(t, "line", n.Line, c.line)
					return
				}
			}
			t.Errorf("no %q note for %s: %+v", c.why, name, res.Notes)
		})
	}
}

func contextOf(t *testing.T, fsys fs.FS) *buildctx.Context {
	t.Helper()
	ctx, err := buildctx.FromFS(fsys, "", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func hasNote(r *Result, file, substr string) bool {
	for _, n := range r.Notes {
		if n.File == file && strings.Contains(n.Why, substr) {
			return true
		}
	}
	return false
}

// checkWellFormed holds for every result.
func checkWellFormed(t *testing.T, r *Result) {
	t.Helper()
	if r == nil {
		t.Fatal("nil result")
	}
	known := false
	for _, e := range Ecosystems {
		if r.Ecosystem == e {
			known = true
		}
	}
	if !known {
		t.Errorf("ecosystem %q is not one of %v", r.Ecosystem, Ecosystems)
	}
	if r.Confidence < 0 || r.Confidence > 1 {
		t.Errorf("confidence %v outside [0, 1]", r.Confidence)
	}
	if r.Ecosystem == Unknown && r.Confidence != 0 {
		t.Errorf("unknown ecosystem with confidence %v", r.Confidence)
	}
	if r.Ecosystem != Unknown && len(r.Evidence) == 0 {
		t.Errorf("%s without evidence", r.Ecosystem)
	}
	for _, e := range append(append([]Evidence{}, r.Evidence...), r.Notes...) {
		if e.File == "" || e.Why == "" || e.Line < 0 {
			t.Errorf("malformed evidence %+v", e)
		}
	}
	if r.Root == "" {
		t.Error("empty root")
	}
}

// errFS fails to open one file, as an unreadable file would.
type errFS struct {
	fstest.MapFS
	bad string
}

func (e errFS) Open(name string) (fs.File, error) {
	if name == e.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("permission denied")}
	}
	return e.MapFS.Open(name)
}

func TestUnreadableManifest(t *testing.T) {
	fsys := errFS{MapFS: fstest.MapFS{
		"package.json":      {Data: []byte(`{"name": "a"}`)},
		"package-lock.json": {Data: []byte(`{}`)},
	}, bad: "package.json"}
	res := Detect(contextOf(t, fsys), nil)
	checkWellFormed(t, res)
	is(t, "ecosystem", res.Ecosystem, Node)
	if !hasNote(res, "package.json", "permission denied") {
		t.Errorf("no note for the unreadable package.json: %+v", res.Notes)
	}
}

// FuzzDetect writes the fuzzer's bytes as each parsed file in turn.
func FuzzDetect(f *testing.F) {
	for _, valid := range parsedFiles {
		f.Add([]byte(valid))
	}
	names := make([]string, 0, len(parsedFiles))
	for name := range parsedFiles {
		names = append(names, name)
	}
	df, err := dockerfile.Parse("Dockerfile", []byte("FROM node:20\nCOPY . .\nCMD node a.js\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{}
		for _, name := range names {
			fsys[name] = &fstest.MapFile{Data: data}
		}
		checkWellFormed(t, Detect(contextOf(t, fsys), df))
	})
}

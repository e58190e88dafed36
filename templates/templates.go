// Package templates scaffolds the container files of a new service: a
// hardened Dockerfile, a .dockerignore and, on request, a compose.yaml,
// rendered with text/template from templates embedded in harden.
//
// Templates live in one folder per ecosystem and variant ("python/uv",
// "node/static", "go"). A file is looked up in the variant's folder, then
// in each folder above it, so an ecosystem's .dockerignore.tmpl serves all
// its variants and the top-level compose.yaml.tmpl serves every app. Files
// whose names start with "_" at the top level hold shared {{define}} blocks
// that every template may use.
//
// Users bring their own templates with the same layout (harden new
// --templates DIR): a file in their folder wins over harden's at any level,
// and harden's fill in the rest.
//
// Templates are written the way harden fix writes Dockerfiles: builder
// stages, slim or distroless runtimes, the "app" user with uid 10001 where
// the image has no user of its own, /opt/venv for Python, cache mounts
// instead of package-manager caches, exec-form commands. The tests prove
// it: harden check finds nothing in any golden render and harden fix
// changes nothing.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"go.yaml.in/yaml/v3"

	"github.com/harden-dev/harden/dockerfile"
)

// The files a template folder renders.
const (
	Dockerfile   = "Dockerfile"
	DockerIgnore = ".dockerignore"
	Compose      = "compose.yaml"
)

// Suffix ends every template's file name: Dockerfile.tmpl renders
// Dockerfile. It keeps templates out of tools that look for Dockerfiles.
const Suffix = ".tmpl"

//go:embed all:files
var files embed.FS

// Source is where templates come from: harden's own, optionally under a
// user's folder that takes precedence.
type Source struct {
	layers []layer // searched in order
}

// layer is one folder of templates.
type layer struct {
	name string // "harden" or the user's folder, for messages
	fsys fs.FS
}

// Embedded returns harden's own templates.
func Embedded() *Source {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		panic("templates: the embedded folder is missing: " + err.Error()) // a build-time invariant
	}
	return &Source{layers: []layer{{name: "harden", fsys: sub}}}
}

// WithDir returns harden's templates under the user's folder dir, whose
// files win wherever both have one.
func WithDir(dir string) (*Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("templates folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("templates folder %s is not a folder", dir)
	}
	s := Embedded()
	s.layers = append([]layer{{name: dir, fsys: os.DirFS(dir)}}, s.layers...)
	return s, nil
}

// File is one rendered file.
type File struct {
	// Name is the file's name in the app's folder: Dockerfile,
	// .dockerignore or compose.yaml.
	Name string
	Data []byte
	// Template says which template made it ("harden:python/pip/Dockerfile.tmpl"
	// or a path in the user's folder).
	Template string
}

// Variants lists the variant folders that have a Dockerfile template, in
// every layer, sorted.
func (s *Source) Variants() ([]string, error) {
	seen := map[string]bool{}
	for _, l := range s.layers {
		err := fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && path.Base(p) == Dockerfile+Suffix && path.Dir(p) != "." {
				seen[path.Dir(p)] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}

// Render renders the named files (Dockerfile, DockerIgnore, Compose) for
// app's variant and checks each result: the Dockerfile must parse with
// BuildKit's parser, compose.yaml must be YAML with services, and the
// .dockerignore must hold patterns BuildKit accepts. Errors name the
// template.
func (s *Source) Render(app *App, names ...string) ([]File, error) {
	if err := s.hasVariant(app.Variant); err != nil {
		return nil, err
	}
	partials, err := s.partials()
	if err != nil {
		return nil, err
	}
	var out []File
	for _, name := range names {
		where, src, err := s.find(app.Variant, name+Suffix)
		if err != nil {
			return nil, err
		}
		t := template.New(name + Suffix).Funcs(funcs).Option("missingkey=error")
		for _, p := range partials {
			if _, err := t.New(p.name).Parse(string(p.src)); err != nil {
				return nil, fmt.Errorf("template %s: %w", p.where, err)
			}
		}
		if _, err := t.New(name + Suffix).Parse(string(src)); err != nil {
			return nil, fmt.Errorf("template %s: %w", where, err)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name+Suffix, app); err != nil {
			return nil, fmt.Errorf("template %s: %w", where, err)
		}
		if err := validate(name, buf.Bytes()); err != nil {
			return nil, fmt.Errorf("template %s renders a %s that %w", where, name, err)
		}
		out = append(out, File{Name: name, Data: buf.Bytes(), Template: where})
	}
	return out, nil
}

// hasVariant checks that a layer has the variant's folder: a variant that
// does not exist must not quietly render the templates above it.
func (s *Source) hasVariant(variant string) error {
	var names []string
	for _, l := range s.layers {
		if st, err := fs.Stat(l.fsys, variant); err == nil && st.IsDir() {
			return nil
		}
		names = append(names, l.name)
	}
	return fmt.Errorf("there are no templates for %s: no folder %s in %s", variant, variant, strings.Join(names, " or "))
}

// find looks a template file up for a variant: in the variant's folder and
// each folder above it, in every layer, the user's first.
func (s *Source) find(variant, file string) (where string, src []byte, err error) {
	for _, l := range s.layers {
		for dir := variant; ; dir = path.Dir(dir) {
			p := path.Join(dir, file)
			data, err := fs.ReadFile(l.fsys, p)
			if err == nil {
				return l.name + ":" + p, data, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", nil, fmt.Errorf("%s: %w", l.name, err)
			}
			if dir == "." || dir == "/" {
				break
			}
		}
	}
	return "", nil, fmt.Errorf("there is no %s template for %s", strings.TrimSuffix(file, Suffix), variant)
}

// partial is a shared template file ("_name.tmpl" at the top of a layer).
type partial struct {
	name, where string
	src         []byte
}

// partials reads the shared template files; a user's file replaces
// harden's of the same name.
func (s *Source) partials() ([]partial, error) {
	byName := map[string]partial{}
	for i := len(s.layers) - 1; i >= 0; i-- {
		l := s.layers[i]
		names, err := fs.Glob(l.fsys, "_*"+Suffix)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			data, err := fs.ReadFile(l.fsys, n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.name, err)
			}
			byName[n] = partial{name: n, where: l.name + ":" + n, src: data}
		}
	}
	out := make([]partial, 0, len(byName))
	for _, p := range byName {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b partial) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"execForm":   execForm,
	"copyFiles":  copyFiles,
	"join":       strings.Join,
	"createUser": createUser,
}

// execForm writes an exec-form argument list: ["gunicorn", "app:app"].
// JSON escaping keeps any argument on one line and inside its quotes.
func execForm(args []string) (string, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // BuildKit reads plain JSON; people read the file
		if err := enc.Encode(a); err != nil {
			return "", err
		}
		b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
	}
	b.WriteByte(']')
	return b.String(), nil
}

// copyFiles writes the COPY instructions that bring paths (relative to the
// app; folders end in "/") into the working directory at the same relative
// places: one COPY per folder, in the order the folders first appear.
func copyFiles(paths []string) string {
	var order []string
	groups := map[string][]string{}
	for _, p := range paths {
		dest := "./"
		switch {
		case strings.HasSuffix(p, "/"):
			dest = p
		case strings.Contains(p, "/"):
			dest = path.Dir(p) + "/"
		}
		if _, ok := groups[dest]; !ok {
			order = append(order, dest)
		}
		groups[dest] = append(groups[dest], p)
	}
	lines := make([]string, 0, len(order))
	for _, dest := range order {
		lines = append(lines, "COPY "+strings.Join(groups[dest], " ")+" "+dest)
	}
	return strings.Join(lines, "\n")
}

// validate checks a rendered file the way its consumer will read it.
func validate(name string, data []byte) error {
	switch name {
	case Dockerfile:
		if _, err := dockerfile.Parse(name, data); err != nil {
			return fmt.Errorf("BuildKit rejects: %w", err)
		}
	case Compose:
		var doc struct {
			Services map[string]any `yaml:"services"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("is not valid YAML: %w", err)
		}
		if len(doc.Services) == 0 {
			return errors.New("has no services")
		}
	case DockerIgnore:
		patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err == nil {
			_, err = patternmatcher.New(patterns)
		}
		if err != nil {
			return fmt.Errorf("BuildKit rejects: %w", err)
		}
	}
	return nil
}

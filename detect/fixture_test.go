package detect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/golden"
	"github.com/harden-dev/harden/runmodel"
)

// A fixture is a txtar archive in testdata/contexts: its files are a
// build context, its comment says what the case shows, and lines of the
// comment starting with @ say how to run it:
//
//	@path P        detect P (a folder or a Dockerfile), relative to the archive root; default "."
//	@context DIR   the build context, relative to the archive root; default: the Dockerfile's folder
//	@no-context    parse the Dockerfile at @path (default "Dockerfile") and detect without a context
type fixture struct {
	name      string
	path      string
	context   string
	noContext bool
	archive   *txtar.Archive
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	files, err := filepath.Glob("testdata/contexts/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fx := fixture{name: strings.TrimSuffix(filepath.Base(f), ".txtar"), path: ".", archive: ar}
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch key {
			case "@path":
				fx.path = val
			case "@context":
				fx.context = val
			case "@no-context":
				fx.noContext = true
			}
		}
		out = append(out, fx)
	}
	return out
}

// run extracts the fixture into a temporary folder and detects it.
func (fx fixture) run(t testing.TB) *Result {
	t.Helper()
	return fx.detect(t, fx.extract(t))
}

// extract writes the archive's files into a temporary folder.
func (fx fixture) extract(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range fx.archive.Files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// detect runs detection on an extracted fixture the way harden detect
// does. Paths in the result are made relative to the archive root so that
// goldens do not depend on the temporary folder.
func (fx fixture) detect(t testing.TB, root string) *Result {
	t.Helper()
	if fx.noContext {
		name := fx.path
		if name == "." {
			name = "Dockerfile"
		}
		src, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		df, err := dockerfile.Parse(name, src)
		if err != nil {
			t.Fatal(err)
		}
		return Detect(nil, df)
	}
	ctx := ""
	if fx.context != "" {
		ctx = filepath.Join(root, fx.context)
	}
	res, err := DirWithContext(filepath.Join(root, fx.path), ctx)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(p string) string {
		if p == "" {
			return ""
		}
		r, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.ToSlash(r)
	}
	prefix := root + string(filepath.Separator)
	res.Dockerfile, res.Context = strip(res.Dockerfile), strip(res.Context)
	for i := range res.Evidence {
		res.Evidence[i].File = strings.TrimPrefix(res.Evidence[i].File, prefix)
	}
	for i := range res.Notes {
		res.Notes[i].File = strings.TrimPrefix(res.Notes[i].File, prefix)
	}
	for k, v := range res.Versions {
		v.File = strings.TrimPrefix(v.File, prefix)
		res.Versions[k] = v
	}
	for i := range res.Conflicts {
		res.Conflicts[i] = strings.ReplaceAll(res.Conflicts[i], prefix, "")
	}
	if res.Runtime != nil {
		// The model names the Dockerfile by its path on disk.
		data, err := json.Marshal(res.Runtime)
		if err != nil {
			t.Fatal(err)
		}
		var m runmodel.Model
		if err := json.Unmarshal(bytes.ReplaceAll(data, []byte(prefix), nil), &m); err != nil {
			t.Fatal(err)
		}
		res.Runtime = &m
	}
	return res
}

// TestFixturesGolden compares every fixture's full result with its golden
// JSON in testdata/golden (go test ./detect -update rewrites them; read
// the diff before committing).
func TestFixturesGolden(t *testing.T) {
	fixtures := loadFixtures(t)
	if len(fixtures) < 40 {
		t.Fatalf("only %d fixtures; the suite promises at least 40", len(fixtures))
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			res := fx.run(t)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			goldenPath := filepath.Join("testdata", "golden", fx.name+".json")
			golden.Check(t, goldenPath, got)
		})
	}
}

package templates

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/internal/golden"
)

// A fixture is a txtar archive in testdata/contexts: its files are a new
// service's folder, its comment says what the case shows, and comment
// lines starting with @ configure it:
//
//	@variant V          the template the case must select (required)
//	@lang L             the --lang flag; likewise @framework, @package-manager,
//	@port, @entrypoint, @version and @template-variant (--variant)
//	@name N             the folder's name (default: the archive's name)
//	@finding RULE       harden check must report RULE (a name) on the render:
//	                    the project lacks a file no template can make up for,
//	                    such as a lockfile, which harden new notes too
type fixture struct {
	name    string
	variant string
	folder  string
	over    Overrides
	archive *txtar.Archive
	// findings are the rules expected to report on the render.
	findings map[string]bool
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	paths, err := filepath.Glob("testdata/contexts/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no fixtures in testdata/contexts")
	}
	var out []fixture
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fx := fixture{name: strings.TrimSuffix(filepath.Base(p), ".txtar"), archive: ar}
		fx.folder = fx.name
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch key {
			case "@variant":
				fx.variant = val
			case "@name":
				fx.folder = val
			case "@lang":
				fx.over.Ecosystem = val
			case "@framework":
				fx.over.Framework = val
			case "@package-manager":
				fx.over.PackageManager = val
			case "@entrypoint":
				fx.over.Entrypoint = val
			case "@version":
				fx.over.Version = val
			case "@template-variant":
				fx.over.Variant = val
			case "@finding":
				if fx.findings == nil {
					fx.findings = map[string]bool{}
				}
				fx.findings[val] = true
			case "@port":
				if fx.over.Port, err = strconv.Atoi(val); err != nil {
					t.Fatalf("%s: @port %q: %v", p, val, err)
				}
			default:
				if strings.HasPrefix(key, "@") {
					t.Fatalf("%s: unknown setting %s", p, key)
				}
			}
		}
		if fx.variant == "" {
			t.Fatalf("%s: no @variant line", p)
		}
		out = append(out, fx)
	}
	return out
}

// extract writes the fixture's files into a new folder named like the
// service, so that the image name comes out as it would for a user.
func (fx fixture) extract(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), fx.folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range fx.archive.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// render detects the fixture's folder the way harden new does and renders
// every file, writing them next to the fixture's files.
func (fx fixture) render(t testing.TB) (dir string, app *App, files []File) {
	t.Helper()
	dir = fx.extract(t)
	ctx, err := buildctx.Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	app, err = NewApp(ctx, detect.Detect(ctx, nil), fx.over, filepath.Base(dir))
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	if app.Variant != fx.variant {
		t.Fatalf("variant %s, want %s", app.Variant, fx.variant)
	}
	files, err = Embedded().RenderApp(ctx, app, Dockerfile, DockerIgnore, Compose)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, app, files
}

// goldenNames are the golden files of a case: the rendered files under
// names that no Docker tool mistakes for the real thing, and a summary of
// what harden new concluded.
var goldenNames = map[string]string{Dockerfile: "Dockerfile.golden", DockerIgnore: "dockerignore.golden", Compose: "compose.yaml.golden"}

// TestGoldenRenders compares every case's renders with testdata/golden.
// go test ./templates -update rewrites them; read each one before
// committing.
func TestGoldenRenders(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			_, app, files := fx.render(t)
			goldenDir := filepath.Join("testdata", "golden", fx.name)
			got := map[string][]byte{"summary.golden": summary(app)}
			for _, f := range files {
				got[goldenNames[f.Name]] = f.Data
			}
			for name, data := range got {
				golden.Check(t, filepath.Join(goldenDir, name), data)
			}
		})
	}
}

// summary is what harden new concluded about a case, for review.
func summary(a *App) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "variant: %s\n", a.Variant)
	fmt.Fprintf(&b, "name: %s\n", a.Name)
	fmt.Fprintf(&b, "ecosystem: %s\n", a.Ecosystem)
	if a.Framework != "" {
		fmt.Fprintf(&b, "framework: %s\n", a.Framework)
	}
	if a.PackageManager != "" {
		fmt.Fprintf(&b, "package manager: %s\n", a.PackageManager)
	}
	if a.Version != "" {
		fmt.Fprintf(&b, "version: %s\n", a.Version)
	}
	if a.Port != 0 {
		fmt.Fprintf(&b, "port: %d\n", a.Port)
	}
	if len(a.Command) > 0 {
		cmd, _ := execForm(a.Command)
		fmt.Fprintf(&b, "command: %s\n", cmd)
	}
	for _, n := range a.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return []byte(b.String())
}

// TestEveryVariantHasACase keeps the fixtures complete: a template no case
// renders is a template no test proves hardened.
func TestEveryVariantHasACase(t *testing.T) {
	variants, err := Embedded().Variants()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, fx := range loadFixtures(t) {
		covered[fx.variant] = true
	}
	for _, v := range variants {
		if !covered[v] {
			t.Errorf("no case in testdata/contexts renders the %s template", v)
		}
	}
	for v := range covered {
		if !slices.Contains(variants, v) {
			t.Errorf("a case expects the %s template, which does not exist", v)
		}
	}
}

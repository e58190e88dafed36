package ignore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/golden"
)

// Each testdata/<case>.txtar holds a build context under context/ (txtar,
// so that .git folders and CRLF files survive in the repository), an
// optional "args" file, and the expected output:
//
//	want.ignore   the planned ignore file
//	want.txt      its path and harden's explanation
//
// args lines are key=value: dockerfile (default Dockerfile), ecosystems and
// build-outputs (comma-separated; absent means infer).
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c := extractCase(t, ar)
			res := c.run(t)
			gotIgnore := res.New
			gotText := describe(t, c, res)
			if golden.Update() {
				setSection(ar, "want.ignore", gotIgnore)
				setSection(ar, "want.txt", []byte(gotText))
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := section(ar, "want.ignore"); !bytes.Equal(gotIgnore, want) {
				t.Errorf("ignore file differs (run with -update after checking):\n--- want\n%s\n--- got\n%s", want, gotIgnore)
			}
			if want := section(ar, "want.txt"); string(want) != gotText {
				t.Errorf("explanation differs (run with -update after checking):\n--- want\n%s\n--- got\n%s", want, gotText)
			}
		})
	}
}

// goldenCase is a txtar case extracted to a temporary folder.
type goldenCase struct {
	dir        string // the context
	dockerfile string // path of the Dockerfile
	opts       Options
}

func extractCase(t testing.TB, ar *txtar.Archive) *goldenCase {
	t.Helper()
	c := &goldenCase{dir: t.TempDir()}
	name := "Dockerfile"
	for _, f := range ar.Files {
		if f.Name == "args" {
			for _, l := range strings.Split(string(f.Data), "\n") {
				k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
				switch k {
				case "dockerfile":
					name = v
				case "ecosystems":
					c.opts.Ecosystems = splitList(v)
				case "build-outputs":
					c.opts.BuildOutputs = splitList(v)
				}
			}
			continue
		}
		rel, ok := strings.CutPrefix(f.Name, "context/")
		if !ok {
			continue
		}
		p := filepath.Join(c.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(rel, "/") { // an empty folder
			continue
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.dockerfile = filepath.Join(c.dir, name)
	return c
}

func splitList(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *goldenCase) run(t *testing.T) *Result {
	t.Helper()
	src, err := os.ReadFile(c.dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	df, err := dockerfile.Parse(filepath.Base(c.dockerfile), src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ForDockerfile(c.dockerfile, "", df, c.opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func describe(t *testing.T, c *goldenCase, res *Result) string {
	rel, err := filepath.Rel(c.dir, res.Path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "path: %s\nchanged: %v\necosystems: %s\n", filepath.ToSlash(rel), res.Changed(), strings.Join(res.Ecosystems, ","))
	for _, l := range res.Explain() {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func section(ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

func setSection(ar *txtar.Archive, name string, data []byte) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = data
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
}

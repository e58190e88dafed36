package transform

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/golden"
)

// TestEcosystemGolden runs every rule, with detection, over the example
// applications in ../testdata/ecosystems/<ecosystem>/<case>/, each a build
// context with its Dockerfile; the hardened file and the list of changes
// and findings are compared with Dockerfile.golden and findings.golden.
func TestEcosystemGolden(t *testing.T) {
	cases, err := filepath.Glob("../testdata/ecosystems/*/*/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d ecosystem cases found", len(cases))
	}
	for _, df := range cases {
		dir := filepath.Dir(df)
		name, _ := filepath.Rel("../testdata/ecosystems", dir)
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			src, err := os.ReadFile(df)
			if err != nil {
				t.Fatal(err)
			}
			ctx, err := buildctx.Open(dir, "Dockerfile")
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := dockerfile.Parse("Dockerfile", src)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Level: LevelStructural, Context: ctx, Facts: detect.Detect(ctx, parsed)}
			res, err := Fix("Dockerfile", src, opts)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "Dockerfile.golden"), res.Output)
			golden.Check(t, filepath.Join(dir, "findings.golden"), []byte(describe(res)))
		})
	}
}

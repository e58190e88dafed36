package ignore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/harden-dev/harden/dockerfile"
)

// BenchmarkForDockerfile measures one plan as `harden fix` makes it, once
// per process: every cache the generator keeps starts empty in each
// iteration, so allocs/op is what a single run pays.
func BenchmarkForDockerfile(b *testing.B) {
	cases := []struct {
		name, dockerfile string
		ecosystems       []string
	}{
		{"python-flask", "../testdata/examples/python-flask/Dockerfile", []string{"python"}},
		{"rust-workspace", "../testdata/ecosystems/rust/workspace-bin/Dockerfile", []string{"rust"}},
		{"existing-merge", "", []string{"node"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			path := c.dockerfile
			if path == "" {
				ar, err := txtar.ParseFile("testdata/" + c.name + ".txtar")
				if err != nil {
					b.Fatal(err)
				}
				path = extractCase(b, ar).dockerfile
			}
			src, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			df, err := dockerfile.Parse(filepath.Base(path), src)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ForDockerfile(path, "", df, Options{Ecosystems: c.ecosystems}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

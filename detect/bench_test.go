package detect

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// writeLargeContext writes a Go service with a TypeScript frontend:
// 10,000 files the walk visits (Go packages, components, docs), plus a
// node_modules folder that it must skip.
func writeLargeContext(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	write := func(p, content string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	file := func(p, content string) { write(p, content); n++ }
	file("go.mod", "module example.com/big\n\ngo 1.22\n\nrequire github.com/go-chi/chi/v5 v5.0.12\n")
	file("go.sum", "")
	file("package.json", `{"name":"web","scripts":{"build":"vite build"},"devDependencies":{"vite":"5"}}`)
	file("package-lock.json", "{}")
	file("Dockerfile", "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/api ./cmd/api\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/api /api\nENTRYPOINT [\"/api\"]\n")
	file("cmd/api/main.go", "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":8080\", nil) }\n")
	for d := 0; d < 100; d++ {
		for f := 0; f < 60; f++ {
			file(fmt.Sprintf("internal/p%02d/f%02d.go", d, f), fmt.Sprintf("package p%02d\n\nfunc F%02d() {}\n", d, f))
		}
	}
	for d := 0; d < 100; d++ {
		for f := 0; f < 30; f++ {
			file(fmt.Sprintf("web/src/components/c%02d/part%02d.tsx", d, f), "export const X = 1;\n")
		}
	}
	for n < 10_000 {
		file(fmt.Sprintf("docs/page%04d.md", n), "# page\n")
	}
	for i := 0; i < 2_000; i++ {
		write(fmt.Sprintf("node_modules/pkg%03d/index%d.js", i/10, i%10), "module.exports = 1;\n")
	}
	return dir
}

// BenchmarkDetect10000Files measures a whole detection as harden detect
// runs it (open the context, parse the Dockerfile, detect) on a context
// of 10,000 files. The target is under 50 ms per detection.
func BenchmarkDetect10000Files(b *testing.B) {
	dir := writeLargeContext(b)
	src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		ctx, err := buildctx.Open(dir, "Dockerfile")
		if err != nil {
			b.Fatal(err)
		}
		df, err := dockerfile.Parse("Dockerfile", src)
		if err != nil {
			b.Fatal(err)
		}
		if res := Detect(ctx, df); res.Ecosystem != Go {
			b.Fatalf("detected %s, want go", res.Ecosystem)
		}
	}
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkDetectFixture is a typical small project, for comparison.
func BenchmarkDetectFixture(b *testing.B) {
	var fx fixture
	for _, f := range loadFixtures(b) {
		if f.name == "python-uv-fastapi" {
			fx = f
		}
	}
	root := fx.extract(b)
	b.ResetTimer()
	for b.Loop() {
		fx.detect(b, root)
	}
}

package ignore_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/internal/bktest"
)

// TestBuildKitSendsWhatThePlanSays writes a planned ignore file and builds
// with a real BuildKit: the build succeeds (nothing it copies by name is
// hidden), and COPY . puts exactly the files harden measured into the
// image, byte for byte, so the size report is what BuildKit sends.
func TestBuildKitSendsWhatThePlanSays(t *testing.T) {
	env := bktest.Start(t)
	dir := t.TempDir()
	key := "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n"
	cert := "-----BEGIN CERTIFICATE-----\nnot-a-real-certificate\n-----END CERTIFICATE-----\n"
	files := map[string]string{
		"app/main.sh":               "echo hi\n",
		"build/out.txt":             "built by CI before docker build\n",
		"build/debug.log":           "a log inside a folder the Dockerfile copies\n",
		".env":                      "TOKEN=not-a-real-token\n",
		".env.example":              "TOKEN=\n",
		".git/HEAD":                 "ref: refs/heads/main\n",
		".git/objects/ab/cdef":      strings.Repeat("x", 5000),
		"node_modules/x/index.js":   "module.exports = 1\n",
		"logs/app.log":              strings.Repeat("log line\n", 100),
		"certs/ca.pem":              cert,
		"certs/server.key":          key,
		"src/pkg/__pycache__/m.pyc": "bytecode",
		"src/pkg/m.py":              "print(1)\n",
		".dockerignore":             "# ours\n*.tmp\n!keep.tmp\n",
		"keep.tmp":                  "kept by the user's negation\n",
		"drop.tmp":                  "dropped by the user's pattern\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := []byte("FROM busybox\nCOPY build/ /b/\nCOPY .env.example /e\nCOPY . /ctx/\n")
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	df, err := dockerfile.Parse("Dockerfile", src)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ignore.ForDockerfile(filepath.Join(dir, "Dockerfile"), "", df, ignore.Options{Ecosystems: []string{"python", "node"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan.Path, plan.New, 0o644); err != nil {
		t.Fatal(err)
	}

	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Build(context.Background(), build.Request{Name: "ignored", Dockerfile: src, ContextDir: dir})
	if err != nil {
		t.Fatalf("the build fails with harden's ignore file:\n%s\n%v", plan.New, err)
	}
	defer res.Cleanup()
	img, err := res.Image()
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	var size ignore.Size
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		rel, ok := strings.CutPrefix(name, "ctx/")
		if !ok || h.Typeflag == tar.TypeDir {
			continue
		}
		got = append(got, rel)
		size.Files++
		size.Bytes += h.Size
	}
	slices.Sort(got)
	// .env.example is copied by name, build/ with its log too, ca.pem is a
	// certificate, keep.tmp is the user's, node_modules stays because the
	// Dockerfile copies the whole context and never installs packages, and
	// a merge leaves the Dockerfile and the ignore file to their owner.
	want := []string{".dockerignore", ".env.example", "Dockerfile", "app/main.sh", "build/debug.log", "build/out.txt", "certs/ca.pem", "keep.tmp", "node_modules/x/index.js", "src/pkg/m.py"}
	if !slices.Equal(got, want) {
		t.Errorf("COPY . copied %q, want %q\nignore file:\n%s", got, want, plan.New)
	}
	if size != plan.After {
		t.Errorf("BuildKit sent %s, harden measured %s", size, plan.After)
	}
}

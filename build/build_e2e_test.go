package build_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

func TestMain(m *testing.M) { bktest.Main(m) }

func connect(t *testing.T) (*build.Client, *bktest.Env) {
	t.Helper()
	env := bktest.Start(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, env
}

// contextDir makes a build context holding files with the given content.
func contextDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		names = append(names, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestBuildMeasuresWhatTheLayoutHolds(t *testing.T) {
	c, _ := connect(t)
	ctxDir := contextDir(t, map[string][]byte{"data.bin": randomBytes(t, 300_000)})
	before := dirNames(t, ctxDir)
	dockerfile := `FROM busybox
COPY data.bin /data/data.bin
RUN head -c 150000 /dev/urandom > /data/gen.bin && adduser -D -u 10001 app
USER 10001
EXPOSE 8080
WORKDIR /data
ENV APP_MODE=test
CMD ["sleep", "60"]
`
	var progress bytes.Buffer
	res, err := c.Build(context.Background(), build.Request{
		Name: "measured", Dockerfile: []byte(dockerfile), ContextDir: ctxDir,
		Progress: build.ProgressPlain, ProgressOut: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Cleanup() })

	want := measureLayoutIndependently(t, res.LayoutDir)
	got := res.Stats
	if got.CompressedSize != want.compressed || got.UncompressedSize != want.uncompressed || got.Layers != want.layers {
		t.Errorf("stats: compressed %d, uncompressed %d, layers %d; the layout holds compressed %d, uncompressed %d, layers %d",
			got.CompressedSize, got.UncompressedSize, got.Layers, want.compressed, want.uncompressed, want.layers)
	}
	// busybox's layers, COPY and RUN; random content cannot shrink.
	if got.Layers < baseLayers(t)+2 || got.UncompressedSize < 450_000 || got.CompressedSize < 450_000 {
		t.Errorf("implausible stats for busybox + 450 kB of random data: %+v", got)
	}
	if got.User != "10001" || want.user != "10001" || got.IsRoot() {
		t.Errorf("user: stats %q, config %q", got.User, want.user)
	}
	if got.WorkingDir != "/data" || !slices.Equal(got.Cmd, []string{"sleep", "60"}) ||
		!slices.Equal(got.ExposedPorts, []string{"8080/tcp"}) || !slices.Contains(got.Env, "APP_MODE=test") {
		t.Errorf("config not carried into stats: %+v", got)
	}
	if got.BuildTime <= 0 || got.Digest != want.digest {
		t.Errorf("build time %v, digest %s (layout says %s)", got.BuildTime, got.Digest, want.digest)
	}
	if !strings.Contains(progress.String(), "RUN head -c 150000") {
		t.Errorf("plain progress does not show the RUN step:\n%s", progress.String())
	}
	if after := dirNames(t, ctxDir); !slices.Equal(before, after) {
		t.Errorf("build changed the context folder: %v -> %v", before, after)
	}
}

func baseLayers(t *testing.T) int {
	t.Helper()
	img, err := bktest.BusyboxImage()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return len(layers)
}

type layoutStats struct {
	compressed, uncompressed int64
	layers                   int
	user, digest             string
}

// measureLayoutIndependently reads the OCI layout with nothing but
// encoding/json, os and gzip: index.json, the manifest, the layer blobs.
func measureLayoutIndependently(t *testing.T, dir string) layoutStats {
	t.Helper()
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	readJSON := func(p string, v any) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	blob := func(d string) string {
		algo, hex, _ := strings.Cut(d, ":")
		return filepath.Join(dir, "blobs", algo, hex)
	}
	var index struct{ Manifests []desc }
	readJSON(filepath.Join(dir, "index.json"), &index)
	if len(index.Manifests) != 1 || !strings.Contains(index.Manifests[0].MediaType, "manifest") {
		t.Fatalf("index.json: want one image manifest, got %+v", index.Manifests)
	}
	var manifest struct {
		Config desc
		Layers []desc
	}
	readJSON(blob(index.Manifests[0].Digest), &manifest)
	var config struct{ Config struct{ User string } }
	readJSON(blob(manifest.Config.Digest), &config)

	s := layoutStats{layers: len(manifest.Layers), user: config.Config.User, digest: index.Manifests[0].Digest}
	for _, l := range manifest.Layers {
		fi, err := os.Stat(blob(l.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != l.Size {
			t.Fatalf("blob %s is %d bytes, manifest says %d", l.Digest, fi.Size(), l.Size)
		}
		s.compressed += fi.Size()
		f, err := os.Open(blob(l.Digest))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("layer %s (%s): %v", l.Digest, l.MediaType, err)
		}
		n, err := io.Copy(io.Discard, zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		s.uncompressed += n
	}
	return s
}

func TestBuildIgnoresSyntaxLineAndPassesArgsAndTarget(t *testing.T) {
	c, _ := connect(t)
	dockerfile := `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS first
ARG GREETING=unset
LABEL stage=first greeting=${GREETING}

FROM busybox AS second
LABEL stage=second
`
	res, err := c.Build(context.Background(), build.Request{
		Name: "args", Dockerfile: []byte(dockerfile), ContextDir: t.TempDir(),
		BuildArgs: map[string]string{"GREETING": "hello"}, Target: "first", Platform: "linux/amd64",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Cleanup()
	if l := res.Stats.Labels; l["stage"] != "first" || l["greeting"] != "hello" {
		t.Errorf("labels %v: want target first built with GREETING=hello", l)
	}
}

func TestBuildFailureNamesBuildAndShowsLogTail(t *testing.T) {
	c, _ := connect(t)
	dockerfile := "FROM busybox\nRUN for i in $(seq 1 50); do echo line-$i; done; echo the-last-words; exit 3\n"
	res, err := c.Build(context.Background(), build.Request{Name: "broken", Dockerfile: []byte(dockerfile), ContextDir: t.TempDir()})
	if err == nil {
		res.Cleanup()
		t.Fatal("a RUN that exits 3 built")
	}
	be, ok := build.IsBuildError(err)
	if !ok {
		t.Fatalf("want a *BuildError, got %T: %v", err, err)
	}
	if be.Name != "broken" || !strings.Contains(be.Step, "RUN") {
		t.Errorf("error names build %q, step %q", be.Name, be.Step)
	}
	if len(be.Log) != build.DefaultLogTail || be.Log[len(be.Log)-1] != "the-last-words" || slices.Contains(be.Log, "line-1") {
		t.Errorf("log tail should be the last %d lines ending in the-last-words, got %q", build.DefaultLogTail, be.Log)
	}
	msg := err.Error()
	for _, want := range []string{"build broken failed", "exit code: 3", "line-50", "the-last-words"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error message lacks %q:\n%s", want, msg)
		}
	}
}

func TestBuildMissingBaseFailsFast(t *testing.T) {
	c, _ := connect(t)
	start := time.Now()
	_, err := c.Build(context.Background(), build.Request{Name: "nobase", Dockerfile: []byte("FROM no-such-image-anywhere:1\n"), ContextDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no-such-image-anywhere") {
		t.Fatalf("want an error naming the missing image, got %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a missing base image took %s to fail; the Docker Hub fallback should fail at once", d)
	}
}

func TestBuiltNonRootImagePassesSmoke(t *testing.T) {
	c, _ := connect(t)
	dockerfile := "FROM busybox\nRUN adduser -D -u 10001 app\nUSER app\nCMD [\"sleep\", \"60\"]\n"
	res, err := c.Build(context.Background(), build.Request{Name: "hardened", Dockerfile: []byte(dockerfile), ContextDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Cleanup()
	img, err := res.Image()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := smoke.Run(context.Background(), img, smoke.Options{Run: 2 * time.Second, Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.UID != 10001 {
		t.Errorf("smoke: %+v; want a pass as uid 10001", rep)
	}
}

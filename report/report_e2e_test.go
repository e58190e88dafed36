package report_test

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/report"
	"github.com/harden-dev/harden/smoke"
	"github.com/harden-dev/harden/transform"
)

// TestMain shares one BuildKit environment between this package's
// end-to-end tests; the unit tests never start it.
func TestMain(m *testing.M) { bktest.Main(m) }

func connect(t testing.TB) (*build.Client, *bktest.Env) {
	t.Helper()
	env := bktest.Start(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, env
}

// fast keeps smoke checks short; the defaults are meant for real apps.
func fast() *smoke.Options {
	return &smoke.Options{Run: 2 * time.Second, Timeout: 20 * time.Second, Grace: 2 * time.Second}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// harden fixes dir/Dockerfile the way harden fix does: with the build
// context and detection, at the structural level.
func harden(t *testing.T, dir string) report.Input {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	bctx, err := buildctx.Open(dir, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := dockerfile.Parse("Dockerfile", src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := transform.Fix("Dockerfile", src, transform.Options{Level: transform.LevelStructural, Context: bctx, Facts: detect.Detect(bctx, parsed)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed() {
		t.Fatalf("harden changed nothing in:\n%s", src)
	}
	return report.Input{Dockerfile: filepath.Join(dir, "Dockerfile"), ContextDir: dir, Original: res.Input, Hardened: res.Output, Changes: len(res.Changes)}
}

// The seed's story end to end: a naive Python Dockerfile and what harden fix
// makes of it both build; the measures are the exported images' own; the
// hardened image runs as a non-root user, still serves, and is smaller.
func TestNaiveDockerfileAndItsFixBothBuild(t *testing.T) {
	c, env := connect(t)
	dir := writeTree(t, map[string]string{
		"Dockerfile": `FROM python:3.11
RUN apt-get update
RUN apt-get install -y libpq-dev
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
EXPOSE 8000
CMD ["python", "app.py"]
`,
		"requirements.txt": "flask==3.0.3\npsycopg2==2.9.9\n",
		"app.py":           "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=8000)\n",
	})
	in := harden(t, dir)
	layouts := t.TempDir()
	r, err := report.Run(context.Background(), c, in, report.Options{LayoutDir: layouts, Smoke: fast()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Original.Built || !r.Hardened.Built {
		t.Fatalf("original: %+v\nhardened: %+v\nhardened file:\n%s\n(buildkitd log: %s)", r.Original.Error, r.Hardened.Error, in.Hardened, env.DaemonLog())
	}

	for _, side := range []struct {
		name  string
		stats *build.Stats
	}{{report.Original, r.Original.Stats}, {report.Hardened, r.Hardened.Stats}} {
		want := measureLayout(t, filepath.Join(layouts, side.name))
		got := side.stats
		if got.CompressedSize != want.compressed || got.UncompressedSize != want.uncompressed || got.Layers != want.layers || got.User != want.user {
			t.Errorf("%s: report says %d compressed, %d uncompressed, %d layers, user %q; the OCI layout holds %d, %d, %d, %q",
				side.name, got.CompressedSize, got.UncompressedSize, got.Layers, got.User, want.compressed, want.uncompressed, want.layers, want.user)
		}
	}

	h := r.Hardened.Stats
	if h.IsRoot() {
		t.Errorf("hardened image user %q is root", h.User)
	}
	cmp, _ := r.Compare()
	if cmp.CompressedSize.Ratio > 0.6 || cmp.UncompressedSize.Ratio > 0.6 {
		t.Errorf("the hardened image should be well under the naive one (fat base, apt lists, pip cache): %+v", cmp)
	}
	if r.Smoke.Status != report.SmokePassed || r.Smoke.Result.UID <= 0 || r.Smoke.Result.Check != "tcp port 8000" {
		t.Errorf("smoke check of the hardened image: %+v %+v", r.Smoke, r.Smoke.Result)
	}
	if r.Failed() {
		t.Error("report failed")
	}
}

// A hardening that breaks the app is what the smoke check exists for: here
// the app writes its log into a folder that root created and nobody handed
// to the new user.
func TestSmokeCheckFailsABrokenHardenedImage(t *testing.T) {
	c, _ := connect(t)
	const logDir = "FROM busybox\nRUN mkdir -p /var/log/app\n"
	const app = `CMD ["sh", "-c", "echo started > /var/log/app/app.log && exec sleep 60"]` + "\n"
	in := report.Input{
		Dockerfile: "Dockerfile", ContextDir: t.TempDir(),
		Original: []byte(logDir + app),
		Hardened: []byte(logDir + "RUN adduser -D -H -u 10001 app\nUSER app\n" + app),
	}
	r, err := report.Run(context.Background(), c, in, report.Options{Smoke: fast()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Original.Built || !r.Hardened.Built {
		t.Fatalf("both should build: %+v / %+v", r.Original.Error, r.Hardened.Error)
	}
	rep := r.Smoke.Result
	if r.Smoke.Status != report.SmokeFailed || !r.Failed() || rep == nil || !strings.Contains(strings.Join(rep.Output, "\n"), "Permission denied") {
		t.Fatalf("want a failed smoke check showing the permission error: %+v %+v", r.Smoke, rep)
	}

	// The same image as root passes: the check tells the two apart.
	in.Hardened = in.Original
	r, err = report.Run(context.Background(), c, in, report.Options{Smoke: fast()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Smoke.Status != report.SmokePassed || r.Smoke.Result.UID != 0 {
		t.Errorf("as root: %+v %+v", r.Smoke, r.Smoke.Result)
	}
}

// One failed build names itself and the tail of its log, and the other is
// still built and reported.
func TestFailedBuildIsReportedWithItsLogAndTheOtherStillBuilds(t *testing.T) {
	c, _ := connect(t)
	good := "FROM busybox\nRUN adduser -D -H -u 10001 app\nUSER app\nCMD [\"sleep\", \"60\"]\n"
	failing := "FROM busybox\nRUN echo fetching dependencies && echo 'E: unable to fetch flask' && exit 3\nCMD [\"sleep\", \"60\"]\n"
	ctxDir := t.TempDir()

	r, err := report.Run(context.Background(), c, report.Input{ContextDir: ctxDir, Original: []byte(failing), Hardened: []byte(good)}, report.Options{Smoke: fast()})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Original.Error
	if r.Original.Built || f == nil || !strings.Contains(f.Step, "RUN echo fetching dependencies") ||
		!strings.Contains(strings.Join(f.Log, "\n"), "E: unable to fetch flask") || !strings.Contains(f.Message, "exit code: 3") {
		t.Errorf("failed original: %+v", f)
	}
	if !r.Hardened.Built || r.Hardened.Stats.User != "app" || r.Smoke.Status != report.SmokePassed || !r.Failed() {
		t.Errorf("the hardened side should be built, measured and checked, and the report failed: %+v", r)
	}

	missingBase := "FROM python:2.1-no-such-tag\nCMD [\"python\"]\n"
	r, err = report.Run(context.Background(), c, report.Input{ContextDir: ctxDir, Original: []byte(good), Hardened: []byte(missingBase)}, report.Options{Smoke: fast()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Hardened.Built || r.Hardened.Error == nil || !strings.Contains(r.Hardened.Error.Message, "python:2.1-no-such-tag") ||
		!r.Original.Built || r.Smoke.Status != report.SmokeUnavailable || !r.Failed() {
		t.Errorf("failed hardened build: %+v, smoke %+v", r.Hardened, r.Smoke)
	}
}

type layoutMeasure struct {
	compressed, uncompressed int64
	layers                   int
	user                     string
}

// measureLayout reads an OCI image layout with nothing but the standard
// library: index.json to the image manifest, each layer blob checked
// against its digest, counted, and gunzipped to count its tar.
func measureLayout(t *testing.T, dir string) layoutMeasure {
	t.Helper()
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	}
	blobPath := func(digest string) string {
		algo, sum, _ := strings.Cut(digest, ":")
		return filepath.Join(dir, "blobs", algo, sum)
	}
	readBlob := func(d descriptor, v any) {
		data, err := os.ReadFile(blobPath(d.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", d.Digest, err)
		}
	}
	var index struct{ Manifests []descriptor }
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	// Follow nested indexes to the first image manifest that is not an attestation.
	var image *descriptor
	for len(index.Manifests) > 0 && image == nil {
		var next []descriptor
		for _, d := range index.Manifests {
			switch {
			case d.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
			case strings.HasSuffix(d.MediaType, "image.index.v1+json") || strings.HasSuffix(d.MediaType, "manifest.list.v2+json"):
				var child struct{ Manifests []descriptor }
				readBlob(d, &child)
				next = append(next, child.Manifests...)
			case image == nil:
				image = &d
			}
		}
		index.Manifests = next
	}
	if image == nil {
		t.Fatalf("%s holds no image manifest", dir)
	}
	var manifest struct {
		Config descriptor
		Layers []descriptor
	}
	readBlob(*image, &manifest)
	var config struct{ Config struct{ User string } }
	readBlob(manifest.Config, &config)

	m := layoutMeasure{layers: len(manifest.Layers), user: config.Config.User}
	for _, l := range manifest.Layers {
		f, err := os.Open(blobPath(l.Digest))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		zr, err := gzip.NewReader(io.TeeReader(f, h))
		if err != nil {
			t.Fatalf("layer %s (%s): %v", l.Digest, l.MediaType, err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err == nil {
			_, err = io.Copy(h, f) // whatever follows the gzip stream is part of the blob
		}
		fi, statErr := f.Stat()
		f.Close()
		if err != nil || statErr != nil {
			t.Fatal(err, statErr)
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.Digest || fi.Size() != l.Size {
			t.Fatalf("blob %s: digest %s, %d bytes; the manifest says %d", l.Digest, got, fi.Size(), l.Size)
		}
		m.compressed += fi.Size()
		m.uncompressed += n
	}
	return m
}

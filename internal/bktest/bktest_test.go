package bktest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pelletier/go-toml/v2"
)

func TestDaemonConfigIsValidTOMLWithMirrors(t *testing.T) {
	text := DaemonConfig{Dir: "/tmp/bk", Mirror: "127.0.0.1:5000"}.Config("overlayfs")
	var cfg struct {
		Root   string
		GRPC   struct{ Address []string } `toml:"grpc"`
		Worker struct {
			OCI struct {
				Enabled     bool
				Snapshotter string
				NetworkMode string `toml:"networkMode"`
			} `toml:"oci"`
			Containerd struct{ Enabled bool }
		}
		Registry map[string]struct {
			Mirrors  []string
			HTTP     bool `toml:"http"`
			Insecure bool
		}
	}
	if err := toml.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if cfg.Root != "/tmp/bk/root" || !slices.Equal(cfg.GRPC.Address, []string{"unix:///tmp/bk/buildkitd.sock"}) {
		t.Errorf("root %q, address %v", cfg.Root, cfg.GRPC.Address)
	}
	if oci := cfg.Worker.OCI; !oci.Enabled || oci.Snapshotter != "overlayfs" || oci.NetworkMode != "host" || cfg.Worker.Containerd.Enabled {
		t.Errorf("workers: %+v", cfg.Worker)
	}
	for _, reg := range MirroredRegistries {
		if m := cfg.Registry[reg].Mirrors; !slices.Equal(m, []string{"127.0.0.1:5000"}) {
			t.Errorf("%s mirrors %v", reg, m)
		}
	}
	if r := cfg.Registry["127.0.0.1:5000"]; !r.HTTP || !r.Insecure {
		t.Errorf("the loopback registry must be plain HTTP: %+v", r)
	}

	withTLS := DaemonConfig{Dir: "/tmp/bk", TLS: &DaemonTLS{Addr: "tcp://127.0.0.1:7443"}}.Config("native")
	if err := toml.Unmarshal([]byte(withTLS), &cfg); err != nil {
		t.Fatalf("%v\n%s", err, withTLS)
	}
	if !slices.Equal(cfg.GRPC.Address, []string{"unix:///tmp/bk/buildkitd.sock", "tcp://127.0.0.1:7443"}) {
		t.Errorf("with TLS the daemon listens on its socket and on tcp://: %v", cfg.GRPC.Address)
	}
}

func TestDaemonEnvFailsRegistryFallbackFast(t *testing.T) {
	env := daemonEnv([]string{"PATH=/usr/bin:/bin", "HTTPS_PROXY=http://corp:3128", "HOME=/root"})
	for _, want := range []string{"HOME=/root", "HTTPS_PROXY=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost", "PATH=/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %q: %q", want, env)
		}
	}
	if slices.Contains(env, "HTTPS_PROXY=http://corp:3128") {
		t.Error("the user's proxy would let buildkitd reach the real registries")
	}
}

func TestRegistryRefMapsDockerfileNames(t *testing.T) {
	r := &Registry{Addr: "127.0.0.1:5000"}
	for in, want := range map[string]string{
		"busybox":                                   "127.0.0.1:5000/library/busybox:latest",
		"python:3.11-slim":                          "127.0.0.1:5000/library/python:3.11-slim",
		"docker.io/myorg/app:1":                     "127.0.0.1:5000/myorg/app:1",
		"gcr.io/distroless/static:nonroot":          "127.0.0.1:5000/distroless/static:nonroot",
		"busybox@sha256:" + strings.Repeat("a", 64): "127.0.0.1:5000/library/busybox@sha256:" + strings.Repeat("a", 64),
	} {
		ref, err := r.Ref(in)
		if err != nil || ref.String() != want {
			t.Errorf("Ref(%q) = %v, %v; want %s", in, ref, err, want)
		}
	}
}

func TestBuildKitVersionIsGoMods(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", BuildKitModule).Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	got, err := BuildKitVersion()
	if err != nil || got != strings.TrimSpace(string(out)) {
		t.Errorf("BuildKitVersion() = %q, %v; go list says %s", got, err, out)
	}
}

func TestBinDirIsPerVersion(t *testing.T) {
	t.Setenv(EnvCache, "/cache/bk")
	if dir, err := BinDir("v1.2.3"); err != nil || dir != "/cache/bk/v1.2.3/bin" {
		t.Errorf("BinDir = %q, %v", dir, err)
	}
}

func TestLayerWritesParentsFirst(t *testing.T) {
	l, err := Layer(File{Path: "/a/b/file", Data: []byte("hi")}, File{Path: "/a/link", Link: "b/file"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatalf("layer is not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "a/b/file" {
			data, _ := io.ReadAll(tr)
			if !bytes.Equal(data, []byte("hi")) || h.Mode != 0o644 {
				t.Errorf("file: %q mode %o", data, h.Mode)
			}
		}
	}
	if want := []string{"a/", "a/b/", "a/b/file", "a/link"}; !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}

func TestLazyImagesAreMadeOnceOnFirstPull(t *testing.T) {
	reg, err := StartRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	var made atomic.Int32
	want, err := Image(v1.Config{User: "lazy"})
	if err != nil {
		t.Fatal(err)
	}
	reg.Lazy("python:3.11", func() (v1.Image, error) { made.Add(1); return want, nil })
	reg.Lazy("broken:1", func() (v1.Image, error) { return nil, errors.New("no busybox") })

	ref, _ := reg.Ref("python:3.11")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := remote.Image(ref)
			if err != nil {
				t.Error(err)
				return
			}
			got, _ := img.Digest()
			if wantDigest, _ := want.Digest(); got != wantDigest {
				t.Errorf("pulled %s, want %s", got, wantDigest)
			}
		}()
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Errorf("made %d times, want once", made.Load())
	}
	resp, err := http.Get("http://" + reg.Addr + "/v2/library/broken/manifests/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "no busybox") {
		t.Errorf("a failing stand-in should say why: %s %s", resp.Status, body)
	}
	missing, _ := reg.Ref("unknown:1")
	if _, err := remote.Image(missing); err == nil {
		t.Error("an unregistered image was found")
	}
}

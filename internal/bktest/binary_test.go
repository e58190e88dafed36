package bktest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeGo puts a go command on PATH that records its arguments and, for
// "build -o DIR/ ...", creates the two binaries, so EnsureBinaries' flow is
// tested without a four-minute build.
func fakeGo(t *testing.T) (logPath string) {
	t.Helper()
	dir := t.TempDir()
	logPath = filepath.Join(dir, "calls")
	modDir := filepath.Join(dir, "buildkit-src")
	os.MkdirAll(modDir, 0o755)
	script := `#!/bin/sh
echo "$PWD $GOFLAGS: $*" >> ` + logPath + `
case "$1" in
mod) echo '{"Path": "github.com/moby/buildkit", "Dir": "` + modDir + `"}' ;;
build)
	while [ "$1" != -o ]; do shift; done
	for b in buildkitd buildctl; do printf '#!/bin/sh\n' > "$2$b"; chmod +x "$2$b"; done ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	return logPath
}

func TestEnsureBinariesBuildsOnceIntoTheVersionedCache(t *testing.T) {
	calls := fakeGo(t)
	cache := t.TempDir()
	t.Setenv(EnvCache, cache)

	var wg sync.WaitGroup
	results := make([]Binaries, 3)
	errs := make([]error, 3)
	for i := range results { // parallel test packages race for the build
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = EnsureBinaries(context.Background(), "v9.9.9", &bytes.Buffer{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(cache, "v9.9.9", "bin", "buildkitd"); results[i].Buildkitd != want {
			t.Errorf("buildkitd at %s, want %s", results[i].Buildkitd, want)
		}
	}
	log, _ := os.ReadFile(calls)
	if n := strings.Count(string(log), ": build "); n != 1 {
		t.Errorf("built %d times, want once:\n%s", n, log)
	}
	for _, want := range []string{"mod download -json github.com/moby/buildkit@v9.9.9", "buildkit-src -mod=mod: build -trimpath", "version.Version=v9.9.9", "./cmd/buildkitd ./cmd/buildctl"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("go calls lack %q:\n%s", want, log)
		}
	}
	if b, ok := CachedBinaries("v9.9.9"); !ok || b.Buildctl == "" {
		t.Error("the cache does not hold the binaries afterwards")
	}
}

func TestEnsureBinariesWithoutGoCannotBuild(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvCache, t.TempDir())
	_, err := EnsureBinaries(context.Background(), "v9.9.9", &bytes.Buffer{})
	if !errors.Is(err, ErrCannotBuild) {
		t.Fatalf("want ErrCannotBuild, got %v", err)
	}
}

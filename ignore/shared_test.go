package ignore

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// countingFS counts how often each folder is listed.
type countingFS struct {
	fs.FS
	mu    sync.Mutex
	lists map[string]int
}

func (c *countingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	c.mu.Lock()
	c.lists[name]++
	c.mu.Unlock()
	return fs.ReadDir(c.FS, name)
}

// The secrets scan and the ignore plan of one fix share the context's
// listing: every folder is read once between them, and both answer as
// they do alone.
func TestSecretsScanAndPlanShareTheListing(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"Dockerfile":                    "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
		"package.json":                  `{"name":"x","version":"1.0.0"}`,
		"package-lock.json":             `{"lockfileVersion":3}`,
		"server.js":                     "require('http')",
		".env":                          "TOKEN=1",
		"node_modules/a/index.js":       "x",
		"node_modules/a/lib/deep.js":    "x",
		"src/routes/index.js":           "x",
		"coverage/lcov-report/index.js": "x",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dfPath := filepath.Join(dir, "Dockerfile")
	src, err := os.ReadFile(dfPath)
	if err != nil {
		t.Fatal(err)
	}
	df, err := dockerfile.Parse(dfPath, src)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Ecosystems: []string{"node"}}

	aloneSecrets, _, err := FindSecrets(os.DirFS(dir), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	alonePlan, err := ForDockerfile(dfPath, "", df, opts)
	if err != nil {
		t.Fatal(err)
	}

	ctx, err := buildctx.Open(dir, dfPath)
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingFS{FS: ctx.FS, lists: map[string]int{}}
	ctx.FS = counted
	// The plan goes first here, unlike in a fix, so that what it reads is
	// seen to come through the context.
	opts.Context = ctx
	sharedPlan, err := ForDockerfile(dfPath, "", df, opts)
	if err != nil {
		t.Fatal(err)
	}
	if counted.lists["."] != 1 || counted.lists["node_modules"] != 1 {
		t.Fatalf("the plan did not read through the context's listing: %v", counted.lists)
	}
	sharedSecrets, _, err := FindSecretsIn(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	if !reflect.DeepEqual(sharedSecrets, aloneSecrets) || len(aloneSecrets) == 0 {
		t.Errorf("secrets with a shared listing %v, alone %v", sharedSecrets, aloneSecrets)
	}
	if !reflect.DeepEqual(sharedPlan, alonePlan) {
		t.Errorf("plan with a shared listing:\n%+v\nalone:\n%+v", sharedPlan, alonePlan)
	}
	for name, n := range counted.lists {
		if n != 1 {
			t.Errorf("%s listed %d times, want once", name, n)
		}
	}
}

package templates

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// TestMain shares one BuildKit environment between the end-to-end tests of
// this package; the other tests do not start it.
func TestMain(m *testing.M) { bktest.Main(m) }

// TestTemplatesBuildE2E builds the Python, Node.js and Go renders of the
// golden cases with a real BuildKit (cache mounts, multi-stage, the
// distroless runtime) on bktest's stand-in base images, then starts each
// image: it must run as the template's unprivileged user, answer on its
// port and stop on SIGTERM.
func TestTemplatesBuildE2E(t *testing.T) {
	env := bktest.Start(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	cases := map[string]fixture{}
	for _, fx := range loadFixtures(t) {
		cases[fx.name] = fx
	}
	for _, tc := range []struct {
		fixture string
		// entrypoint replaces the app's server with a script, which the
		// stand-in interpreters serve over HTTP (they have no gunicorn).
		entrypoint string
		// standIns publishes the stand-ins under the tags the render pins.
		standIns []bktest.StandIn
		user     string
		uid      int
		// stops is set where the process handles SIGTERM as PID 1: the
		// stand-in interpreters exec BusyBox httpd, which does not (compose
		// and the suggested docker run add an init process for that).
		stops bool
	}{
		{
			fixture: "python-pip-flask", entrypoint: "app.py",
			standIns: []bktest.StandIn{{Ref: "python:3.14", Kind: bktest.Python, Version: "3.14.0"}, {Ref: "python:3.14-slim", Kind: bktest.PythonSlim, Version: "3.14.0"}},
			user:     "10001:10001", uid: 10001,
		},
		{
			fixture:  "node-server-npm-express",
			standIns: []bktest.StandIn{{Ref: "node:20.11.1", Kind: bktest.Node, Version: "20.11.1"}, {Ref: "node:20.11.1-slim", Kind: bktest.NodeSlim, Version: "20.11.1"}},
			user:     "1000:1000", uid: 1000,
		},
		{
			fixture:  "go-cmd-api",
			standIns: []bktest.StandIn{{Ref: "golang:1.23.4", Kind: bktest.Golang, Version: "1.23.4"}},
			user:     "65532:65532", uid: 65532, stops: true,
		},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			fx, ok := cases[tc.fixture]
			if !ok {
				t.Fatalf("no case %s in testdata/contexts", tc.fixture)
			}
			fx.over.Entrypoint = tc.entrypoint
			for _, s := range tc.standIns {
				env.PushStandIn(t, s.Ref, s.Kind, s.Version)
			}
			dir, app, files := fx.render(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			res, err := c.Build(ctx, build.Request{Name: tc.fixture, Dockerfile: fileData(t, files, Dockerfile), ContextDir: dir})
			if err != nil {
				t.Fatalf("%v\n(buildkitd log: %s)", err, env.DaemonLog())
			}
			t.Cleanup(func() { res.Cleanup() })
			if res.Stats.User != tc.user {
				t.Errorf("image user %q, want %q", res.Stats.User, tc.user)
			}
			img, err := res.Image()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := smoke.Run(ctx, img, smoke.Options{Run: 2 * time.Second, Timeout: 20 * time.Second, Grace: 3 * time.Second, HTTPPath: app.HealthPath})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Passed || rep.UID != tc.uid || tc.stops && (rep.StopsOnSIGTERM == nil || !*rep.StopsOnSIGTERM) {
				t.Errorf("smoke check: %+v", rep)
			}
			// Nothing the .dockerignore keeps out reached the image.
			if _, err := os.Stat(filepath.Join(dir, ".env")); err == nil {
				assertNotInImage(t, res, "app/.env")
			}
		})
	}
}

// assertNotInImage fails when the built image's file system holds name.
func assertNotInImage(t *testing.T, res *build.Result, name string) {
	t.Helper()
	img, err := res.Image()
	if err != nil {
		t.Fatal(err)
	}
	fsTar := mutate.Extract(img)
	defer fsTar.Close()
	tr := tar.NewReader(fsTar)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == name {
			t.Errorf("the image holds %s, which the .dockerignore excludes", name)
			return
		}
	}
}

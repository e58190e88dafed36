package templates

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

// TestMain shares one BuildKit environment between the end-to-end tests of
// this package; the other tests do not start it.
func TestMain(m *testing.M) { bktest.Main(m) }

// TestTemplatesBuildE2E builds the render of every golden case whose base
// images bktest has stand-ins for (the Python, Node.js, Go and static
// shapes: pip with a requirements file, a pyproject.toml project or
// nothing to install, Poetry, npm with and without a lockfile or a
// package.json, static sites behind nginx, static and cgo Go builds,
// vendored modules) with a real BuildKit (cache mounts, bind mounts,
// multi-stage, distroless), then starts each image: it must run as the
// render's USER, answer on its port and, where the process handles it,
// stop on SIGTERM. The stand-in tools fail where the real ones do (pip on
// a folder that is not a package, npm ci or a frozen yarn install without
// a lockfile). Cases whose images or tools have no stand-in are skipped
// with the reason.
func TestTemplatesBuildE2E(t *testing.T) {
	env := bktest.Start(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			dir, app, files := fx.render(t)
			src := fileData(t, files, Dockerfile)
			df, err := dockerfile.Parse(Dockerfile, src)
			if err != nil {
				t.Fatal(err)
			}
			standIns, why := standInsFor(df)
			if why != "" {
				t.Skipf("no stand-in: %s", why)
			}
			for _, s := range standIns {
				env.PushStandIn(t, s.Ref, s.Kind, s.Version)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			res, err := c.Build(ctx, build.Request{Name: fx.name, Dockerfile: src, ContextDir: dir})
			if err != nil {
				t.Fatalf("%v\n(buildkitd log: %s)", err, env.DaemonLog())
			}
			t.Cleanup(func() { res.Cleanup() })
			// The render's USER, or the base image's own unprivileged user
			// (nginx-unprivileged's 101) when the render sets none.
			user := finalUser(df)
			if user != "" && res.Stats.User != user {
				t.Errorf("image user %q, want the render's USER %q", res.Stats.User, user)
			}
			img, err := res.Image()
			if err != nil {
				t.Fatal(err)
			}
			opts := smoke.Options{Run: 2 * time.Second, Timeout: 20 * time.Second, Grace: 3 * time.Second, HTTPPath: app.HealthPath}
			if app.Ecosystem == "go" {
				// The Go stand-in compiles one server, which listens on
				// $PORT or 8080 whatever port the app's source names.
				opts.Ports = []string{"8080"}
			}
			rep, err := smoke.Run(ctx, img, opts)
			if err != nil {
				t.Fatal(err)
			}
			uidOK := rep.UID > 0
			if user != "" {
				uid, _ := strconv.Atoi(strings.Split(user, ":")[0])
				uidOK = rep.UID == uid
			}
			// The Go stand-in's server handles SIGTERM; the interpreters'
			// exec BusyBox httpd, which does not (compose and the suggested
			// docker run add an init process for that).
			stops := app.Ecosystem == "go"
			if !rep.Passed || !uidOK || stops && (rep.StopsOnSIGTERM == nil || !*rep.StopsOnSIGTERM) {
				t.Errorf("smoke check: %+v", rep)
			}
			// Nothing the .dockerignore keeps out reached the image.
			if _, err := os.Stat(filepath.Join(dir, ".env")); err == nil {
				assertNotInImage(t, res, "app/.env")
			}
		})
	}
}

// standInImages map the images harden's templates use to bktest's stand-in
// kinds, by name and tag suffix.
var standInImages = []struct {
	name, suffix string
	kind         bktest.Kind
}{
	{"python", "-slim", bktest.PythonSlim},
	{"python", "", bktest.Python},
	{"node", "-slim", bktest.NodeSlim},
	{"node", "", bktest.Node},
	{"golang", "", bktest.Golang},
	{"gcr.io/distroless/static-debian12", ":nonroot", bktest.DistrolessStaticNonroot},
	{"gcr.io/distroless/cc-debian12", ":nonroot", bktest.DistrolessStaticNonroot},
	{"nginxinc/nginx-unprivileged", "", bktest.NginxUnprivileged},
}

// standInTools are commands the stand-in images do not have.
var standInTools = []string{"pnpm", "npm install --global", "uv sync"}

// standInsFor lists the stand-ins a render's base images need, or says
// which image or tool has none.
func standInsFor(df *dockerfile.File) ([]bktest.StandIn, string) {
	var out []bktest.StandIn
	stages := map[string]bool{}
	for _, st := range df.Stages {
		ref := st.BaseName
		earlier := stages[strings.ToLower(ref)]
		if st.Name != "" {
			stages[st.Name] = true
		}
		if earlier {
			continue // FROM an earlier stage
		}
		s, ok := standInFor(ref)
		if !ok {
			return nil, "the image " + ref
		}
		out = append(out, s)
	}
	for _, ins := range df.Instructions {
		if from, ok := ins.Flag("from"); ok && !stages[strings.ToLower(from)] {
			return nil, "the image " + from + " (COPY --from)"
		}
		if ins.Keyword != "run" {
			continue
		}
		for _, tool := range standInTools {
			if strings.Contains(ins.Text(), tool) {
				return nil, "the command " + tool
			}
		}
	}
	return out, ""
}

// standInFor maps one image reference to a stand-in, with the version the
// tag names ("3.14" in python:3.14-slim).
func standInFor(ref string) (bktest.StandIn, bool) {
	name, tag, _ := strings.Cut(ref, ":")
	for _, m := range standInImages {
		if name != m.name {
			continue
		}
		if strings.HasPrefix(m.suffix, ":") {
			if ":"+tag == m.suffix {
				return bktest.StandIn{Ref: ref, Kind: m.kind}, true
			}
			continue
		}
		if m.suffix != "" && !strings.HasSuffix(tag, m.suffix) {
			continue
		}
		version, _, _ := strings.Cut(tag, "-")
		return bktest.StandIn{Ref: ref, Kind: m.kind, Version: fullVersion(version)}, true
	}
	return bktest.StandIn{}, false
}

// fullVersion pads a tag's version to major.minor.patch, as the images'
// *_VERSION variables spell it.
func fullVersion(v string) string {
	if v == "" || strings.Trim(v, "0123456789.") != "" {
		return ""
	}
	for strings.Count(v, ".") < 2 {
		v += ".0"
	}
	return v
}

// finalUser is the last USER of the final stage, as the image records it.
func finalUser(df *dockerfile.File) string {
	user := ""
	for _, ins := range df.FinalStage().Instructions {
		if ins.Keyword == "user" && len(ins.Args()) > 0 {
			user = ins.Args()[0]
		}
	}
	return user
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

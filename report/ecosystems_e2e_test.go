package report_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/report"
	"github.com/harden-dev/harden/smoke"
)

// ecosystemCase is what the hardened image of a golden case must do.
type ecosystemCase struct {
	// user is the config User of the hardened image, uid what its process
	// runs as.
	user string
	uid  int
	// port is where the app listens when the image exposes none, so that
	// the check waits for an answer there instead of only watching the
	// process.
	port string
	// stops is whether the process exits on SIGTERM: servers that handle
	// it (gunicorn, nginx, the Go app) do; an interpreter running a script
	// as PID 1 does not.
	stops bool
	// smaller is set where the rewrite moves the app onto a slimmer runtime.
	smaller bool
}

// ecosystemCases lists every golden case under testdata/ecosystems whose
// base images bktest stands in for. A new case must be added here (or to
// notOffline, with the reason).
var ecosystemCases = map[string]ecosystemCase{
	"python/alpine-build-deps": {user: "10001:10001", uid: 10001, port: "8000", smaller: true},
	// apk update goes with its continuation and the && of the next line:
	// "RUN \" followed by "&& apk add" is a shell syntax error.
	"python/alpine-apk-update":  {user: "10001:10001", uid: 10001, port: "8000", smaller: true},
	"python/already-multistage": {user: "10001:10001", uid: 10001, port: "8000"},
	// The install reads app/requirements.txt: the pip stand-in fails when
	// the copies put it anywhere else.
	"python/app-folder": {user: "10001:10001", uid: 10001, stops: true, smaller: true},
	// A VOLUME keeps the data of existing containers, owned by root:
	// harden leaves the user alone (see non-root-user's doc).
	"python/arg-from-user-root": {user: "root", uid: 0, port: "8000", smaller: true},
	"python/gunicorn-postgres":  {user: "10001:10001", uid: 10001, stops: true, smaller: true},
	"python/poetry":             {user: "10001:10001", uid: 10001, port: "8000", smaller: true},
	"python/seed-flask":         {user: "10001:10001", uid: 10001, port: "8000", smaller: true},
	"node/alpine-yarn":          {user: "1000:1000", uid: 1000, port: "3000", smaller: true},
	"node/seed-nginx":           {user: "101", uid: 101, stops: true},
	"node/server-npm":           {user: "1000:1000", uid: 1000, smaller: true},
	"node/static-vite":          {user: "101", uid: 101, stops: true, smaller: true},
	"node/typescript-build":     {user: "1000:1000", uid: 1000, smaller: true},
	"go/cgo-sqlite":             {user: "65532", uid: 65532, port: "8080", stops: true, smaller: true},
	"go/shell-entrypoint":       {user: "", uid: 0, port: "8080", stops: true},
	"go/simple":                 {user: "65532", uid: 65532, stops: true, smaller: true},
	"static/nginx":              {user: "101", uid: 101, stops: true},
	// Build-then-serve apps: nginx replaces serve, http-server and
	// python -m http.server.
	"node/serve-after-build":  {user: "101", uid: 101, stops: true, smaller: true},
	"node/http-server-port":   {user: "101", uid: 101, stops: true, smaller: true},
	"node/python-http-server": {user: "101", uid: 101, stops: true, smaller: true},
}

// notOffline are the ecosystems whose toolchains have no stand-in: their
// base images, compilers and package registries are out of reach here.
var notOffline = map[string]string{
	"java":   "no stand-in for eclipse-temurin/maven images, Maven Central or Gradle",
	"rust":   "no stand-in for rust images or crates.io",
	"ruby":   "no stand-in for ruby images or rubygems.org",
	"php":    "no stand-in for php images",
	"dotnet": "no stand-in for mcr.microsoft.com/dotnet images or NuGet",
}

// casesNotOffline are single cases whose base image or start command has no
// stand-in, in ecosystems that otherwise build offline.
var casesNotOffline = map[string]string{
	"node/nest-watch-compose":  "the npm stand-in runs no nest start --watch, the development server this case keeps",
	"node/node14-lockfile-v3":  "no stand-in for node:14, whose npm 6 the case is about",
	"node/tsc-server":          "the npm stand-in compiles nothing without a start script; cmd's TestRewritesOfRealAppsStartAndAnswer builds it with the real tsc",
	"node/serve-cors":          "the npm stand-in installs no serve to run; TestSizesMatchAnExpertsOnRealisticBases installs the real one from the npm registry",
	"node/serve-workdir":       "the npm stand-in installs no serve to run",
	"python/ubuntu-trusty-pip": "no stand-in for ubuntu:14.04 and its pip 1.5.4",
	"python/uwsgi-full-image":  "no stand-in for uWSGI or psycopg2, which compile against the full image",
}

// TestEcosystemGoldensBuildAndRun builds each hardened golden Dockerfile of
// testdata/ecosystems against its original with a real BuildKit and the
// stand-in base images, then starts the hardened image: it must run as the
// expected user and still serve or keep running.
func TestEcosystemGoldensBuildAndRun(t *testing.T) {
	c, env := connect(t)
	goldens, err := filepath.Glob("../testdata/ecosystems/*/*/Dockerfile.golden")
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) < len(ecosystemCases) {
		t.Fatalf("found %d goldens, fewer than the %d cases listed here", len(goldens), len(ecosystemCases))
	}
	// Smoke checks share the host's network and some of these apps listen on
	// ports they do not expose, so they take turns; builds run in parallel.
	var smokeTurn sync.Mutex
	var sizes struct {
		sync.Mutex
		rows []string
	}
	t.Cleanup(func() {
		sizes.Lock()
		defer sizes.Unlock()
		sort.Strings(sizes.rows)
		t.Log("compressed sizes of the cases with an expert's Dockerfile.hand (stand-in bases):\n" +
			"| case | naive | hand | harden | harden/hand |\n|---|---:|---:|---:|---:|\n" + strings.Join(sizes.rows, ""))
	})
	runSmoke := func(ctx context.Context, img v1.Image, opts smoke.Options) (*smoke.Report, error) {
		smokeTurn.Lock()
		defer smokeTurn.Unlock()
		return smoke.Run(ctx, img, opts)
	}

	for _, golden := range goldens {
		dir := filepath.Dir(golden)
		name, _ := filepath.Rel("../testdata/ecosystems", dir)
		name = filepath.ToSlash(name)
		t.Run(name, func(t *testing.T) {
			eco, _, _ := strings.Cut(name, "/")
			if why, ok := notOffline[eco]; ok {
				t.Skipf("not built offline: %s", why)
			}
			if why, ok := casesNotOffline[name]; ok {
				t.Skipf("not built offline: %s", why)
			}
			want, ok := ecosystemCases[name]
			if !ok {
				t.Fatalf("no expectation for %s: add it to ecosystemCases (or its ecosystem to notOffline)", name)
			}
			t.Parallel()
			orig, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			hard, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			opts := fast()
			if want.port != "" {
				opts.Ports = []string{want.port}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			r, err := report.Run(ctx, c, report.Input{Dockerfile: name, ContextDir: dir, Original: orig, Hardened: hard},
				report.Options{Smoke: opts, RunSmoke: runSmoke})
			if err != nil {
				t.Fatal(err)
			}
			for side, img := range map[string]report.Image{report.Original: r.Original, report.Hardened: r.Hardened} {
				if !img.Built {
					t.Fatalf("%s did not build: %+v\n(buildkitd log: %s)", side, img.Error, env.DaemonLog())
				}
			}
			if got := r.Hardened.Stats.User; got != want.user {
				t.Errorf("hardened image user %q, want %q", got, want.user)
			}
			rep := r.Smoke.Result
			if r.Smoke.Status != report.SmokePassed || rep.UID != want.uid {
				t.Fatalf("smoke check: %s %s, want a pass as uid %d: %+v", r.Smoke.Status, r.Smoke.Reason, want.uid, rep)
			}
			if stops := rep.StopsOnSIGTERM != nil && *rep.StopsOnSIGTERM; stops != want.stops {
				t.Errorf("stops on SIGTERM: %v, want %v (%+v)", stops, want.stops, rep)
			}
			cmp, _ := r.Compare()
			if want.smaller && cmp.CompressedSize.Delta >= 0 {
				t.Errorf("the hardened image is not smaller: %+v", cmp.CompressedSize)
			}
			t.Logf("%s: compressed %d -> %d (%.2fx), uncompressed %d -> %d, layers %d -> %d; smoke %s as uid %d",
				name, cmp.CompressedSize.Original, cmp.CompressedSize.Hardened, cmp.CompressedSize.Ratio,
				cmp.UncompressedSize.Original, cmp.UncompressedSize.Hardened, cmp.Layers.Original, cmp.Layers.Hardened, rep.Check, rep.UID)

			// An expert's Dockerfile for the same app, where the case has one:
			// harden's image must be within 5% of it, and it must run as
			// non-root too.
			hand, err := os.ReadFile(filepath.Join(dir, "Dockerfile.hand"))
			if errors.Is(err, fs.ErrNotExist) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Build(ctx, build.Request{Name: name + " (hand)", Dockerfile: hand, ContextDir: dir})
			if err != nil {
				t.Fatalf("the expert's Dockerfile.hand does not build: %v", err)
			}
			defer res.Cleanup()
			img, err := res.Image()
			if err != nil {
				t.Fatal(err)
			}
			handRep, err := runSmoke(ctx, img, *opts)
			if err != nil {
				t.Fatal(err)
			}
			if !handRep.Passed || handRep.UID <= 0 {
				t.Fatalf("the expert's image should pass as non-root: %+v", handRep)
			}
			handSize := res.Stats.CompressedSize
			ratio := float64(cmp.CompressedSize.Hardened) / float64(handSize)
			sizes.Lock()
			sizes.rows = append(sizes.rows, fmt.Sprintf("| %s | %d | %d | %d | %.4f |\n", name, cmp.CompressedSize.Original, handSize, cmp.CompressedSize.Hardened, ratio))
			sizes.Unlock()
			if ratio > 1.05 {
				t.Errorf("harden's image is %d bytes compressed, more than 5%% over the expert's %d", cmp.CompressedSize.Hardened, handSize)
			}
		})
	}
}

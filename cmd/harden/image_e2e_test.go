package main

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

func TestMain(m *testing.M) { bktest.Main(m) }

// imageVersion is stamped into the test builds of harden's image.
const imageVersion = "v0.0.0-e2e"

// The repository's Dockerfile builds harden's own image: both programs,
// cross-compiled in a builder on the build machine's platform, static, on
// distroless as nonroot. The builder is a real Go toolchain (the host's Go,
// see bktest.HostGoToolchain) that downloads the modules from the Go module
// proxy, so this test needs that network as well as root, runc and
// buildkitd. The image's own programs then run in it with runc, as the
// image's user.
func TestHardenImageE2E(t *testing.T) {
	env := bktest.Start(t)
	root, dockerfile := repoDockerfile(t)
	builder := stageImage(t, dockerfile, `(?m)^FROM --platform=\$BUILDPLATFORM (\S+) AS build$`)
	runtimeImage := stageImage(t, dockerfile, `(?m)^FROM (\S+)$`) // the final stage: no flags, no name

	goImage, err := bktest.HostGoToolchain()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(builder, ":"+goImage.Version) {
		t.Logf("note: the Dockerfile builds with %s; this test serves the host's Go %s under that name", builder, goImage.Version)
	}
	env.PushImage(t, builder, goImage.Image)
	// The distroless stand-in holds no executables, so one copy serves as
	// both platforms of a multi-platform index, as the real image has.
	pushMultiPlatform(t, env, runtimeImage, bktest.DistrolessStaticNonroot, "amd64", "arm64")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c, err := build.Connect(ctx, env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buildFor := func(t *testing.T, platform string) v1.Image {
		t.Helper()
		res, err := c.Build(ctx, build.Request{
			Name: "harden " + platform, Dockerfile: dockerfile, ContextDir: root,
			BuildArgs: map[string]string{"VERSION": imageVersion}, Platform: platform,
		})
		if err != nil {
			t.Fatalf("%v\n(buildkitd log: %s)", err, env.DaemonLog())
		}
		t.Cleanup(func() { res.Cleanup() })
		if res.Stats.IsRoot() {
			t.Errorf("%s image runs as %q, want distroless's nonroot user", platform, res.Stats.User)
		}
		img, err := res.Image()
		if err != nil {
			t.Fatal(err)
		}
		return img
	}

	host := "linux/" + runtime.GOARCH
	t.Run(host, func(t *testing.T) {
		img := buildFor(t, host)
		assertStaticPrograms(t, img, elfMachine[runtime.GOARCH])
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cf.Config.Entrypoint, " "); got != "/usr/local/bin/harden" {
			t.Errorf("entrypoint %q, want /usr/local/bin/harden", got)
		}

		// docker run IMAGE version: the entrypoint with "version" as command.
		versionRun := withConfig(t, img, func(c *v1.Config) { c.Cmd = []string{"version"} })
		rep := runSmoke(t, versionRun, smoke.Options{Run: time.Second, Timeout: 30 * time.Second})
		if want := "harden " + imageVersion; !slicesContain(rep.Output, want) {
			t.Errorf("docker run IMAGE version printed %q, want %q", rep.Output, want)
		} else {
			t.Logf("docker run IMAGE version printed %q", rep.Output)
		}

		// The same programs run by a command in the started container, as the
		// image's user: distroless has no shell, so a probe layer brings a
		// static busybox under /busybox (off PATH) to keep the container
		// running and to compare the output.
		probe := withProbe(t, img, probeScript)
		rep = runSmoke(t, probe, smoke.Options{Exec: []string{"/busybox/sh", "/busybox/probe.sh"}, Timeout: 30 * time.Second, Grace: time.Second})
		if !rep.Passed || rep.UID != 65532 {
			t.Errorf("probe in harden's image: passed %v as uid %d: %s", rep.Passed, rep.UID, rep.Reason)
		} else {
			t.Logf("probe in harden's image passed as uid %d: harden version printed %q", rep.UID, "harden "+imageVersion)
		}
	})

	// The other platform is cross-compiled by the same builder; without an
	// emulator it cannot run here, so its programs' ELF headers are checked.
	// It doubles the test's time (a cold compile of both programs), so it
	// runs when asked for.
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	t.Run("linux/"+other, func(t *testing.T) {
		if other == "" {
			t.Skipf("no other architecture to cross-compile for from %s", runtime.GOARCH)
		}
		if os.Getenv(envCrossPlatform) != "1" {
			t.Skipf("set %s=1 to also cross-compile the image for linux/%s", envCrossPlatform, other)
		}
		img := buildFor(t, "linux/"+other)
		assertStaticPrograms(t, img, elfMachine[other])
	})
}

// envCrossPlatform, set to 1, adds the build for the other architecture.
const envCrossPlatform = "HARDEN_E2E_CROSS"

// probeScript checks, inside harden's image and as its user, that both
// programs run and that harden carries its embedded templates.
var probeScript = strings.Join([]string{
	`set -e`,
	`v=$(/usr/local/bin/harden version)`,
	`[ "$v" = "harden ` + imageVersion + `" ] || { echo "harden version printed: $v"; exit 1; }`,
	`u=$(/busybox/id -u)`,
	`[ "$u" = 65532 ] || { echo "ran as uid $u"; exit 1; }`,
	// harden-build refuses to run by hand and says so: it started.
	`b=$(/usr/local/bin/harden-build by-hand 2>&1 || true)`,
	`case "$b" in *"is run by it"*) ;; *) echo "harden-build printed: $b"; exit 1 ;; esac`,
	// harden new's templates are embedded: the .dockerignore kept them.
	`d=$(/busybox/mktemp -d)`,
	`n=$(/usr/local/bin/harden new --lang go --dry-run "$d")`,
	`case "$n" in *"FROM gcr.io/distroless/static-debian12:nonroot"*) ;; *) echo "harden new printed: $n"; exit 1 ;; esac`,
}, "\n") + "\n"

var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// repoDockerfile returns the repository's root and its Dockerfile.
func repoDockerfile(t *testing.T) (string, []byte) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return root, data
}

func stageImage(t *testing.T, dockerfile []byte, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindSubmatch(dockerfile)
	if m == nil {
		t.Fatalf("the Dockerfile has no line matching %s:\n%s", pattern, dockerfile)
	}
	return string(m[1])
}

// pushMultiPlatform publishes the stand-in of kind under name as an index
// with one entry per architecture.
func pushMultiPlatform(t *testing.T, env *bktest.Env, name string, kind bktest.Kind, archs ...string) {
	t.Helper()
	base, err := bktest.NewStandIn(kind, "")
	if err != nil {
		t.Fatal(err)
	}
	var adds []mutate.IndexAddendum
	for _, arch := range archs {
		cf, err := base.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.Architecture = arch
		img, err := mutate.ConfigFile(base, cf)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	if _, err := env.Registry.PushIndex(name, mutate.AppendManifests(empty.Index, adds...)); err != nil {
		t.Fatal(err)
	}
}

// assertStaticPrograms unpacks img and checks that harden and harden-build
// are statically linked executables for machine.
func assertStaticPrograms(t *testing.T, img v1.Image, machine elf.Machine) {
	t.Helper()
	dir := t.TempDir()
	if err := smoke.Unpack(img, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"harden", "harden-build"} {
		p := filepath.Join(dir, "usr", "local", "bin", name)
		f, err := elf.Open(p)
		if err != nil {
			t.Errorf("%s in the image: %v", name, err)
			continue
		}
		if f.Machine != machine {
			t.Errorf("%s is built for %v, want %v", name, f.Machine, machine)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked; distroless static has no C library", name)
			}
		}
		f.Close()
	}
}

func withConfig(t *testing.T, img v1.Image, edit func(*v1.Config)) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := *cf.Config.DeepCopy()
	edit(&cfg)
	out, err := mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withProbe adds a static busybox and script under /busybox and makes the
// container sleep, keeping the image's user, environment and working
// directory.
func withProbe(t *testing.T, img v1.Image, script string) v1.Image {
	t.Helper()
	bin, err := os.ReadFile(bktest.BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	files := []bktest.File{
		{Path: "/busybox/busybox", Data: bin, Mode: 0o755},
		{Path: "/busybox/probe.sh", Data: []byte(script)},
	}
	for _, applet := range []string{"sh", "sleep", "id", "mktemp"} {
		files = append(files, bktest.File{Path: "/busybox/" + applet, Link: "busybox"})
	}
	layer, err := bktest.Layer(files...)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		t.Fatal(err)
	}
	return withConfig(t, img, func(c *v1.Config) {
		c.Entrypoint, c.Cmd = []string{"/busybox/sleep", "120"}, nil
	})
}

func runSmoke(t *testing.T, img v1.Image, opts smoke.Options) *smoke.Report {
	t.Helper()
	rep, err := smoke.Run(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func slicesContain(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

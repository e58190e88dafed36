package bktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"golang.org/x/mod/modfile"
)

// BuildKitModule is the module whose daemon the tests run.
const BuildKitModule = "github.com/moby/buildkit"

// EnvCache overrides the binary cache's base directory.
const EnvCache = "HARDEN_BK_CACHE"

// BuildKitVersion is go.mod's BuildKit version: the daemon must speak the
// API of the client under test. It reads the go.mod above the working
// directory (tests run in their package's directory), else the module
// information linked into the running binary (test binaries carry none).
func BuildKitVersion() (string, error) {
	if gomod, err := findGoMod(); err == nil {
		return versionFromGoMod(gomod)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == BuildKitModule {
				if d.Replace != nil {
					return d.Replace.Version, nil
				}
				return d.Version, nil
			}
		}
	}
	return "", fmt.Errorf("cannot tell which %s version to run: no go.mod above the working directory and none linked into this binary", BuildKitModule)
}

func findGoMod() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "go.mod")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

func versionFromGoMod(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Replace {
		if r.Old.Path == BuildKitModule && r.New.Version != "" {
			return r.New.Version, nil
		}
	}
	for _, r := range f.Require {
		if r.Mod.Path == BuildKitModule {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", path, BuildKitModule)
}

// BinDir is where buildkitd and buildctl of version are cached:
// $HARDEN_BK_CACHE/<version>/bin, else ~/.cache/harden-bk/<version>/bin.
// scripts/e2e-setup.sh uses the same layout.
func BinDir(version string) (string, error) {
	base, err := cacheBase()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, version, "bin"), nil
}

func cacheBase() (string, error) {
	if base := os.Getenv(EnvCache); base != "" {
		return base, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "harden-bk"), nil
}

// Binaries are the BuildKit executables of one version.
type Binaries struct {
	Version   string
	Buildkitd string
	Buildctl  string
}

func binariesIn(dir, version string) (Binaries, bool) {
	b := Binaries{Version: version, Buildkitd: filepath.Join(dir, "buildkitd"), Buildctl: filepath.Join(dir, "buildctl")}
	for _, p := range []string{b.Buildkitd, b.Buildctl} {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			return b, false
		}
	}
	return b, true
}

// CachedBinaries returns the cached binaries of version, if present.
func CachedBinaries(version string) (Binaries, bool) {
	dir, err := BinDir(version)
	if err != nil {
		return Binaries{}, false
	}
	return binariesIn(dir, version)
}

// ErrCannotBuild means buildkitd is not cached and there is no go command to
// build it.
var ErrCannotBuild = errors.New("buildkitd is not cached and cannot be built")

// EnsureBinaries returns the cached binaries of version, building them from
// the module source first if needed (3-5 minutes on 2 cores). `go install
// module/cmd/buildkitd@version` refuses BuildKit's go.mod (it has exclude
// directives), so the build runs inside the downloaded module instead.
// Concurrent callers (parallel test packages) wait on a file lock rather
// than building twice. Progress goes to log.
func EnsureBinaries(ctx context.Context, version string, log io.Writer) (Binaries, error) {
	dir, err := BinDir(version)
	if err != nil {
		return Binaries{}, err
	}
	if b, ok := binariesIn(dir, version); ok {
		return b, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return Binaries{}, fmt.Errorf("%w: no go command in PATH", ErrCannotBuild)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Binaries{}, err
	}
	unlock, err := lockFile(filepath.Join(filepath.Dir(dir), "build.lock"))
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()
	if b, ok := binariesIn(dir, version); ok {
		return b, nil // another process built it while we waited
	}

	fmt.Fprintf(log, "bktest: building buildkitd and buildctl %s into %s (one-off, a few minutes)\n", version, dir)
	dl := exec.CommandContext(ctx, goBin, "mod", "download", "-json", BuildKitModule+"@"+version)
	// Outside any module, so the download cannot touch the repository's go.sum.
	dl.Dir = os.TempDir()
	dl.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, err := dl.Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("%w: go mod download %s@%s: %v %s", ErrCannotBuild, BuildKitModule, version, err, stderrOf(err))
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return Binaries{}, fmt.Errorf("%w: go mod download: no module directory (%s)", ErrCannotBuild, mod.Error)
	}

	tmp, err := os.MkdirTemp(filepath.Dir(dir), "tmp-")
	if err != nil {
		return Binaries{}, err
	}
	defer os.RemoveAll(tmp)
	build := exec.CommandContext(ctx, goBin, "build", "-trimpath",
		"-ldflags=-X github.com/moby/buildkit/version.Version="+version,
		"-o", tmp+string(filepath.Separator), "./cmd/buildkitd", "./cmd/buildctl")
	build.Dir = mod.Dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	build.Stdout, build.Stderr = log, log
	if err := build.Run(); err != nil {
		return Binaries{}, fmt.Errorf("%w: go build in %s: %v", ErrCannotBuild, mod.Dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return Binaries{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Binaries{}, err
	}
	b, ok := binariesIn(dir, version)
	if !ok {
		return Binaries{}, fmt.Errorf("%w: binaries missing from %s after the build", ErrCannotBuild, dir)
	}
	return b, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// lockFile takes an exclusive flock, waiting for other holders.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

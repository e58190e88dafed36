package bktest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// RealBases are the realistic base images of one recipe, as layer files in
// the cache.
type RealBases struct {
	// Dir is the cache directory holding the layers, meta.json and the log
	// of the build that made them.
	Dir    string
	recipe realRecipe
	meta   realMeta
}

// realMeta is meta.json: what a finished build left. Its presence marks
// the directory complete.
type realMeta struct {
	Key    string                   `json:"key"`
	Built  time.Time                `json:"built"`
	Layers map[RealBase]layerRecord `json:"layers"`
	// Env holds what was read from the built trees (PYTHON_VERSION=...).
	Env map[RealBase][]string `json:"env,omitempty"`
	// Seconds is how long each variant took, debootstrap included for the
	// first; Total the whole build with packing.
	Seconds map[RealBase]float64 `json:"seconds"`
	Total   float64              `json:"total_seconds"`
}

// RealPrereqs returns why realistic bases cannot be built or used here, or
// "" when they can: on top of BuildKit's needs (root, runc) they need
// debootstrap, chroot and mount.
func RealPrereqs() string {
	if os.Geteuid() != 0 {
		return "realistic base images need root (debootstrap, chroot, mount; buildkitd's OCI worker)"
	}
	if _, err := lookRunc(); err != nil {
		return "e2e tests need runc: apt-get install runc (or run scripts/e2e-setup.sh)"
	}
	if _, err := lookDebootstrap(); err != nil {
		return "realistic base images need debootstrap: apt-get install debootstrap (or run scripts/e2e-setup.sh)"
	}
	for _, tool := range []string{"chroot", "mount", "umount", "cp"} {
		if _, err := lookSbin(tool); err != nil {
			return "realistic base images need " + tool + " in PATH"
		}
	}
	return ""
}

func lookDebootstrap() (string, error) { return lookSbin("debootstrap") }

// lookSbin finds a tool in PATH or the sbin directories, which a non-login
// root shell may lack.
func lookSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// RealBasesDir is where realistic bases are cached:
// $HARDEN_BK_CACHE/realbases, else ~/.cache/harden-bk/realbases, one
// directory per recipe key.
func RealBasesDir() (string, error) {
	base, err := cacheBase()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "realbases"), nil
}

// EnsureRealBases returns the realistic bases of this source tree's recipe,
// building them first when the cache lacks them: one debootstrap, then apt
// in a chroot for each variant, on copies (a quarter of an hour cold on two
// busy cores, most of it downloading and unpacking packages). A change to the
// recipe (packages, configuration, the host's extra CA certificates, the
// mirror) gives a new key and a rebuild. Parallel test processes wait on a
// file lock instead of building twice. Progress goes to log.
func EnsureRealBases(ctx context.Context, log io.Writer) (*RealBases, error) {
	recipe, err := defaultRealRecipe()
	if err != nil {
		return nil, err
	}
	top, err := RealBasesDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(top, recipe.key())
	if b, err := openRealBases(dir, recipe); err == nil {
		return b, nil
	}
	if reason := RealPrereqs(); reason != "" {
		return nil, errors.New(reason)
	}
	if err := os.MkdirAll(top, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(top, "build.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if b, err := openRealBases(dir, recipe); err == nil {
		return b, nil // another process built them while we waited
	}
	fmt.Fprintf(log, "bktest: building the realistic Debian bookworm bases into %s (one-off, several minutes)\n", dir)
	if err := buildRealBases(ctx, recipe, top, dir, log); err != nil {
		return nil, err
	}
	pruneRealBases(top, 2)
	return openRealBases(dir, recipe)
}

func openRealBases(dir string, recipe realRecipe) (*RealBases, error) {
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, err
	}
	b := &RealBases{Dir: dir, recipe: recipe}
	if err := json.Unmarshal(data, &b.meta); err != nil {
		return nil, fmt.Errorf("%s/meta.json: %w", dir, err)
	}
	if b.meta.Key != recipe.key() {
		return nil, fmt.Errorf("%s holds key %s, want %s", dir, b.meta.Key, recipe.key())
	}
	for _, v := range recipe.Variants {
		l, ok := b.layer(v.Base)
		if !ok {
			return nil, fmt.Errorf("%s: no layer for %s", dir, v.Base)
		}
		if err := l.check(); err != nil {
			return nil, err
		}
	}
	// Mark it used: pruning keeps the most recently used keys.
	now := time.Now()
	os.Chtimes(filepath.Join(dir, "meta.json"), now, now)
	return b, nil
}

func (b *RealBases) layer(base RealBase) (fileLayer, bool) {
	rec, ok := b.meta.Layers[base]
	if !ok {
		return fileLayer{}, false
	}
	return fileLayer{path: filepath.Join(b.Dir, rec.File), rec: rec}, true
}

// chain returns the layers of base's image, lowest first.
func (b *RealBases) chain(base RealBase) ([]fileLayer, error) {
	var out []fileLayer
	for cur := base; ; {
		v, ok := b.recipe.variant(cur)
		if !ok {
			return nil, fmt.Errorf("unknown realistic base %q", cur)
		}
		l, ok := b.layer(cur)
		if !ok {
			return nil, fmt.Errorf("%s: no layer for %s", b.Dir, cur)
		}
		out = append([]fileLayer{l}, out...)
		if v.Full {
			return out, nil
		}
		cur = v.From
	}
}

// Image returns the image of base, made of the cached layer files.
func (b *RealBases) Image(base RealBase) (v1.Image, error) {
	v, ok := b.recipe.variant(base)
	if !ok {
		return nil, fmt.Errorf("unknown realistic base %q", base)
	}
	files, err := b.chain(base)
	if err != nil {
		return nil, err
	}
	layers := make([]v1.Layer, len(files))
	for i, f := range files {
		layers[i] = f
	}
	cfg := v1.Config{
		Env:        append(slices.Clone(v.Env), b.meta.Env[base]...),
		Entrypoint: v.Entrypoint,
		Cmd:        v.Cmd,
	}
	return Image(cfg, layers...)
}

// Size returns the compressed (as pushed) and uncompressed (as unpacked)
// size of base's image: the sums over its layers.
func (b *RealBases) Size(base RealBase) (compressed, uncompressed int64, err error) {
	files, err := b.chain(base)
	if err != nil {
		return 0, 0, err
	}
	for _, f := range files {
		compressed += f.rec.Size
		uncompressed += f.rec.Uncompressed
	}
	return compressed, uncompressed, nil
}

// BuildSeconds returns how long the cold build that made these bases took,
// in total and per base (debootstrap counts for the first).
func (b *RealBases) BuildSeconds() (total float64, per map[RealBase]float64) {
	return b.meta.Total, b.meta.Seconds
}

// Bases lists the realistic bases in build order.
func (b *RealBases) Bases() []RealBase {
	var out []RealBase
	for _, v := range b.recipe.Variants {
		out = append(out, v.Base)
	}
	return out
}

// pruneRealBases removes all but the keep most recently used key
// directories (and leftovers of interrupted builds), under the build lock.
func pruneRealBases(top string, keep int) {
	entries, err := os.ReadDir(top)
	if err != nil {
		return
	}
	type used struct {
		dir string
		at  time.Time
	}
	var dirs []used
	keyName := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, e := range entries {
		p := filepath.Join(top, e.Name())
		switch {
		case !e.IsDir():
		case strings.HasPrefix(e.Name(), "tmp-"):
			removeTree(p)
		case keyName.MatchString(e.Name()):
			fi, err := os.Stat(filepath.Join(p, "meta.json"))
			if err != nil {
				removeTree(p)
				continue
			}
			dirs = append(dirs, used{p, fi.ModTime()})
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].at.After(dirs[j].at) })
	for i := keep; i < len(dirs); i++ {
		removeTree(dirs[i].dir)
	}
}

// removeTree removes a build directory unless something is still mounted
// in it: removing through a bind mount would empty the mounted directory.
func removeTree(dir string) error {
	unmountUnder(dir)
	if m := mountsUnder(dir); len(m) > 0 {
		return fmt.Errorf("not removing %s: still mounted there: %s", dir, strings.Join(m, ", "))
	}
	return os.RemoveAll(dir)
}

func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// realBuilder runs one build of the bases in a work directory.
type realBuilder struct {
	ctx    context.Context
	recipe realRecipe
	work   string // trees live in work/<base>
	debs   string // downloaded packages, kept across builds
	log    io.Writer
	logF   *os.File // the full build log, kept beside the layers
}

// kernelDirs are mounted by the container runtime: their contents never go
// into a layer.
var kernelDirs = []string{"proc", "sys", "dev"}

func buildRealBases(ctx context.Context, recipe realRecipe, top, dir string, log io.Writer) (err error) {
	start := time.Now()
	work, err := os.MkdirTemp(top, "tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := removeTree(work); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	debs := filepath.Join(top, "debs")
	if err := os.MkdirAll(filepath.Join(debs, "partial"), 0o755); err != nil {
		return err
	}
	out := filepath.Join(work, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	logF, err := os.Create(filepath.Join(out, "build.log"))
	if err != nil {
		return err
	}
	defer logF.Close()
	b := &realBuilder{ctx: ctx, recipe: recipe, work: work, debs: debs, log: log, logF: logF}
	meta := realMeta{
		Key: recipe.key(), Layers: map[RealBase]layerRecord{},
		Env: map[RealBase][]string{}, Seconds: map[RealBase]float64{},
	}
	for _, v := range recipe.Variants {
		t0 := time.Now()
		env, err := b.variant(v)
		if err != nil {
			return fmt.Errorf("realistic base %s: %w (build log: %s)", v.Base, err, b.tail())
		}
		meta.Seconds[v.Base] = time.Since(t0).Seconds()
		meta.Env[v.Base] = env
		fmt.Fprintf(log, "bktest: realistic base %s built in %.0fs\n", v.Base, meta.Seconds[v.Base])
	}
	// Pack once every tree is final: a layer of changes reads its parent's tree.
	for _, v := range recipe.Variants {
		lower := ""
		if !v.Full {
			lower = b.tree(v.From)
		}
		rec, err := writeTreeLayer(filepath.Join(out, string(v.Base)+".tar.gz"), lower, b.tree(v.Base), treeLayerOptions{Empty: kernelDirs})
		if err != nil {
			return err
		}
		meta.Layers[v.Base] = rec
	}
	meta.Built = time.Now().UTC()
	meta.Total = time.Since(start).Seconds()
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "meta.json"), data, 0o644); err != nil {
		return err
	}
	if err := logF.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.Rename(out, dir); err != nil {
		return err
	}
	fmt.Fprintf(log, "bktest: realistic bases ready in %s after %.0fs\n", dir, meta.Total)
	return nil
}

func (b *realBuilder) tree(base RealBase) string { return filepath.Join(b.work, string(base)) }

// variant makes the finished tree of v and returns the environment
// variables read from it.
func (b *realBuilder) variant(v realVariant) (env []string, err error) {
	root := b.tree(v.Base)
	if v.From == "" {
		if err := b.debootstrap(root); err != nil {
			return nil, err
		}
	} else if err := b.run("cp", "-a", b.tree(v.From), root); err != nil {
		return nil, err
	}
	for _, f := range v.Files {
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(f.Data), f.Mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(p, f.Mode); err != nil {
			return nil, err
		}
	}
	if v.Slim {
		if err := slimify(root); err != nil {
			return nil, err
		}
	}
	if !v.Upgrade && len(v.Packages) == 0 && v.Script == "" && len(v.VersionCommand) == 0 {
		return nil, finishTree(root)
	}

	unmount, err := b.mountChroot(root)
	if err != nil {
		return nil, err
	}
	defer func() {
		if uerr := unmount(); uerr != nil && err == nil {
			err = uerr
		}
	}()
	// apt keeps what it downloads in the shared directory, where the
	// images' docker-clean does not delete it: the next variant, and the
	// next build after a recipe change, download only what is new.
	apt := []string{"apt-get", "-q", "-y", "-o", "Dir::Cache::archives=" + chrootDebs + "/"}
	if v.Upgrade || len(v.Packages) > 0 {
		if err := b.chroot(root, append(apt, "update")...); err != nil {
			return nil, err
		}
	}
	if v.Upgrade {
		if err := b.chroot(root, append(apt, "upgrade")...); err != nil {
			return nil, err
		}
	}
	if len(v.Packages) > 0 {
		if err := b.chroot(root, append(append(apt, "install", "--no-install-recommends"), v.Packages...)...); err != nil {
			return nil, err
		}
	}
	if v.Script != "" {
		if err := b.chroot(root, "sh", "-ec", v.Script); err != nil {
			return nil, err
		}
	}
	if len(v.VersionCommand) > 0 {
		out, err := b.chrootOutput(root, v.VersionCommand...)
		if err != nil {
			return nil, err
		}
		version := strings.TrimSpace(out)
		if version == "" || strings.ContainsAny(version, " \n") {
			return nil, fmt.Errorf("%v printed %q, not a version", v.VersionCommand, out)
		}
		env = append(env, v.VersionEnv+"="+version)
	}
	if err := unmount(); err != nil {
		return nil, err
	}
	return env, finishTree(root)
}

func (b *realBuilder) debootstrap(root string) error {
	bin, err := lookDebootstrap()
	if err != nil {
		return err
	}
	fmt.Fprintf(b.log, "bktest: debootstrap --variant=minbase %s from %s\n", b.recipe.Suite, b.recipe.Mirror)
	if err := b.run(bin, "--variant=minbase", "--cache-dir="+b.debs, b.recipe.Suite, root, b.recipe.Mirror); err != nil {
		return err
	}
	// The one-line sources.list gives way to the deb822 file the recipe
	// writes, with the updates and security suites.
	return os.Remove(filepath.Join(root, "etc/apt/sources.list"))
}

// chrootDebs is where the shared package directory is mounted in a tree
// during the build.
const chrootDebs = "/var/cache/apt/harden-build-debs"

// mountChroot mounts /proc and the shared package directory into root and
// gives it the host's resolv.conf. The returned function undoes it (it may
// be called twice).
func (b *realBuilder) mountChroot(root string) (func() error, error) {
	var mounted []string
	undo := func() error {
		var errs []error
		for i := len(mounted) - 1; i >= 0; i-- {
			if err := syscall.Unmount(mounted[i], 0); err != nil {
				// Something still runs in it: detach now, it goes when it exits.
				if err := syscall.Unmount(mounted[i], syscall.MNT_DETACH); err != nil {
					errs = append(errs, fmt.Errorf("unmount %s: %w", mounted[i], err))
				}
			}
		}
		mounted = nil
		if err := os.Remove(filepath.Join(root, chrootDebs)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "etc/resolv.conf"), resolv, 0o644); err != nil {
		return nil, err
	}
	proc := filepath.Join(root, "proc")
	if err := syscall.Mount("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return nil, fmt.Errorf("mount proc in %s: %w", root, err)
	}
	mounted = append(mounted, proc)
	debs := filepath.Join(root, chrootDebs)
	if err := os.MkdirAll(debs, 0o755); err != nil {
		undo()
		return nil, err
	}
	if err := syscall.Mount(b.debs, debs, "", syscall.MS_BIND, ""); err != nil {
		undo()
		return nil, fmt.Errorf("bind %s in %s: %w", b.debs, root, err)
	}
	mounted = append(mounted, debs)
	return undo, nil
}

// chrootEnv is the whole environment of commands in a tree: a fixed one,
// plus the host's proxy settings, which apt may need to reach the mirror
// as debootstrap did.
func chrootEnv() []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(k), "_proxy") {
			env = append(env, kv)
		}
	}
	return env
}

func (b *realBuilder) chroot(root string, args ...string) error {
	bin, err := lookSbin("chroot")
	if err != nil {
		return err
	}
	return b.runEnv(chrootEnv(), bin, append([]string{root}, args...)...)
}

func (b *realBuilder) chrootOutput(root string, args ...string) (string, error) {
	bin, err := lookSbin("chroot")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(b.ctx, bin, append([]string{root}, args...)...)
	cmd.Env = chrootEnv()
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, b.logF)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("chroot %v: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// run runs a host command (debootstrap, cp) with the host's environment,
// the sbin directories added to PATH.
func (b *realBuilder) run(name string, args ...string) error {
	return b.runEnv(hostEnv(), name, args...)
}

func hostEnv() []string {
	var env []string
	path := ""
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
			continue
		}
		env = append(env, kv)
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if !slices.Contains(filepath.SplitList(path), dir) {
			path += string(filepath.ListSeparator) + dir
		}
	}
	return append(env, "PATH="+strings.TrimPrefix(path, ":"))
}

// runEnv runs a command with its output in the build log.
func (b *realBuilder) runEnv(env []string, name string, args ...string) error {
	fmt.Fprintf(b.logF, "+ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.CommandContext(b.ctx, name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = b.logF, b.logF
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(shortArgs(args), " "), err)
	}
	return nil
}

func shortArgs(args []string) []string {
	if len(args) > 8 {
		return append(slices.Clone(args[:8]), "...")
	}
	return args
}

// tail is the end of the build log, for error messages.
func (b *realBuilder) tail() string {
	if b.logF == nil {
		return ""
	}
	return b.logF.Name() + ":\n" + tail(b.logF.Name(), 25)
}

// slimify removes what the slim dpkg configuration excludes from files
// already installed: regular files first (the includes kept), then
// dangling symlinks and empty directories below each excluded folder.
func slimify(root string) error {
	for _, pattern := range slimExcludes {
		top := filepath.Join(root, path.Dir(pattern))
		if _, err := os.Lstat(top); err != nil {
			continue
		}
		err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
				return err
			}
			rel := "/" + strings.TrimPrefix(p, root+"/")
			if matchesAny(slimIncludes, rel) || !matchesAny([]string{pattern}, rel) {
				return nil
			}
			return os.Remove(p)
		})
		if err != nil {
			return err
		}
		for removed := true; removed; {
			removed = false
			var dirs []string
			err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
				if err != nil || p == top {
					return err
				}
				if d.Type()&fs.ModeSymlink != 0 {
					if _, err := os.Stat(p); err != nil {
						removed = true
						return os.Remove(p)
					}
				} else if d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for i := len(dirs) - 1; i >= 0; i-- { // children first
				if entries, err := os.ReadDir(dirs[i]); err == nil && len(entries) == 0 {
					if err := os.Remove(dirs[i]); err == nil {
						removed = true
					}
				}
			}
		}
	}
	return nil
}

// matchesAny reports whether p matches one of dpkg's path patterns, where
// "*" also matches across "/".
func matchesAny(patterns []string, p string) bool {
	for _, pat := range patterns {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, ".*") + "$"
		if regexp.MustCompile(re).MatchString(p) {
			return true
		}
	}
	return false
}

// finishTree removes what an image must not carry and the official images
// do not: package lists and caches, logs with build times, the build's
// resolv.conf and hostname, and pip's "externally managed" marker, which
// the official python images do not have (their pip installs anywhere).
func finishTree(root string) error {
	globs := []string{
		"var/lib/apt/lists/*", "var/cache/apt/*", "var/cache/debconf/*-old",
		"var/log/dpkg.log", "var/log/bootstrap.log", "var/log/alternatives.log",
		"var/log/apt/history.log", "var/log/apt/term.log", "var/log/apt/eipp.log.xz",
		"var/cache/ldconfig/aux-cache", "etc/hostname", "root/.cache", "root/.npm", "tmp/*",
		"usr/lib/python3*/EXTERNALLY-MANAGED",
	}
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return err
			}
		}
	}
	// The runtime mounts its own; an empty file marks the mount point.
	return os.WriteFile(filepath.Join(root, "etc/resolv.conf"), nil, 0o644)
}

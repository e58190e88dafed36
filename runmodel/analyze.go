package runmodel

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// Image is what is known about the image a stage chain starts from.
type Image struct {
	Ref string
	// Distro is the OS family (debian, alpine, distroless, scratch, ...).
	Distro string
	// Runtime is the language runtime or server the image provides
	// (python, node, nginx, httpd, php, ...).
	Runtime string
	// Flavor is the image's role where a repository has several (fpm,
	// apache, jre, ...).
	Flavor string
	// User is the non-root account the image ships, nil when none.
	User *User
	// Port is the port the image's own server listens on by default.
	Port int
}

// Input is what the model is built from.
type Input struct {
	File *dockerfile.File
	// Stage is the stage that runs; nil means the final stage.
	Stage *dockerfile.Stage
	// Context is the build context, or nil when unknown (standard input).
	Context *buildctx.Context
	// Framework and Ecosystem are what detection found ("django",
	// "python"); empty when unknown.
	Framework string
	Ecosystem string
	// Image describes the image the chain starts from.
	Image Image
	// Deployments are the compose services that run this stage.
	Deployments []Deployment
}

// analysis is one model being built.
type analysis struct {
	in Input
	st *stageState
	m  *Model
	// sources are the app's source files in the context that the start
	// command names, read first and always.
	sources []string
	seen    map[string]bool
	// tmpfs are folders deployments mount as tmpfs: writable by everyone.
	tmpfs []string
}

// Analyze builds the model of the running stage.
func Analyze(in Input) *Model {
	st := in.Stage
	if st == nil {
		st = in.File.FinalStage()
	}
	a := &analysis{in: in, st: readStage(in.File, st), m: &Model{Stage: st.Ref()}, seen: map[string]bool{}}
	a.st.resolveGroups()
	a.m.Workdir = a.st.workdir
	a.m.User = a.st.user
	a.m.HomeEnv = a.st.env["HOME"]

	a.deploymentEnv()
	entry, cmd := a.st.startWords()
	a.m.Command = append(append([]string(nil), entry...), cmd...)
	r := &runner{a: a, cmd: cmd}
	switch {
	case a.st.entry != nil:
		// An exec-form ENTRYPOINT gets CMD as its arguments: a wrapper
		// (tini --) runs them, a script may exec "$@".
		r.follow(append(append([]string(nil), entry...), cmd...), a.ev(a.st.entry, "ENTRYPOINT "+strings.Join(entry, " ")), 0)
	case a.st.cmd != nil:
		a.inheritedEntrypoint()
		r.follow(cmd, a.ev(a.st.cmd, "CMD "+strings.Join(cmd, " ")), 0)
	default:
		a.imageDefaults()
	}

	a.deployments(r)
	a.dataDirs()
	for _, v := range a.st.volumes {
		a.m.addWrite(v)
	}
	a.m.RootHome = a.st.rootHome
	a.frameworkConventions()
	a.scanSources()
	a.serverConfigs()
	a.ports()
	a.kubernetes()
	a.users()
	a.dropTmpfs()
	a.m.sortWrites()
	a.m.Drops = slices.CompactFunc(a.m.Drops, func(x, y PrivilegeDrop) bool { return x.Server == y.Server })
	return a.m
}

func (a *analysis) ev(ins *dockerfile.Instruction, why string) Evidence {
	return Evidence{File: a.in.File.Name, Line: ins.Line, Why: why}
}

// imageDefaults models a stage that sets no command: the base image's own.
func (a *analysis) imageDefaults() {
	img := a.in.Image
	at := Evidence{Why: "the base image " + img.Ref + " starts its own server"}
	switch {
	case img.Runtime == "nginx" && !strings.Contains(img.Ref, "unprivileged"):
		a.program("nginx", at)
	case img.Runtime == "httpd" || img.Flavor == "apache":
		a.program("apache2-foreground", at)
	case img.Flavor == "fpm":
		a.program("php-fpm", at)
	case img.Runtime != "":
		a.program(img.Runtime, Evidence{Why: "the base image " + img.Ref + " runs " + img.Runtime})
	}
	a.inheritedEntrypoint()
}

// inheritedEntrypoint models the base image's own ENTRYPOINT, which runs
// when the Dockerfile sets none: the official database and web images'
// scripts start as root and switch to their own user.
func (a *analysis) inheritedEntrypoint() {
	img := a.in.Image
	if d, ok := selfDroppingImages[repoName(img.Ref)]; ok {
		a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: repoName(img.Ref), Setting: d, Why: Evidence{Why: "the entrypoint of " + img.Ref + " starts as root and switches user itself"}})
	}
}

// passThroughEntrypoints are the entrypoint scripts official images ship
// that only hand over to their arguments (node's runs node for an option or
// a file, and execs anything else): naming them in ENTRYPOINT starts what
// follows, as root or as USER.
var passThroughEntrypoints = map[string]map[string]bool{
	"node": {"docker-entrypoint.sh": true, "/usr/local/bin/docker-entrypoint.sh": true},
}

// selfDroppingImages are official images whose entrypoint starts as root,
// prepares its data folder and switches to its own user with gosu or the
// server's setting.
var selfDroppingImages = map[string]string{
	"postgres": "the entrypoint's gosu postgres", "mysql": "the entrypoint's gosu mysql", "mariadb": "the entrypoint's gosu mysql",
	"redis": "the entrypoint's gosu redis", "mongo": "the entrypoint's gosu mongodb", "rabbitmq": "the entrypoint's gosu rabbitmq",
	"cassandra": "the entrypoint's gosu cassandra", "couchdb": "the entrypoint's gosu couchdb", "wordpress": "Apache's APACHE_RUN_USER",
	"drupal": "Apache's APACHE_RUN_USER", "nextcloud": "Apache's APACHE_RUN_USER", "joomla": "Apache's APACHE_RUN_USER",
	"matomo": "Apache's APACHE_RUN_USER", "httpd": "the User directive of httpd.conf", "nginx": "the user directive of nginx.conf",
}

func repoName(ref string) string {
	name := ref
	if i := strings.LastIndex(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	name = strings.TrimPrefix(name, "docker.io/")
	name = strings.TrimPrefix(name, "library/")
	return name
}

// program records a program the start command runs and what it needs.
func (a *analysis) program(name string, at Evidence) {
	if name == "" || slices.Contains(a.m.Programs, name) {
		return
	}
	a.m.Programs = append(a.m.Programs, name)
	if what, ok := homeUsers[name]; ok {
		a.m.setHome(Evidence{File: at.File, Line: at.Line, Why: what + " runs the app and may keep caches, settings or history in the user's home"})
	}
	a.programConventions(name, at)
}

// read reads a context file, bounded.
func (a *analysis) read(p string) ([]byte, error) {
	if a.in.Context == nil {
		return nil, fs.ErrNotExist
	}
	return readMemo(a.in.Context, p)
}

const maxFileBytes = 256 << 10

// contextFile maps a path in the image to the context file a COPY or ADD
// put there, following the last copy that covers it.
func (a *analysis) contextFile(img string) (string, bool) {
	if a.in.Context == nil {
		return "", false
	}
	for i := len(a.st.copies) - 1; i >= 0; i-- {
		c := a.st.copies[i]
		if c.from != "" || !Under(img, c.dest) {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(img, c.dest), "/")
		for _, src := range c.sources {
			if strings.Contains(src, "://") {
				continue
			}
			var cand string
			switch {
			case strings.ContainsAny(src, "*?["):
				cand = path.Join(path.Dir(buildctx.Clean(src)), rel)
			case c.destDir && rel != "" && !a.isContextDir(src):
				if path.Base(buildctx.Clean(src)) != firstElem(rel) {
					continue
				}
				cand = buildctx.Clean(src)
				if rest := strings.TrimPrefix(rel, firstElem(rel)); rest != "" {
					cand = path.Join(cand, rest)
				}
			case rel == "":
				cand = buildctx.Clean(src)
			default:
				cand = path.Join(buildctx.Clean(src), rel)
			}
			if a.in.Context.Sent(cand) {
				return cand, true
			}
		}
	}
	return "", false
}

func firstElem(p string) string {
	first, _, _ := strings.Cut(p, "/")
	return first
}

func (a *analysis) isContextDir(src string) bool {
	st, err := fs.Stat(a.in.Context.FS, buildctx.Clean(src))
	return err == nil && st.IsDir()
}

// imagePath maps a context path to where the build copies it, if it does.
func (a *analysis) imagePath(ctxPath string) (string, bool) {
	ctxPath = buildctx.Clean(ctxPath)
	for i := len(a.st.copies) - 1; i >= 0; i-- {
		c := a.st.copies[i]
		if c.from != "" {
			continue
		}
		for _, src := range c.sources {
			s := buildctx.Clean(src)
			switch {
			case s == "." || a.in.Context != nil && a.isContextDir(src) && Under(ctxPath, s):
				rel := strings.TrimPrefix(strings.TrimPrefix(ctxPath, s), "/")
				if s == "." {
					rel = ctxPath
				}
				return path.Join(c.dest, rel), true
			case s == ctxPath:
				if c.destDir {
					return path.Join(c.dest, path.Base(s)), true
				}
				return c.dest, true
			}
		}
	}
	return "", false
}

// madeByRun reports whether a RUN of the chain creates the path or writes
// into it, or a COPY from another stage puts it there.
func (a *analysis) madeByRun(img string) bool {
	for _, m := range a.st.made {
		if m.path == img || Under(img, m.path) && m.dir {
			return true
		}
	}
	for _, c := range a.st.copies {
		if c.from != "" && (c.dest == img || Under(img, c.dest) && c.destDir) {
			return true
		}
	}
	return false
}

// inImage reports whether the build puts something at the path.
func (a *analysis) inImage(img string) bool {
	if _, ok := a.contextFile(img); ok {
		return true
	}
	if a.madeByRun(img) {
		return true
	}
	return img == a.st.workdir
}

// exists reports whether the build puts a file or folder at exactly p.
func (a *analysis) exists(p string) bool {
	if _, ok := a.contextFile(p); ok {
		return true
	}
	for _, m := range a.st.made {
		if m.path == p {
			return true
		}
	}
	for _, c := range a.st.copies {
		if c.from != "" && c.dest == p {
			return true
		}
	}
	return p == a.st.workdir
}

// writeFile records a file the app writes: it modifies it when the image
// holds it, and otherwise creates it in its folder.
func (a *analysis) writeFile(p string, why Evidence) {
	if systemFile(p) && !a.appPath(p) {
		a.m.NeedsRoot = append(a.m.NeedsRoot, Evidence{File: why.File, Line: why.Line, Why: why.Why + ": " + p + " belongs to the system, so writing it needs root"})
		return
	}
	if a.exists(p) && p != a.st.workdir {
		a.m.addWrite(Write{Path: p, Kind: Modifies, Copied: true, Why: why})
		return
	}
	dir := path.Dir(p)
	a.m.addWrite(Write{Path: dir, Kind: CreatesIn, Copied: a.inImage(dir), Why: why})
}

// makeDir records a folder the app makes.
func (a *analysis) makeDir(p string, kind WriteKind, why Evidence) {
	if p == "" {
		return
	}
	if a.inImage(p) {
		a.m.addWrite(Write{Path: p, Kind: CreatesIn, Copied: true, Why: why})
		return
	}
	a.m.addWrite(Write{Path: p, Kind: kind, Why: why})
}

// appPath reports whether p is inside the app's own folder: its working
// directory, even where that lies in a system tree (/usr/src/app, the
// official node images' example).
func (a *analysis) appPath(p string) bool {
	return AppFolder(a.st.workdir) && Under(p, a.st.workdir)
}

// systemFile reports whether writing p needs root in any image: the
// system's configuration and programs.
func systemFile(p string) bool {
	return Under(p, "/etc") || Under(p, "/usr") || Under(p, "/bin") || Under(p, "/sbin") || Under(p, "/lib") || Under(p, "/boot")
}

// dataDirs models folders a RUN makes and hands to a non-root user or
// opens to everyone, and empty folders nothing in the build fills: the app
// writes them at run time.
func (a *analysis) dataDirs() {
	for _, m := range a.st.made {
		if systemDir(m.path) || worldWritable(m.path) || Under(m.path, "/root") {
			continue
		}
		at := Evidence{File: a.in.File.Name, Line: m.ins.Line}
		switch {
		case m.writable != "":
			at.Why = "RUN " + m.writable + " gives it to the app"
			a.m.addWrite(Write{Path: m.path, Kind: Modifies, Copied: true, Why: at})
		case m.dir && !a.filledLater(m):
			at.Why = "a folder RUN makes and nothing in the build fills, left for the app"
			a.m.addWrite(Write{Path: m.path, Kind: CreatesIn, Copied: true, Why: at})
		case !m.dir:
			at.Why = "an empty file RUN touch makes for the app"
			a.m.addWrite(Write{Path: m.path, Kind: Modifies, Copied: true, Why: at})
		}
	}
}

// filledLater reports whether a COPY, ADD or a later RUN puts something in
// a folder a RUN made.
func (a *analysis) filledLater(m madePath) bool {
	for _, c := range a.st.copies {
		if c.ins.Index > m.ins.Index && Under(c.dest, m.path) {
			return true
		}
	}
	for _, r := range a.st.runs {
		if r.ins.Index < m.ins.Index {
			continue
		}
		text := r.ins.Node.Original
		if r.ins == m.ins {
			// The same RUN: filled when the path appears again after
			// the mkdir (a download into it, a cd into it).
			i := strings.Index(text, m.path)
			if i < 0 || !strings.Contains(text[i+len(m.path):], m.path) {
				continue
			}
			return true
		}
		if strings.Contains(text, m.path) {
			return true
		}
		if r.workdir == m.path {
			return true
		}
	}
	return false
}

// sourceEntry records an app source file the start command runs.
func (a *analysis) sourceEntry(script string) {
	img := a.st.abs(script)
	if src, ok := a.contextFile(img); ok {
		a.sourceFile(src)
	}
}

func (a *analysis) sourceFile(src string) {
	if !slices.Contains(a.sources, src) {
		a.sources = append(a.sources, src)
	}
}

// packageJSON is the context path of the package.json in the working
// directory, or "".
func (a *analysis) packageJSON() string {
	if src, ok := a.contextFile(path.Join(a.st.workdir, "package.json")); ok {
		return src
	}
	return ""
}

// users lists the accounts the image could run as.
func (a *analysis) users() {
	for i := len(a.st.created) - 1; i >= 0; i-- {
		a.m.Users = append(a.m.Users, a.st.created[i])
	}
	if u := a.in.Image.User; u != nil {
		a.m.Users = append(a.m.Users, *u)
	}
	chain := map[int]bool{}
	for c := a.in.Stage; c != nil; c = c.Parent() {
		chain[c.Index] = true
	}
	if a.in.Stage == nil {
		for c := a.in.File.FinalStage(); c != nil; c = c.Parent() {
			chain[c.Index] = true
		}
	}
	for _, other := range a.in.File.Stages {
		if chain[other.Index] {
			continue
		}
		st := readStage(a.in.File, other)
		st.resolveGroups()
		for _, u := range st.created {
			u.Stage = other.Ref()
			if !slices.ContainsFunc(a.m.Users, func(x User) bool { return x.Name == u.Name }) {
				a.m.Users = append(a.m.Users, u)
			}
		}
	}
}

// dropTmpfs removes writes under folders a deployment mounts as tmpfs,
// which every user may write.
func (a *analysis) dropTmpfs() {
	if len(a.tmpfs) == 0 {
		return
	}
	out := a.m.Writes[:0]
	for _, w := range a.m.Writes {
		keep := true
		for _, t := range a.tmpfs {
			if Under(w.Path, t) {
				keep = false
			}
		}
		if keep {
			out = append(out, w)
		}
	}
	a.m.Writes = out
}

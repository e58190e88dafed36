package transform

import (
	"encoding/json"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// SlimBase moves a final stage that needs nothing of a full image to the
// image's slim variant, in place.
var SlimBase = &Rule{
	ID:       "HD504",
	Name:     "slim-base",
	Title:    "the final image is a full image the app does not need",
	Severity: Warning,
	Safety:   Structural,
	Doc: Doc{
		Why: "The full python, node and ruby images are Debian's buildpack-deps with the language " +
			"added: compilers, headers, curl, git and ImageMagick, about 180 MB compressed more than " +
			"the -slim variant of the same tag, which has the same language runtime at the same " +
			"paths. A stage that only copies its code, installs Debian packages of the language " +
			"(apt-get install python3-flask) or dependencies that ship prebuilt, and runs the " +
			"interpreter needs none of it, and nothing else in the file makes harden split it. " +
			"harden moves such a final stage to the slim variant and keeps everything else, when " +
			"no evidence says it needs the full image: a compiler, make or node-gyp in a RUN, " +
			"-dev or build packages it installs, pip packages that build from source " +
			"(psycopg2, mysqlclient, uWSGI, --no-binary), setup.py build_ext or a C extension " +
			"of the project, npm packages with install scripts or native addons, a git " +
			"dependency, gems (which compile), curl, wget, git or another tool only the full " +
			"image has in a RUN, the start command, a HEALTHCHECK, the entrypoint script or the " +
			"app's own code (subprocess, child_process), and files copied from another stage " +
			"that compiles against the full image's libraries. debian:bookworm, which differs " +
			"from bookworm-slim only by documentation and translations, moves unless the stage " +
			"reads those, and buildpack-deps moves to debian's slim image of its release. The " +
			"change names the evidence it checked. A pinned digest belongs to the full image: " +
			"with a BuildKit at hand (fix --build, fix --verify, report) the slim variant is " +
			"pinned to the digest of its tag on the day of the build, which the change names; " +
			"otherwise, or when the lookup fails, it keeps the tag and the change says that its " +
			"digest must be pinned again (and why the lookup failed).",
		Bad: "FROM python:3.12\nRUN apt-get update && apt-get install -y --no-install-recommends python3-yaml && rm -rf /var/lib/apt/lists/*\n" +
			"WORKDIR /app\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends python3-yaml && rm -rf /var/lib/apt/lists/*\n" +
			"WORKDIR /app\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkSlimBase,
}

// fullFamily says what a full image has that its slim variant lacks.
type fullFamily int

const (
	// buildpackFamily images are buildpack-deps plus a language: the
	// compilers, headers and tools of fullImagePrograms.
	buildpackFamily fullFamily = iota + 1
	// debianFamily images differ from -slim by documentation, manual
	// pages and translations only.
	debianFamily
)

var fullFamilies = map[string]fullFamily{
	"python": buildpackFamily, "node": buildpackFamily, "ruby": buildpackFamily, "perl": buildpackFamily,
	"buildpack-deps": buildpackFamily, "debian": debianFamily,
}

// fullImagePrograms are the programs a buildpack-deps image has and its
// slim variant lacks, each with the Debian package that provides it, so
// that a stage which installs the package itself still works on slim.
var fullImagePrograms = map[string]string{
	"gcc": "gcc", "cc": "gcc", "g++": "g++", "c++": "g++", "cpp": "cpp", "make": "make", "ld": "binutils", "as": "binutils",
	"autoconf": "autoconf", "autoreconf": "autoconf", "automake": "automake", "aclocal": "automake", "libtoolize": "libtool",
	"pkg-config": "pkg-config", "patch": "patch", "file": "file", "bzip2": "bzip2", "bunzip2": "bzip2", "unzip": "unzip",
	"xz": "xz-utils", "unxz": "xz-utils", "curl": "curl", "wget": "wget", "gpg": "gnupg", "dirmngr": "dirmngr",
	"git": "git", "hg": "mercurial", "svn": "subversion", "ssh": "openssh-client", "scp": "openssh-client",
	"sftp": "openssh-client", "ssh-keyscan": "openssh-client", "ssh-keygen": "openssh-client",
	"ps": "procps", "pkill": "procps", "pgrep": "procps", "top": "procps", "free": "procps", "watch": "procps",
	"convert": "imagemagick", "identify": "imagemagick", "mogrify": "imagemagick", "magick": "imagemagick",
	"pg_config": "libpq-dev", "mysql_config": "default-libmysqlclient-dev", "mariadb_config": "libmariadb-dev",
	"xml2-config": "libxml2-dev", "xslt-config": "libxslt1-dev", "curl-config": "libcurl4-openssl-dev",
	"node-gyp": "g++", "python3": "python3", "python": "python3",
}

// buildpackLanguage is the program each family's slim image keeps of
// fullImagePrograms: python's slim image has python.
var buildpackLanguage = map[string][]string{"python": {"python", "python3"}}

// pythonBuildBackends in a project's build-system requirements compile
// extensions.
var pythonBuildBackends = []string{"cython", "pybind11", "scikit-build", "maturin", "setuptools-rust", "setuptools_rust", "meson-python", "cffi", "numpy"}

func checkSlimBase(p *Pass) {
	final := p.File.FinalStage()
	if final.Parent() != nil {
		return // it builds on another stage, which others may build on too
	}
	ref, expanded, isImage := final.Image()
	if !isImage || !expanded || isSmallImage(ref) {
		return
	}
	repo := baseimage.Parse(ref).Repo()
	family := fullFamilies[repo]
	if family == 0 {
		return
	}
	s := newSplitter(p, final, ref)
	slim, why := s.runtimeImage(baseimage.Slim, s.version(langOf(repo)))
	if why != "" {
		return // harden does not know the slim variant: nothing to say
	}
	exp, _ := p.File.ExpandGlobalArgs(slim)
	if exp == ref {
		return
	}
	var evidence []string
	if family == debianFamily {
		why, evidence = s.needsDebianDocs()
	} else {
		why, evidence = s.needsFullImage(repo)
	}
	if why != "" {
		// The app needs the full image: nothing for its owner to fix.
		p.ReportSeverity(final.From, Info, "the final stage runs on the full "+ref+" image, which ships the "+fullImageLacks(family)+
			" that "+exp+" leaves out; harden kept it because "+why, nil)
		return
	}
	from := final.From
	lg := from.Logical()
	start := strings.Index(lg.Text[from.ArgsStart():], final.BaseName)
	if start < 0 {
		return
	}
	start += from.ArgsStart()
	desc := "moved from " + ref + " to " + exp + ", which lacks the full image's " + fullImageLacks(family) + "; nothing here needs them: " + joinAnd(evidence)
	// A digest belongs to the full image: the slim one carries the digest
	// resolved for its tag when one was looked up, else its tag only.
	pins, lost := p.pinClauses(ref, exp)
	for _, c := range pins {
		desc += "; " + c
	}
	p.Report(final.From, "the final stage runs on the full "+ref+" image, whose "+fullImageLacks(family)+" it does not need", &SuggestedFix{
		Description: desc,
		Edits:       []dockerfile.Edit{{Start: lg.Orig(start), End: lg.OrigEnd(start + len(final.BaseName)), New: slim}},
	})
	p.lostPins(lostPin(lost)...)
}

// langOf is the detection's language key for an image family.
func langOf(repo string) string {
	switch repo {
	case "python", "node", "ruby":
		return repo
	}
	return ""
}

func fullImageLacks(f fullFamily) string {
	if f == debianFamily {
		return "documentation, manual pages and translations"
	}
	return "compilers, headers and tools (curl, git)"
}

// needsDebianDocs reads a debian stage for the only things its slim image
// lacks: documentation, manual pages and translations.
func (s *splitter) needsDebianDocs() (string, []string) {
	for _, c := range s.chunks[1:] {
		for _, dir := range []string{"/usr/share/doc", "/usr/share/man", "/usr/share/locale", "/usr/share/info"} {
			if strings.Contains(c.ins.Node.Original, dir) {
				return "line " + itoaLine(c.ins) + " uses " + dir + ", which the slim image leaves out", nil
			}
		}
	}
	return "", []string{"no line reads documentation, manual pages or translations"}
}

// needsFullImage looks for evidence that a stage on a buildpack-deps based
// image needs what only the full image has. It returns the evidence that
// it does, or, when none is found, what it checked, for the summary.
func (s *splitter) needsFullImage(repo string) (string, []string) {
	installed := map[string]bool{} // Debian packages the stage installs itself
	var aptPkgs []string
	for _, c := range s.chunks[1:] {
		sc, err := c.ins.Script()
		if c.ins.Keyword != "run" || err != nil {
			continue
		}
		inst, _ := systemInstalls(sc)
		for _, in := range inst {
			for _, i := range in.packages {
				pkg := in.cmd.Args[i]
				installed[pkg] = true
				if buildOnlyPackages()[pkg] || strings.HasSuffix(pkg, "-dev") || strings.HasSuffix(pkg, "-devel") || strings.HasSuffix(pkg, "-headers") {
					return "line " + itoaLine(c.ins) + " installs " + pkg + ", which compiles against the full image's headers and tools", nil
				}
				aptPkgs = append(aptPkgs, pkg)
			}
		}
	}
	if installed["build-essential"] {
		installed["gcc"], installed["g++"], installed["make"] = true, true, true
	}
	lacks := func(prog string) bool {
		pkg, ok := fullImagePrograms[prog]
		return ok && !installed[pkg] && !slices.Contains(buildpackLanguage[repo], prog)
	}
	var evidence []string
	var installers []string
	for i, cmd := range s.runCommands() {
		ins := s.chunks[i].ins
		name := cmd.Name()
		switch {
		case lacks(name):
			return "line " + itoaLine(ins) + " runs " + name + ", which only the full image has", nil
		case strings.HasSuffix(name, "/configure") || name == "configure":
			return "line " + itoaLine(ins) + " runs a configure script, which needs the full image's compilers", nil
		}
		if sub, _, _ := subcommand(cmd); pythonName().MatchString(name) && cmd.HasArg("setup.py") &&
			(sub == "setup.py" || cmd.HasArg("build_ext", "build", "install", "develop", "bdist_wheel")) {
			if cmd.HasArg("build_ext") || s.pythonProjectCompiles(".") {
				return "line " + itoaLine(ins) + " runs setup.py, which compiles the project's C extension", nil
			}
		}
		if _, ok := pipInstall(cmd); ok {
			why, what := s.pipNeedsFullImage(cmd)
			if why != "" {
				return "line " + itoaLine(ins) + " " + why, nil
			}
			installers = append(installers, what)
		}
		if pm := nodeInstall(cmd); pm != "" {
			why, what := s.nodeNeedsFullImage(pm)
			if why != "" {
				return "line " + itoaLine(ins) + " " + why, nil
			}
			installers = append(installers, what)
		}
		if tool, lock := pythonLockInstall(cmd); tool != "" {
			why, what := s.lockNeedsFullImage(tool, lock)
			if why != "" {
				return "line " + itoaLine(ins) + " " + why, nil
			}
			installers = append(installers, what)
		}
		switch name {
		case "conda", "mamba", "micromamba":
			return "line " + itoaLine(ins) + " installs packages with " + name + ", which harden does not read", nil
		case "bundle", "gem":
			if sub, _, _ := subcommand(cmd); sub == "install" || name == "bundle" && sub == "" {
				return "line " + itoaLine(ins) + " installs gems, which may compile native extensions against the full image", nil
			}
		}
	}
	if why := s.copiesCompiledFromFullImage(); why != "" {
		return why, nil
	}
	if why := s.healthcheckNeedsFullImage(lacks); why != "" {
		return why, nil
	}
	model := s.p.runModel(s.st, detect.Image(s.ref))
	for _, u := range model.Unknown {
		if strings.Contains(u.Why, "script") {
			return "harden cannot read what the start command runs (" + u.String() + ")", nil
		}
	}
	for _, prog := range model.Programs {
		if lacks(prog) {
			return "the start command runs " + prog + ", which only the full image has", nil
		}
	}
	if why := s.startScriptsNeedFullImage(model.Command, lacks); why != "" {
		return why, nil
	}
	if s.p.Context == nil {
		return "without the build context harden cannot read the app's code for tools it calls", nil
	}
	if prog, at := appCallsFullImageProgram(s.p.Context, lacks); prog != "" {
		return at + " calls " + prog + ", which only the full image has", nil
	}
	switch {
	case len(aptPkgs) > 0:
		evidence = append(evidence, "apt-get installs only "+strings.Join(aptPkgs, ", "))
	case len(installers) == 0:
		evidence = append(evidence, "it installs no packages")
	}
	evidence = append(evidence, installers...)
	if len(model.Programs) > 0 {
		evidence = append(evidence, "the image runs "+joinAnd(model.Programs))
	}
	return "", evidence
}

// pipNeedsFullImage reads a pip install for packages that compile: those
// published as source only, --no-binary, git requirements and the
// project itself when it has a C extension. what names what it installs.
func (s *splitter) pipNeedsFullImage(cmd *dockerfile.Command) (why, what string) {
	text := cmd.Text()
	if strings.Contains(text, "--no-binary") || s.setsEnv("PIP_NO_BINARY") {
		return "builds packages from source with pip --no-binary, which needs the full image's compilers", ""
	}
	at, _ := pipInstall(cmd)
	var names []string
	for i := at + 1; i < cmd.NArgs(); i++ {
		a, lit := cmd.Arg(i)
		if !lit {
			return "installs a package named by a variable, which harden cannot check", ""
		}
		switch {
		case a == "-r" || a == "--requirement" || a == "-c" || a == "--constraint":
			if i+1 >= cmd.NArgs() {
				continue
			}
			i++
			file, _ := cmd.Arg(i)
			reqs, why := s.requirementsOf(file)
			if why != "" {
				return why, ""
			}
			names = append(names, reqs...)
		case a == "-e" || a == "--editable" || a == "--find-links" || a == "-f" || a == "-i" || a == "--index-url" || a == "--extra-index-url":
			if a == "-e" || a == "--editable" {
				continue // the next word is a project, read below
			}
			i++
		case strings.HasPrefix(a, "-"):
		case strings.Contains(a, "git+") || strings.HasPrefix(a, "hg+") || strings.HasPrefix(a, "svn+"):
			return "installs " + a + " from version control, which needs git", ""
		case a == "." || strings.HasPrefix(a, "./") || strings.HasPrefix(a, "/"):
			if strings.HasSuffix(a, ".whl") {
				names = append(names, path.Base(a))
				continue
			}
			if s.pythonProjectCompiles(a) {
				return "builds the project in " + a + ", which has a C extension", ""
			}
			names = append(names, "the project in "+a)
		default:
			names = append(names, requirementName(a))
		}
	}
	table := nativeDeps()["pip"]
	for _, n := range names {
		if dep, ok := table[n]; ok && !dep.fromSource {
			return "installs " + n + " with pip, which builds it against the full image: " + dep.note, ""
		}
	}
	if len(names) == 0 {
		return "", "pip installs nothing"
	}
	return "", "pip installs no package known to build from source (" + strings.Join(names, ", ") + ")"
}

// pythonLockInstall recognises installs by Python tools that read a lock
// file: poetry install, pipenv install or sync, pdm install or sync, uv
// sync. It returns the tool and its lock file.
func pythonLockInstall(c *dockerfile.Command) (tool, lock string) {
	sub, _, _ := subcommand(c)
	switch name := c.Name(); {
	case name == "poetry" && (sub == "install" || sub == "sync"):
		return name, "poetry.lock"
	case name == "pipenv" && (sub == "install" || sub == "sync"):
		return name, "Pipfile.lock"
	case name == "pdm" && (sub == "install" || sub == "sync"):
		return name, "pdm.lock"
	case name == "uv" && sub == "sync":
		return name, "uv.lock"
	}
	return "", ""
}

// lockPackage finds package names in TOML lock files ([[package]] name =)
// and Pipfile.lock's JSON sections.
var (
	tomlLockName = lazyre.New(`(?m)^name = "([^"]+)"`)
	jsonLockName = lazyre.New(`(?m)^        "([^"]+)": \{`)
)

// lockNeedsFullImage reads a lock file for packages that build from source.
func (s *splitter) lockNeedsFullImage(tool, lock string) (why, what string) {
	if s.p.Context == nil {
		return "installs with " + tool + ", and without the build context harden cannot read " + lock, ""
	}
	data, err := s.p.Context.ReadHead(path.Join(appRoot(s.p), lock), 8<<20)
	if err != nil {
		return "installs with " + tool + " what " + lock + " pins, and harden cannot read it in the build context", ""
	}
	re := tomlLockName()
	if strings.HasSuffix(lock, ".json") || lock == "Pipfile.lock" {
		re = jsonLockName()
	}
	var names []string
	table := nativeDeps()["pip"]
	for _, m := range re.FindAllSubmatch(data, -1) {
		name := requirementName(string(m[1]))
		if dep, ok := table[name]; ok && !dep.fromSource {
			return "installs " + name + " with " + tool + ", which builds it against the full image: " + dep.note, ""
		}
		names = append(names, name)
	}
	if strings.Contains(string(data), "git+") || strings.Contains(string(data), `"git":`) {
		return "installs with " + tool + " a package " + lock + " pins from git, which needs git", ""
	}
	if len(names) == 0 {
		return "", tool + " installs no packages (" + lock + ")"
	}
	return "", tool + " installs no package that builds from source (" + lock + ")"
}

// requirementsOf reads the project names of a requirements file in the
// build context, following nested -r files.
func (s *splitter) requirementsOf(file string) ([]string, string) {
	if s.p.Context == nil {
		return nil, "installs " + file + ", which harden cannot read without the build context"
	}
	candidates := []string{file}
	if !path.IsAbs(file) {
		candidates = append(candidates, path.Join(appRoot(s.p), file))
	}
	for _, c := range candidates {
		data, err := s.p.Context.ReadHead(c, 1<<20)
		if err != nil {
			continue
		}
		var names []string
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(strings.SplitN(line, " #", 2)[0])
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.Contains(line, "--no-binary") {
				return nil, "installs " + file + ", which asks pip to build from source (--no-binary) with the full image's compilers"
			}
			if rest, ok := strings.CutPrefix(line, "-r "); ok {
				nested, why := s.requirementsOf(path.Join(path.Dir(c), strings.TrimSpace(rest)))
				if why != "" {
					return nil, why
				}
				names = append(names, nested...)
				continue
			}
			if strings.HasPrefix(line, "-") {
				continue
			}
			if strings.Contains(line, "git+") {
				return nil, "installs " + file + ", which names a git requirement that pip needs git for"
			}
			names = append(names, requirementName(line))
		}
		return names, ""
	}
	return nil, "installs " + file + ", which harden cannot read in the build context"
}

// pythonProjectCompiles reports a Python project in the context folder
// dir whose build compiles: a setup.py with extension modules, or a build
// system that builds extensions.
func (s *splitter) pythonProjectCompiles(dir string) bool {
	ctx := s.p.Context
	if ctx == nil {
		return true // unknown: assume it may
	}
	dir = buildctx.Clean(path.Join(appRoot(s.p), dir))
	if data, err := ctx.ReadHead(path.Join(dir, "setup.py"), 1<<20); err == nil {
		if strings.Contains(string(data), "Extension(") || strings.Contains(string(data), "ext_modules") {
			return true
		}
	}
	if data, err := ctx.ReadHead(path.Join(dir, "pyproject.toml"), 1<<20); err == nil {
		lower := strings.ToLower(string(data))
		for _, b := range pythonBuildBackends {
			if strings.Contains(lower, `"`+b) {
				return true
			}
		}
	}
	return false
}

// nodeNeedsFullImage reads a Node install for what compiles: native addons
// harden knows, packages with install scripts (node-gyp, prebuild
// fallbacks), git dependencies and the project's own binding.gyp.
func (s *splitter) nodeNeedsFullImage(pm string) (why, what string) {
	ctx := s.p.Context
	if ctx == nil {
		return "installs with " + pm + ", and without the build context harden cannot read package.json for native addons", ""
	}
	root := appRoot(s.p)
	if ctx.Exists(path.Join(root, "binding.gyp")) {
		return "installs with " + pm + " a project that builds a native addon (binding.gyp) with the full image's compilers", ""
	}
	data, err := ctx.ReadHead(path.Join(root, "package.json"), 1<<20)
	if err != nil {
		return "installs with " + pm + ", and harden cannot read package.json to check for native addons", ""
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return "installs with " + pm + ", and harden cannot read package.json to check for native addons", ""
	}
	table := nativeDeps()["npm"]
	count := 0
	for _, deps := range []map[string]string{pkg.Dependencies, pkg.DevDependencies} {
		for name, spec := range deps {
			count++
			if dep, ok := table[strings.ToLower(name)]; ok && !dep.fromSource {
				return "installs " + name + " with " + pm + ", a native addon that node-gyp compiles with the full image's tools when no prebuilt binary fits", ""
			}
			if strings.HasPrefix(spec, "git") || strings.HasPrefix(spec, "github:") || strings.Contains(spec, ".git") {
				return "installs " + name + " with " + pm + " from git, which needs git", ""
			}
		}
	}
	if lock, err := ctx.ReadHead(path.Join(root, "package-lock.json"), 8<<20); err == nil && strings.Contains(string(lock), `"hasInstallScript": true`) {
		return "installs with " + pm + " packages that package-lock.json marks with install scripts, which may compile with node-gyp", ""
	}
	if count == 0 {
		return "", pm + " installs no dependencies"
	}
	if !ctx.Exists(path.Join(root, "package-lock.json")) {
		return "installs with " + pm + ", and without package-lock.json harden cannot tell whether a dependency runs an install script", ""
	}
	return "", pm + " installs no native addon (package-lock.json has no install scripts)"
}

// copiesCompiledFromFullImage finds a COPY --from of a stage that compiles
// or installs native dependencies against a full Debian image: what it
// hands over may link libraries only the full image has.
func (s *splitter) copiesCompiledFromFullImage() string {
	for _, c := range s.chunks[1:] {
		from, ok := c.ins.Flag("from")
		if c.ins.Keyword != "copy" || !ok {
			continue
		}
		src := s.f.StageByName(from)
		if src == nil {
			continue // another image: harden does not know how it was built
		}
		root := src
		for root.Parent() != nil {
			root = root.Parent()
		}
		ref, expanded, isImage := root.Image()
		if !isImage || !expanded {
			return "line " + itoaLine(c.ins) + " copies from stage " + from + ", whose base harden cannot read"
		}
		if img := detect.Image(ref); img.Distro != "debian" || img.Variant != "full" {
			continue
		}
		other := newSplitter(s.p, src, ref)
		for _, cmd := range other.runCommands() {
			name := cmd.Name()
			if name == "gcc" || name == "g++" || name == "cc" || name == "make" || name == "cargo" || name == "node-gyp" {
				return "line " + itoaLine(c.ins) + " copies from stage " + from + ", which compiles with " + name + " against the full image's libraries"
			}
			for pm, is := range map[string]bool{"pip": isPipInstall(cmd), "npm": nodeInstall(cmd) != "", "gem": name == "bundle" || name == "gem"} {
				if !is {
					continue
				}
				pkgs, _, why := other.nativeLibraries(pm)
				if why != "" || len(pkgs) > 0 {
					return "line " + itoaLine(c.ins) + " copies from stage " + from + ", whose dependencies link libraries of the full image"
				}
			}
		}
	}
	return ""
}

func isPipInstall(c *dockerfile.Command) bool {
	_, ok := pipInstall(c)
	return ok
}

// healthcheckNeedsFullImage finds a HEALTHCHECK that runs a tool only the
// full image has (curl -f http://localhost/...).
func (s *splitter) healthcheckNeedsFullImage(lacks func(string) bool) string {
	for _, c := range s.chunks[1:] {
		hc, ok := c.ins.Command.(*instructions.HealthCheckCommand)
		if !ok || hc.Health == nil || len(hc.Health.Test) < 2 {
			continue
		}
		var progs []string
		switch hc.Health.Test[0] {
		case "CMD":
			progs = []string{path.Base(hc.Health.Test[1])}
		case "CMD-SHELL":
			progs = shellPrograms(hc.Health.Test[1])
		}
		for _, prog := range progs {
			if lacks(prog) {
				return "the HEALTHCHECK on line " + itoaLine(c.ins) + " runs " + prog + ", which only the full image has"
			}
		}
	}
	return ""
}

// startScriptsNeedFullImage reads the shell scripts of the start command
// that the context holds for tools only the full image has: runmodel
// follows the command, but records only the programs it hands over to.
func (s *splitter) startScriptsNeedFullImage(command []string, lacks func(string) bool) string {
	ctx := s.p.Context
	if ctx == nil {
		return ""
	}
	for _, w := range command {
		if !strings.HasSuffix(w, ".sh") && !strings.Contains(w, "/") {
			continue
		}
		for _, file := range contextFilesNamed(ctx, path.Base(w)) {
			data, err := ctx.ReadHead(file, 1<<20)
			if err != nil {
				continue
			}
			first, _, _ := strings.Cut(string(data), "\n")
			if !strings.HasSuffix(file, ".sh") && !shellShebang(first) {
				continue
			}
			for _, prog := range shellPrograms(string(data)) {
				if lacks(prog) {
					return file + ", which the start command runs, calls " + prog + ", which only the full image has"
				}
			}
		}
	}
	return ""
}

// shellShebang reports a #! line that names a POSIX shell.
func shellShebang(line string) bool {
	f := strings.Fields(strings.TrimPrefix(line, "#!"))
	if !strings.HasPrefix(line, "#!") || len(f) == 0 {
		return false
	}
	prog := path.Base(f[0])
	if prog == "env" && len(f) > 1 {
		prog = f[1]
	}
	return prog == "sh" || prog == "bash" || prog == "dash" || prog == "ash"
}

// shellPrograms lists the programs a piece of shell code calls, as far as
// they are literal words.
func shellPrograms(code string) []string {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(code), "")
	if err != nil {
		return nil
	}
	var out []string
	syntax.Walk(f, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok && len(call.Args) > 0 {
			if lit := call.Args[0].Lit(); lit != "" {
				out = append(out, path.Base(lit))
			}
		}
		return true
	})
	return out
}

// contextFilesNamed finds the files of the context with a base name,
// skipping dependency folders; the walk is bounded.
func contextFilesNamed(ctx *buildctx.Context, name string) []string {
	var out []string
	walkAppFiles(ctx, func(p string, d fs.DirEntry) bool {
		if d.Name() == name && !ctx.Ignored(p) {
			out = append(out, p)
		}
		return true
	})
	return out
}

// walkAppFiles visits the files of the context outside dependency
// folders. visit reports whether the file counts toward maxCodeScan; the
// walk stops once more than that many have counted.
func walkAppFiles(ctx *buildctx.Context, visit func(p string, d fs.DirEntry) (counted bool)) {
	seen := 0
	_ = fs.WalkDir(ctx.FS, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir():
			if p != "." && skippedForCode[d.Name()] {
				return fs.SkipDir
			}
			return nil
		case seen >= maxCodeScan:
			return fs.SkipAll
		}
		if visit(p, d) {
			seen++
		}
		return nil
	})
}

// skippedForCode are folders that hold no code of the app.
var skippedForCode = map[string]bool{"node_modules": true, ".git": true, "venv": true, ".venv": true, "site-packages": true,
	"__pycache__": true, ".tox": true, ".nox": true, "vendor": true}

// maxCodeScan bounds the files a scan of the app's code visits.
const maxCodeScan = 5000

// processCall finds code that runs a program by name: Python's subprocess
// and os.system, Node's child_process, Ruby's system and backticks.
var processCall = lazyre.New(`(?:subprocess\.(?:run|call|check_call|check_output|Popen)|os\.system|os\.popen|execSync|execFileSync|spawnSync|spawn|execFile|exec|system)\(\s*\[?\s*["'` + "`" + `]([a-z][a-z0-9_+-]*)`)

// appCallsFullImageProgram scans the app's code for a program it runs that
// only the full image has; at is "file:line".
func appCallsFullImageProgram(ctx *buildctx.Context, lacks func(string) bool) (prog, at string) {
	type call struct{ prog, at string }
	calls := ctx.Memo("transform.processCalls", func() any {
		var out []call
		walkAppFiles(ctx, func(p string, _ fs.DirEntry) bool {
			switch path.Ext(p) {
			case ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl":
			default:
				return false
			}
			if ctx.Ignored(p) {
				return true
			}
			data, err := ctx.ReadHead(p, 256<<10)
			if err != nil {
				return true
			}
			for _, m := range processCall().FindAllSubmatchIndex(data, -1) {
				line := 1 + strings.Count(string(data[:m[0]]), "\n")
				out = append(out, call{prog: string(data[m[2]:m[3]]), at: p + ":" + strconv.Itoa(line)})
			}
			return true
		})
		return out
	}).([]call)
	for _, c := range calls {
		if lacks(c.prog) {
			return c.prog, c.at
		}
	}
	return "", ""
}

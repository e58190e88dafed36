package ignore

import (
	"bytes"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// group orders the generated entries and titles them in the file.
type group int

const (
	groupSecrets group = iota
	groupVCS
	groupDependencies
	groupBuildOutput
	groupCaches
	groupEditors
	groupLogs
	groupOS
	groupDocker
	groupNeeded // re-inclusions for what the Dockerfile reads
)

var groupTitles = map[group]string{
	groupSecrets:      "Secrets and credentials: never send them to a builder",
	groupVCS:          "Version control history",
	groupDependencies: "Dependencies installed on the host: the image installs its own",
	groupBuildOutput:  "Build output the Dockerfile rebuilds itself",
	groupCaches:       "Caches, test and coverage output",
	groupEditors:      "Editor and IDE files",
	groupLogs:         "Logs",
	groupOS:           "Operating system litter",
	groupDocker:       "Docker build files: BuildKit reads the Dockerfile and ignore file on its own",
	groupNeeded:       "Needed by the Dockerfile",
}

// entry is one pattern harden may add.
type entry struct {
	pattern string
	group   group
	// why is the one-line reason shown with the pattern.
	why string
	// junk entries may be excluded even inside a folder a COPY names:
	// caches and litter that are regenerated and read by nothing at run
	// time. Everything else stays out of named folders, where harden
	// cannot tell whether the app reads it.
	junk bool
	// rebuilt is set for host dependencies and build output: the entry is
	// safe only when every Dockerfile that copies the whole context
	// recreates the folder itself. Inside a folder a COPY names, it may go
	// where the Dockerfile recreates it after the copy, in the same place.
	rebuilt *rebuild
	// when reports whether the entry is safe for these Dockerfiles, and
	// why not; nil means always.
	when func(*generator) (bool, string)
	// always keeps the entry in a new ignore file even when nothing in the
	// context matches it yet: the secrets that turn up in any project
	// folder sooner or later (dotenv files, private keys, Terraform
	// state). Every other entry is written only when the context holds
	// something it keeps out.
	always bool
}

// rebuild says which command recreates a folder.
type rebuild struct {
	does func(command []string) bool
	what string // e.g. "runs Maven", completing "never ..."
	// inferred marks build output guessed from the Dockerfile's commands:
	// it steps aside when the caller names the build output.
	inferred bool
}

// Ecosystems harden knows entries for.
var Ecosystems = []string{"python", "node", "go", "java", "ruby", "rust", "php", "dotnet", "static"}

// alwaysEntries apply to every project: a new ignore file gets those
// marked always, and the others where the context holds something they
// keep out.
var alwaysEntries = []entry{
	{pattern: "**/.env", group: groupSecrets, always: true, why: "dotenv files hold credentials"},
	{pattern: "**/.env.*", group: groupSecrets, always: true, why: "per-environment dotenv files hold credentials"},
	{pattern: "**/*.pem", group: groupSecrets, always: true, why: "private keys (certificates in the context are re-included by name)"},
	{pattern: "**/*.key", group: groupSecrets, always: true, why: "private keys"},
	{pattern: "**/*.p12", group: groupSecrets, always: true, why: "PKCS#12 bundles carry private keys"},
	{pattern: "**/*.pfx", group: groupSecrets, always: true, why: "PKCS#12 bundles carry private keys"},
	{pattern: "**/id_rsa*", group: groupSecrets, always: true, why: "SSH private keys"},
	{pattern: "**/id_dsa*", group: groupSecrets, always: true, why: "SSH private keys"},
	{pattern: "**/id_ecdsa*", group: groupSecrets, always: true, why: "SSH private keys"},
	{pattern: "**/id_ed25519*", group: groupSecrets, always: true, why: "SSH private keys"},
	{pattern: "**/.ssh", group: groupSecrets, why: "SSH keys"},
	{pattern: "**/.gnupg", group: groupSecrets, why: "GnuPG keyrings"},
	{pattern: "**/.aws", group: groupSecrets, why: "AWS credentials"},
	{pattern: "**/.azure", group: groupSecrets, why: "Azure credentials"},
	{pattern: "**/.gcloud", group: groupSecrets, why: "Google Cloud credentials"},
	{pattern: "**/.config/gcloud", group: groupSecrets, why: "Google Cloud credentials"},
	{pattern: "**/.kube", group: groupSecrets, why: "Kubernetes credentials"},
	{pattern: "**/.git-credentials", group: groupSecrets, why: "git credentials"},
	{pattern: "**/.netrc", group: groupSecrets, why: "netrc credentials"},
	{pattern: "**/.pypirc", group: groupSecrets, why: "PyPI upload credentials"},
	{pattern: "**/.pgpass", group: groupSecrets, why: "PostgreSQL passwords"},
	{pattern: "**/.dockercfg", group: groupSecrets, why: "Docker registry credentials"},
	{pattern: "**/.docker/config.json", group: groupSecrets, why: "Docker registry credentials"},
	{pattern: "**/*.tfstate", group: groupSecrets, always: true, why: "Terraform state stores resource secrets in plain text"},
	{pattern: "**/*.tfstate.*", group: groupSecrets, always: true, why: "Terraform state backups"},

	{pattern: ".git", group: groupVCS, why: "git history: large, and it keeps secrets deleted from the working tree", when: (*generator).vcsUnused},
	{pattern: ".hg", group: groupVCS, why: "Mercurial history", when: (*generator).vcsUnused},
	{pattern: ".svn", group: groupVCS, why: "Subversion metadata", when: (*generator).vcsUnused},

	{pattern: "**/.terraform", group: groupCaches, why: "Terraform provider cache"},

	{pattern: ".idea", group: groupEditors, why: "JetBrains project settings"},
	{pattern: ".vscode", group: groupEditors, why: "VS Code settings"},
	{pattern: "**/*.swp", group: groupEditors, why: "Vim swap files", junk: true},
	{pattern: "**/*.swo", group: groupEditors, why: "Vim swap files", junk: true},
	{pattern: "**/*~", group: groupEditors, why: "editor backup files", junk: true},

	{pattern: "**/*.log", group: groupLogs, why: "log files"},

	{pattern: "**/.DS_Store", group: groupOS, why: "macOS folder metadata", junk: true},
	{pattern: "**/Thumbs.db", group: groupOS, why: "Windows thumbnail cache", junk: true},

	{pattern: "**/Dockerfile*", group: groupDocker, why: "Dockerfiles"},
	{pattern: "**/*.Dockerfile", group: groupDocker, why: "Dockerfiles"},
	{pattern: "**/*.dockerfile", group: groupDocker, why: "Dockerfiles"},
	{pattern: "*.dockerignore", group: groupDocker, why: "ignore files (.dockerignore and per-Dockerfile ones)"},
	{pattern: "**/docker-compose*", group: groupDocker, why: "Compose files"},
	{pattern: "**/compose.yml", group: groupDocker, why: "Compose files"},
	{pattern: "**/compose.yaml", group: groupDocker, why: "Compose files"},
	{pattern: "**/compose.*.yml", group: groupDocker, why: "Compose override files"},
	{pattern: "**/compose.*.yaml", group: groupDocker, why: "Compose override files"},
}

// ecosystemEntries apply to projects of one ecosystem.
var ecosystemEntries = map[string][]entry{
	"node": {
		{pattern: "**/node_modules", group: groupDependencies, why: "installed node packages", rebuilt: &rebuild{does: installsNodePackages, what: "installs node packages (npm ci/install, yarn, pnpm or bun install)"}},
		{pattern: "dist", group: groupBuildOutput, why: "bundler output", rebuilt: &rebuild{does: buildsNodeApp, what: "builds the app (npm run build or a framework build)", inferred: true}},
		{pattern: ".next", group: groupBuildOutput, why: "Next.js build output", rebuilt: &rebuild{does: buildsNodeApp, what: "builds the app (npm run build or a framework build)", inferred: true}},
		{pattern: ".npm", group: groupCaches, why: "npm cache", junk: true},
		{pattern: ".pnpm-store", group: groupCaches, why: "pnpm store", junk: true},
		{pattern: "**/.eslintcache", group: groupCaches, why: "ESLint cache", junk: true},
		{pattern: ".parcel-cache", group: groupCaches, why: "Parcel cache", junk: true},
		{pattern: ".turbo", group: groupCaches, why: "Turborepo cache", junk: true},
		{pattern: ".nyc_output", group: groupCaches, why: "test coverage data", junk: true},
		{pattern: "coverage", group: groupCaches, why: "test coverage reports", junk: true},
	},
	"python": {
		{pattern: "**/__pycache__", group: groupCaches, why: "bytecode caches", junk: true},
		{pattern: "**/*.py[cod]", group: groupCaches, why: "compiled bytecode", junk: true},
		{pattern: ".venv", group: groupDependencies, why: "virtualenvs are tied to the host's Python and paths"},
		{pattern: "venv", group: groupDependencies, why: "virtualenvs are tied to the host's Python and paths"},
		{pattern: "*.egg-info", group: groupCaches, why: "packaging metadata regenerated by pip install"},
		{pattern: "dist", group: groupBuildOutput, why: "built wheels and sdists", rebuilt: &rebuild{does: buildsPythonPackage, what: "builds the package (python -m build, pip wheel, poetry build)", inferred: true}},
		{pattern: ".pytest_cache", group: groupCaches, why: "pytest cache", junk: true},
		{pattern: ".mypy_cache", group: groupCaches, why: "mypy cache", junk: true},
		{pattern: ".ruff_cache", group: groupCaches, why: "Ruff cache", junk: true},
		{pattern: ".tox", group: groupCaches, why: "tox environments", junk: true},
		{pattern: ".nox", group: groupCaches, why: "nox environments", junk: true},
		{pattern: ".hypothesis", group: groupCaches, why: "Hypothesis database", junk: true},
		{pattern: ".coverage", group: groupCaches, why: "coverage data", junk: true},
		{pattern: "htmlcov", group: groupCaches, why: "coverage reports", junk: true},
	},
	"go": {
		{pattern: "**/*.test", group: groupBuildOutput, why: "compiled Go test binaries", junk: true},
		{pattern: "coverage.out", group: groupCaches, why: "Go coverage profile", junk: true},
	},
	"java": {
		{pattern: "target", group: groupBuildOutput, why: "Maven output", rebuilt: &rebuild{does: runsAny("mvn", "mvnw"), what: "runs Maven"}},
		{pattern: "build", group: groupBuildOutput, why: "Gradle output", rebuilt: &rebuild{does: runsAny("gradle", "gradlew"), what: "runs Gradle"}},
		{pattern: ".gradle", group: groupCaches, why: "Gradle cache", junk: true},
	},
	"ruby": {
		{pattern: "vendor/bundle", group: groupDependencies, why: "installed gems", rebuilt: &rebuild{does: installsGems, what: "runs bundle install"}},
		{pattern: ".byebug_history", group: groupCaches, why: "debugger history", junk: true},
		{pattern: "coverage", group: groupCaches, why: "test coverage reports", junk: true},
	},
	"rust": {
		{pattern: "target", group: groupBuildOutput, why: "Cargo output", rebuilt: &rebuild{does: runsAny("cargo"), what: "runs Cargo"}},
	},
	"php": {
		{pattern: "vendor", group: groupDependencies, why: "Composer packages", rebuilt: &rebuild{does: runs("composer", "install"), what: "runs composer install"}},
		{pattern: ".phpunit.result.cache", group: groupCaches, why: "PHPUnit cache", junk: true},
		{pattern: ".phpunit.cache", group: groupCaches, why: "PHPUnit cache", junk: true},
	},
	"dotnet": {
		{pattern: "**/bin", group: groupBuildOutput, why: "MSBuild output", rebuilt: &rebuild{does: runsAny("dotnet"), what: "runs dotnet restore, build or publish"}},
		{pattern: "**/obj", group: groupBuildOutput, why: "MSBuild intermediate output and host restore state", rebuilt: &rebuild{does: runsAny("dotnet"), what: "runs dotnet restore, build or publish"}},
		{pattern: ".vs", group: groupEditors, why: "Visual Studio settings"},
	},
}

// rebuiltEverywhere decides a rebuilt entry: a Dockerfile that copies the
// host's node_modules and never installs packages may run on them.
// Dockerfiles that copy named paths only are safe either way, since harden
// never hides a named path it cannot prove is recreated. An empty reason
// means the entry does not apply at all and is not worth mentioning.
func (g *generator) rebuiltEverywhere(r *rebuild) (bool, string) {
	if r.inferred && (g.opts.BuildOutputs != nil || !slices.ContainsFunc(g.facts, func(f *facts) bool { return f.any(r.does) })) {
		return false, ""
	}
	for _, f := range g.facts {
		if f.copiesRoot && !f.any(r.does) {
			return false, f.name + " copies the whole context but never " + r.what + ", so it may need the copy in the context"
		}
	}
	return true, ""
}

// allowedInside reports whether entry c may hide the path q (which it
// matches itself, not through a parent) inside a folder that a source
// copies by name: junk may always go; host dependencies and build output
// only where the Dockerfile recreates them after that copy.
func (c *candidate) allowedInside(gd *guard, q string) bool {
	if c.junk {
		return true
	}
	if c.rebuilt == nil || gd.src == nil || gd.src.dest == "" {
		return false
	}
	rel := strings.TrimPrefix(path.Dir(q), gd.scope)
	return gd.by.rebuildsAt(c.rebuilt.does, gd.src, path.Join(gd.src.dest, rel))
}

// vcsUnused keeps version-control folders when a build needs them: a RUN
// that calls git, or Python packaging that derives the version from git.
func (g *generator) vcsUnused() (bool, string) {
	for _, f := range g.facts {
		if f.copiesRoot && f.any(runsAny("git")) {
			return false, f.name + " runs git on the copied context"
		}
	}
	if g.facts[0].copiesRoot && g.versionFromGit() {
		return false, "the Python build takes its version from git (setuptools-scm or similar)"
	}
	return true, ""
}

// scmVersioning names the Python build plugins that take the version from
// git.
var scmVersioning = []string{"setuptools-scm", "setuptools_scm", "hatch-vcs", "versioningit", "dunamai", "poetry-dynamic-versioning", "setuptools-git-versioning"}

func (g *generator) versionFromGit() bool {
	for _, name := range [...]string{"pyproject.toml", "setup.cfg", "setup.py"} {
		if !g.tree.mayHold(name) {
			continue
		}
		data, err := readHead(g.fsys, name, maxSniff)
		if err != nil {
			continue
		}
		for _, s := range scmVersioning {
			if bytes.Contains(data, []byte(s)) {
				return true
			}
		}
	}
	return false
}

// markerFiles name an ecosystem by files at the context root. harden's
// detection passes its own, better answer; this is the fallback when the
// caller has none.
var markerFiles = []struct {
	ecosystem string
	globs     []string
}{
	{"node", []string{"package.json"}},
	{"python", []string{"pyproject.toml", "requirements*.txt", "setup.py", "setup.cfg", "Pipfile", "poetry.lock", "uv.lock"}},
	{"go", []string{"go.mod"}},
	{"java", []string{"pom.xml", "build.gradle", "build.gradle.kts", "mvnw", "gradlew"}},
	{"ruby", []string{"Gemfile"}},
	{"rust", []string{"Cargo.toml"}},
	{"php", []string{"composer.json"}},
	{"dotnet", []string{"*.csproj", "*.fsproj", "*.vbproj", "*.sln", "global.json"}},
}

// inferEcosystems is the documented fallback: marker files at the context
// root, and "static" for a folder with an index.html and nothing else.
func inferEcosystems(t *contextTree) []string {
	var out []string
	for _, m := range markerFiles {
		for _, g := range m.globs {
			if rootGlob(t, g) {
				out = append(out, m.ecosystem)
				break
			}
		}
	}
	if len(out) == 0 && rootGlob(t, "index.html") {
		out = append(out, "static")
	}
	return out
}

// rootGlob reports whether fs.Glob finds the pattern at the root, from the
// listing the walks share rather than one listing per pattern.
func rootGlob(t *contextTree, pattern string) bool {
	if !strings.ContainsAny(pattern, `*?[\`) {
		if !t.mayHold(pattern) {
			return false
		}
		_, err := fs.Stat(t.fsys, pattern)
		return err == nil
	}
	entries, ok := t.rootEntries()
	if !ok {
		found, _ := fs.Glob(t.fsys, pattern)
		return len(found) > 0
	}
	for _, n := range entries {
		if hit, _ := path.Match(pattern, n.entry.Name()); hit {
			return true
		}
	}
	return false
}

package detect

import "github.com/harden-dev/harden/runmodel"

// Ecosystem names an application's language ecosystem. Its values are part
// of harden's JSON output and stable.
type Ecosystem string

const (
	Python  Ecosystem = "python"
	Node    Ecosystem = "node"
	Go      Ecosystem = "go"
	Java    Ecosystem = "java"
	Ruby    Ecosystem = "ruby"
	Rust    Ecosystem = "rust"
	PHP     Ecosystem = "php"
	DotNet  Ecosystem = "dotnet"
	Static  Ecosystem = "static"
	Unknown Ecosystem = "unknown"
)

// Ecosystems lists every ecosystem harden recognises, in the order used to
// break ties, followed by Unknown.
var Ecosystems = []Ecosystem{Python, Node, Go, Java, Ruby, Rust, PHP, DotNet, Static, Unknown}

// Result is what detection concluded about one application. Every
// conclusion is backed by an entry in Evidence; problems reading the
// project's files are in Notes, never errors.
//
// Paths of files harden read (evidence, manifests, lockfiles, project
// files) are relative to the build context, as COPY sees them. Paths
// inside the application (entrypoint values, build output folders,
// artifacts, document roots) are relative to Root, where its build runs;
// an entrypoint taken from the Dockerfile's start command is relative to
// the image's WORKDIR (a binary keeps its path in the image), and its
// Command keeps the words exactly.
type Result struct {
	// Ecosystem is the application's ecosystem, Unknown when nothing says.
	Ecosystem Ecosystem `json:"ecosystem"`
	// Framework is the web or application framework ("django", "next",
	// "spring-boot", "rails", ...), empty when none is recognised.
	Framework string `json:"framework,omitempty"`
	// PackageManager installs the dependencies ("pip", "uv", "poetry",
	// "npm", "pnpm", "maven", "gradle", "bundler", "cargo", "composer", ...).
	PackageManager string `json:"packageManager,omitempty"`
	// Versions are the versions to pin, keyed by runtime or tool ("python",
	// "node", "go", "java", "ruby", "rust", "php", "dotnet", "dotnet-sdk",
	// "pnpm", "yarn", "bundler", "maven", "gradle").
	Versions map[string]Version `json:"versions,omitempty"`
	// Entrypoint is what runs the application.
	Entrypoint *Entrypoint `json:"entrypoint,omitempty"`
	// Port is the port the application listens on, 0 when unknown.
	Port int `json:"port,omitempty"`

	// Dockerfile is the Dockerfile's path as given, empty when there is none.
	Dockerfile string `json:"dockerfile,omitempty"`
	// Context is the build context folder, empty when there is none.
	Context string `json:"context,omitempty"`
	// Root is the application's folder inside the build context: "." for
	// the context itself, or the subfolder a monorepo Dockerfile copies the
	// application from.
	Root string `json:"root"`

	Python *PythonFacts `json:"python,omitempty"`
	Node   *NodeFacts   `json:"node,omitempty"`
	Go     *GoFacts     `json:"go,omitempty"`
	Java   *JavaFacts   `json:"java,omitempty"`
	Ruby   *RubyFacts   `json:"ruby,omitempty"`
	Rust   *RustFacts   `json:"rust,omitempty"`
	PHP    *PHPFacts    `json:"php,omitempty"`
	DotNet *DotNetFacts `json:"dotnet,omitempty"`
	Static *StaticFacts `json:"static,omitempty"`

	// Base describes the base image of each stage of the Dockerfile.
	Base []ImageFacts `json:"base,omitempty"`
	// Runtime models what the final stage does when the image runs: the
	// paths it writes, its home, ports, users and what needs root. Only
	// `harden detect` fills it in (see Runtime).
	Runtime *runmodel.Model `json:"runtime,omitempty"`
	// Also lists other ecosystems with a manifest in the project (a Django
	// app's package.json for its assets, a Go service's web frontend).
	Also []Ecosystem `json:"also,omitempty"`

	// Confidence is between 0 (nothing known) and 1; see confidence() for
	// how it is computed.
	Confidence float64 `json:"confidence"`
	// Conflicts are disagreements between the sources, each explained.
	Conflicts []string `json:"conflicts,omitempty"`
	// Evidence backs every conclusion above.
	Evidence []Evidence `json:"evidence"`
	// Notes are files harden could not use: unreadable, invalid, too big.
	Notes []Evidence `json:"notes,omitempty"`
}

// Version is a version to pin and where it comes from.
type Version struct {
	// Version is pinnable ("3.12", "20", "1.22.5"); for a range it is the
	// lowest version the range allows.
	Version string `json:"version"`
	// Constraint is the range as written when the source gives one
	// (">=3.10,<4", "^20.11"); empty for an exact pin.
	Constraint string `json:"constraint,omitempty"`
	File       string `json:"file"`
	Line       int    `json:"line,omitempty"`
}

// EntryKind says how to read an Entrypoint's Value.
type EntryKind string

const (
	// EntryCommand is a command line ("npm start", "bin/rails server").
	EntryCommand EntryKind = "command"
	// EntryModule is a Python WSGI/ASGI application or module ("app.main:app").
	EntryModule EntryKind = "module"
	// EntryScript is a file an interpreter runs ("app.py", "dist/main.js").
	EntryScript EntryKind = "script"
	// EntryPackage is a Go main package ("./cmd/api").
	EntryPackage EntryKind = "package"
	// EntryJar is a runnable Java archive, relative to the application root.
	EntryJar EntryKind = "jar"
	// EntryWar is a web archive an application server (Tomcat, Jetty)
	// deploys, relative to the application root.
	EntryWar EntryKind = "war"
	// EntryBinary is a compiled program's name or path.
	EntryBinary EntryKind = "binary"
	// EntryAssembly is a .NET assembly ("Api.dll").
	EntryAssembly EntryKind = "assembly"
	// EntryDirectory is a folder of files a web server publishes: a static
	// site's document root or build output, a PHP app's public folder.
	EntryDirectory EntryKind = "directory"
)

// Entrypoint is what runs the application.
type Entrypoint struct {
	Kind  EntryKind `json:"kind"`
	Value string    `json:"value"`
	// Command is the exec-form command that starts it, when the Dockerfile
	// or a Procfile gives one.
	Command []string `json:"command,omitempty"`
}

// Evidence is one fact and where it was found. File is relative to the
// build context (or the Dockerfile's name); Line is 0 when the whole file
// is the evidence.
type Evidence struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Why  string `json:"why"`
}

// PythonFacts are the Python specifics.
type PythonFacts struct {
	// Manifest is pyproject.toml, Pipfile, setup.py or setup.cfg.
	Manifest     string   `json:"manifest,omitempty"`
	Requirements []string `json:"requirements,omitempty"`
	Lockfile     string   `json:"lockfile,omitempty"`
	BuildBackend string   `json:"buildBackend,omitempty"`
	// Venv is set when the Dockerfile installs into a virtual environment.
	Venv bool `json:"venv"`
	// Server is the production server: gunicorn, uvicorn, hypercorn,
	// daphne, waitress or granian.
	Server string `json:"server,omitempty"`
	// Interface is "wsgi" or "asgi".
	Interface string `json:"interface,omitempty"`
	// App is the WSGI/ASGI application as a server wants it ("proj.wsgi:application").
	App string `json:"app,omitempty"`
	// Settings is Django's settings module.
	Settings string `json:"settings,omitempty"`
}

// NodeFacts are the Node.js specifics.
type NodeFacts struct {
	Lockfile string `json:"lockfile,omitempty"`
	// LockfileVersion is package-lock.json's lockfileVersion (0 for other
	// lockfiles or when it does not say): npm 6 reads 1 and 2, not 3.
	LockfileVersion int `json:"lockfileVersion,omitempty"`
	// Build and Start are the package.json scripts that build and start
	// the application.
	Build string `json:"build,omitempty"`
	Start string `json:"start,omitempty"`
	Main  string `json:"main,omitempty"`
	// Static is set for a site that builds to static files and runs no
	// server of its own; OutputDir is where the build writes them.
	Static     bool     `json:"static"`
	OutputDir  string   `json:"outputDir,omitempty"`
	TypeScript bool     `json:"typescript"`
	Workspaces []string `json:"workspaces,omitempty"`
}

// GoFacts are the Go specifics.
type GoFacts struct {
	Module    string `json:"module,omitempty"`
	GoVersion string `json:"go,omitempty"`
	Toolchain string `json:"toolchain,omitempty"`
	// MainPackages are the module's commands, as `go build` paths ("./cmd/api").
	MainPackages []string `json:"mainPackages,omitempty"`
	// Binary is the name `go build` gives the entry package.
	Binary string `json:"binary,omitempty"`
	// CGO is set when the entry package, or a package of the module it
	// imports, has import "C", or go.mod requires a module that needs cgo:
	// the binary then needs libc (no static distroless, no scratch).
	CGO       bool `json:"cgo"`
	Vendor    bool `json:"vendor"`
	Workspace bool `json:"workspace"`
}

// JavaFacts are the JVM specifics.
type JavaFacts struct {
	BuildTool string `json:"buildTool"` // maven or gradle
	// Wrapper is set when the project ships mvnw or gradlew.
	Wrapper           bool   `json:"wrapper"`
	SpringBoot        bool   `json:"springBoot"`
	SpringBootVersion string `json:"springBootVersion,omitempty"`
	// Release is the Java release the build compiles for.
	Release string `json:"release,omitempty"`
	// Artifact is the file the build produces, relative to Root; it may be
	// a glob ("target/*.jar") when the name depends on build properties.
	Artifact  string   `json:"artifact,omitempty"`
	Packaging string   `json:"packaging,omitempty"`
	Modules   []string `json:"modules,omitempty"`
	Kotlin    bool     `json:"kotlin"`
}

// RubyFacts are the Ruby specifics.
type RubyFacts struct {
	Lockfile string `json:"lockfile,omitempty"`
	// Server is the application server gem: puma, unicorn, passenger,
	// falcon or thin.
	Server string `json:"server,omitempty"`
	// Rack is set when config.ru makes the app a Rack application.
	Rack bool `json:"rack"`
}

// RustFacts are the Rust specifics.
type RustFacts struct {
	Package   string   `json:"package,omitempty"`
	Bins      []string `json:"bins,omitempty"`
	Workspace bool     `json:"workspace"`
	Members   []string `json:"members,omitempty"`
	Edition   string   `json:"edition,omitempty"`
	Lockfile  bool     `json:"lockfile"`
}

// PHPFacts are the PHP specifics.
type PHPFacts struct {
	Lockfile string `json:"lockfile,omitempty"`
	// Server is how PHP is served: apache (mod_php), fpm, builtin (php -S)
	// or frankenphp.
	Server string `json:"server,omitempty"`
	// DocumentRoot is the public folder, relative to Root.
	DocumentRoot string `json:"documentRoot,omitempty"`
	// Extensions are the ext-* requirements of composer.json.
	Extensions []string `json:"extensions,omitempty"`
}

// DotNetFacts are the .NET specifics.
type DotNetFacts struct {
	Project         string   `json:"project,omitempty"`
	Solution        string   `json:"solution,omitempty"`
	SDK             string   `json:"sdk,omitempty"`
	TargetFramework string   `json:"targetFramework,omitempty"`
	AssemblyName    string   `json:"assemblyName,omitempty"`
	OtherProjects   []string `json:"otherProjects,omitempty"`
}

// StaticFacts are the specifics of a plain static site.
type StaticFacts struct {
	// Root is the folder holding index.html, relative to the application root.
	Root string `json:"root"`
	// Server is the web server the Dockerfile uses (nginx, httpd, caddy).
	Server string `json:"server,omitempty"`
	// Generator is the static site generator (hugo, jekyll) when there is one.
	Generator string `json:"generator,omitempty"`
}

// Ecosystems names the app's ecosystem and the others with a manifest in
// the project, as the ignore planner takes them; nil when detection knows
// nothing, so that the planner falls back to its own marker files.
func (r *Result) Ecosystems() []string {
	if r == nil || r.Ecosystem == Unknown {
		return nil
	}
	out := []string{string(r.Ecosystem)}
	for _, e := range r.Also {
		out = append(out, string(e))
	}
	return out
}

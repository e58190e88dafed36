package templates

import "github.com/harden-dev/harden/detect"

// The versions harden pins when the project does not say. They are current
// releases with long support: a new service should start on a runtime that
// will get security fixes for years. harden never writes "latest"; a project
// that pins its runtime (.python-version, .nvmrc, go.mod, pom.xml, ...)
// always wins, and --version overrides both.
//
// Update them together with the golden renders (go test ./templates -update)
// and the CHANGELOG, since a default change changes every generated file.

// runtimeDefault is one ecosystem's default runtime version and where a
// project pins its own.
type runtimeDefault struct {
	name    string // as people call the runtime
	version string
	pinIn   string // where to pin a version instead
}

var runtimeDefaults = map[detect.Ecosystem]runtimeDefault{
	// Python 3.13: in bugfix support, with wheels for the common C extensions.
	detect.Python: {"Python", "3.13", ".python-version or requires-python in pyproject.toml"},
	// Node.js 24: the active LTS line.
	detect.Node: {"Node.js", "24", ".nvmrc or engines.node in package.json"},
	// Go 1.26: the newest release; Go supports the last two.
	detect.Go: {"Go", "1.26", "go.mod's go or toolchain line"},
	// Java 21: an LTS release every framework in use supports.
	detect.Java: {"Java", "21", "maven.compiler.release in pom.xml or the toolchain in build.gradle"},
	// Ruby 3.4: the newest stable series.
	detect.Ruby: {"Ruby", "3.4", ".ruby-version"},
	// Rust 1.88: a stable release with edition 2024 support.
	detect.Rust: {"Rust", "1.88", "rust-toolchain.toml"},
	// PHP 8.4: in active support.
	detect.PHP: {"PHP", "8.4", "require.php in composer.json"},
	// .NET 10: the current LTS release.
	detect.DotNet: {".NET", "10.0", "TargetFramework in the project file"},
	// Static sites run on transform.DefaultStaticServer, whose tag pins nginx.
	detect.Static: {"nginx", "", ""},
}

// toolDefaults pin the build tools templates install or build on.
var toolDefaults = map[string]string{
	"maven":    "3.9",   // maven:<v>-eclipse-temurin-<java>
	"gradle":   "8.14",  // gradle:<v>-jdk<java>
	"poetry":   "2.1.3", // pip install poetry==<v>
	"uv":       "0.9",   // ghcr.io/astral-sh/uv:<v>, which tracks the newest patch
	"composer": "2.8",   // composer:<v>
}

package templates

import (
	"sync"

	"github.com/harden-dev/harden/detect"
)

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

var runtimeDefaults = sync.OnceValue(func() map[detect.Ecosystem]runtimeDefault {
	return map[detect.Ecosystem]runtimeDefault{
		// Python 3.14: the newest series with wheels for the common C extensions.
		detect.Python: {"Python", "3.14", ".python-version or requires-python in pyproject.toml"},
		// Node.js 26: the active LTS line (it no longer bundles corepack, which
		// the templates install for yarn and pnpm).
		detect.Node: {"Node.js", "26", ".nvmrc or engines.node in package.json"},
		// Go 1.26: a supported release (Go supports the newest two).
		detect.Go: {"Go", "1.26", "go.mod's go or toolchain line"},
		// Java 25: the newest LTS release.
		detect.Java: {"Java", "25", "maven.compiler.release in pom.xml or the toolchain in build.gradle"},
		// Ruby 4.0: the newest stable series.
		detect.Ruby: {"Ruby", "4.0", ".ruby-version"},
		// Rust 1.99: a recent stable release (editions keep old code building).
		detect.Rust: {"Rust", "1.99", "rust-toolchain.toml"},
		// PHP 8.5: in active support, with OPcache built in.
		detect.PHP: {"PHP", "8.5", "require.php in composer.json"},
		// .NET 10: the current LTS release.
		detect.DotNet: {".NET", "10.0", "TargetFramework in the project file"},
		// Static sites run on transform.DefaultStaticServer, whose tag pins nginx.
		detect.Static: {"nginx", "", ""},
	}
})

// toolDefaults pin the build tools templates install or build on.
var toolDefaults = map[string]string{
	"maven":    "3.9",    // maven:<v>-eclipse-temurin-<java>
	"gradle":   "9.5",    // gradle:<v>-jdk<java>
	"poetry":   "2.3.3",  // pip install poetry==<v>
	"uv":       "0.12.1", // ghcr.io/astral-sh/uv:<v>
	"composer": "2.9",    // composer:<v>
	"corepack": "0.36.0", // npm install --global corepack@<v>, on Node.js 25 and later
}

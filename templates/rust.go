package templates

import (
	"fmt"

	"github.com/harden-dev/harden/detect"
)

// Rust is what the Rust template needs.
type Rust struct {
	// Binary is the program cargo builds and the image runs.
	Binary string
	// Lockfile is set when Cargo.lock exists, so the build runs --locked.
	Lockfile bool
}

func fillRust(a *App, p *project) error {
	a.Variant = "rust"
	a.PackageManager = "cargo"
	facts := p.facts.Rust
	if facts == nil {
		facts = &detect.RustFacts{}
	}
	r := &Rust{Lockfile: facts.Lockfile || p.exists("Cargo.lock")}
	a.Rust = r
	r.Binary = p.entryValue(detect.EntryBinary)
	switch {
	case r.Binary != "":
	case len(facts.Bins) == 1:
		r.Binary = facts.Bins[0]
	case len(facts.Bins) > 1:
		r.Binary = facts.Bins[0]
		a.note("the package has %d binaries: the image runs %s; pass --entrypoint to run another", len(facts.Bins), r.Binary)
	case facts.Package != "":
		r.Binary = facts.Package
	default:
		r.Binary = a.Name
		a.note("harden could not read the package's name from Cargo.toml: the image runs %s; pass --entrypoint with the binary's name", r.Binary)
	}
	if facts.Workspace && len(facts.Bins) == 0 {
		a.note("the project is a cargo workspace: pass --entrypoint with the binary to build")
	}
	if !r.Lockfile {
		a.note("there is no Cargo.lock: commit it so that builds use the versions you tested")
	}
	if !plainPath().MatchString(r.Binary) {
		return fmt.Errorf("binary name %q has characters harden does not write into a Dockerfile", r.Binary)
	}
	if a.Port == 0 {
		a.Port = 8080
	}
	a.Command = []string{"/app/" + r.Binary}
	return nil
}

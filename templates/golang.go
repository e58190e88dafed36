package templates

import (
	"fmt"
	"path"
	"strings"

	"github.com/harden-dev/harden/detect"
)

// Go is what the Go template needs.
type Go struct {
	// Package is the main package to build ("." or "./cmd/api").
	Package string
	// Binary is the built program's name.
	Binary string
	// Sum is set when go.sum exists (a module without dependencies has none).
	Sum bool
	// Vendor is set when the module vendors its dependencies: nothing is
	// downloaded.
	Vendor bool
	// CGO is set when the program uses cgo: it then links glibc and runs
	// on distroless cc instead of distroless static.
	CGO bool
	// Assets are folders the program reads at run time that it does not
	// embed (templates, static files, migrations); the runtime receives
	// them next to the binary.
	Assets []string
}

// goAssetDirs are folders Go services commonly read from disk.
var goAssetDirs = []string{"templates", "static", "public", "assets", "web", "views", "config", "configs", "migrations", "locales", "i18n"}

func fillGo(a *App, p *project) error {
	a.Variant = "go"
	a.PackageManager = "go"
	facts := p.facts.Go
	if facts == nil {
		facts = &detect.GoFacts{}
	}
	g := &Go{Sum: p.exists("go.sum"), Vendor: facts.Vendor || p.exists("vendor/modules.txt"), CGO: facts.CGO}
	a.Go = g
	if facts.Workspace {
		a.note("the module is part of a go.work workspace: the builder copies this module only")
	}
	pkg := p.entryValue(detect.EntryPackage)
	if pkg == "" {
		pkg = "."
		if len(facts.MainPackages) > 0 {
			pkg = facts.MainPackages[0]
		}
	}
	clean, ok := cleanRel(pkg)
	if !ok {
		return fmt.Errorf("the Go package %s is outside the app's folder", pkg)
	}
	if clean != "." {
		clean = "./" + clean
	}
	g.Package = clean
	switch {
	case p.entry != "" && clean != ".":
		g.Binary = path.Base(clean)
	case facts.Binary != "":
		g.Binary = facts.Binary
	case clean != ".":
		g.Binary = path.Base(clean)
	case facts.Module != "":
		g.Binary = path.Base(facts.Module)
	default:
		g.Binary = a.Name
	}
	if len(facts.MainPackages) > 1 && p.entry == "" {
		a.note("the module has %d commands (%s): the image runs %s; pass --entrypoint to build another", len(facts.MainPackages), strings.Join(facts.MainPackages, ", "), g.Package)
	}
	a.Manifests = []string{"go.mod"}
	if g.Sum {
		a.Manifests = append(a.Manifests, "go.sum")
	}
	for _, dir := range goAssetDirs {
		if p.exists(dir) && !embedsDir(p, dir) {
			g.Assets = append(g.Assets, dir)
		}
	}
	if a.Port == 0 {
		a.Port = 8080
	}
	a.Command = []string{"/app/" + g.Binary}
	return nil
}

// embedsDir reports whether a Go file at the top of the module or one
// folder down embeds dir, which then ships inside the binary.
func embedsDir(p *project, dir string) bool {
	for _, pattern := range []string{"*.go", "*/*.go", "*/*/*.go"} {
		files, _ := p.ctx.Glob(pattern)
		for _, f := range files {
			src := string(p.read(f))
			for _, line := range strings.Split(src, "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:embed"); ok && strings.Contains(rest, dir) {
					return true
				}
			}
		}
	}
	return false
}

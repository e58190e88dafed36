package templates

import (
	"fmt"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/transform"
)

// Static is what the static site template needs.
type Static struct {
	// Root is the folder that holds index.html, relative to the app.
	Root string
	// Server is the nginx image that serves the files as an unprivileged
	// user on port 8080.
	Server string
}

// staticPort is where nginxinc/nginx-unprivileged listens.
const staticPort = 8080

func fillStatic(a *App, p *project) error {
	a.Variant = "static"
	facts := p.facts.Static
	if facts == nil {
		facts = &detect.StaticFacts{Root: "."}
	}
	if facts.Generator != "" {
		return fmt.Errorf("the site is built with %s: harden's static template serves finished files; build the site into a folder and pass --entrypoint with it", facts.Generator)
	}
	s := &Static{Server: transform.DefaultStaticServer}
	if a.Version != "" {
		// --version picks the nginx-unprivileged tag.
		s.Server = "nginxinc/nginx-unprivileged:" + a.Version
	}
	a.Static = s
	root := p.entryValue(detect.EntryDirectory)
	if root == "" {
		root = facts.Root
	}
	clean, ok := cleanRel(firstOf(root, "."))
	if !ok {
		return fmt.Errorf("the site folder %s is outside the app's folder", root)
	}
	s.Root = clean
	if a.Port != 0 && a.Port != staticPort {
		a.note("the site is served by nginx on port %d, not %d", staticPort, a.Port)
	}
	a.Port = staticPort
	return nil
}

package detect

import (
	"fmt"
	"path"
	"strings"
)

// siteFolders are where plain static sites keep index.html, in the order
// they are looked at.
var siteFolders = []string{".", "public", "site", "www", "html", "htdocs", "static", "dist", "build", "_site", "out"}

// languageManifests are the files that make a folder something other
// than a plain static site.
var languageManifests = []string{"package.json", "pyproject.toml", "requirements.txt", "Pipfile", "setup.py", "go.mod", "pom.xml", "build.gradle", "build.gradle.kts", "Gemfile", "Cargo.toml", "composer.json", "index.php"}

func detectStatic(a *app, dir string) *hit {
	s := a.scan
	for _, m := range languageManifests {
		if s.exists(join(dir, m)) {
			return nil
		}
	}
	h := &hit{}
	st := &StaticFacts{}
	for _, name := range []string{"hugo.toml", "hugo.yaml", "config.toml"} {
		p := join(dir, name)
		if s.exists(p) && (name != "config.toml" || s.exists(join(dir, "content")) || s.isDir(join(dir, "content"))) {
			st.Generator, st.Root = "hugo", "public"
			h.framework = "hugo"
			h.manifest = true
			h.add(4, p, 0, "a Hugo site; hugo builds it into public/")
			break
		}
	}
	if st.Generator == "" {
		for _, f := range siteFolders {
			p := join(join(dir, f), "index.html")
			if s.exists(p) {
				st.Root = f
				h.manifest = true
				h.add(3, p, 0, "index.html with no language manifest: a static site")
				break
			}
		}
	}
	if !h.manifest {
		return nil
	}
	h.entry = &Entrypoint{Kind: EntryDirectory, Value: st.Root}
	h.facts = func(r *Result) { r.Static = st }
	return h
}

// refineStatic adds the web server the Dockerfile uses and what it
// publishes.
func refineStatic(a *app, r *Result) {
	if r.Static == nil {
		r.Static = &StaticFacts{Root: "."}
	}
	d := a.df
	if d.final.Ecosystem == Static {
		r.Static.Server = d.final.Runtime
		if r.Port == 0 {
			r.Port = d.final.Port
		}
	}
	for _, sc := range d.servedFrom {
		if sc.fromStage != nil {
			continue
		}
		root := strings.TrimSuffix(path.Clean(strings.TrimPrefix(sc.source, "./")), "/")
		if root == "" {
			root = "."
		}
		if r.Static.Root != root && r.Static.Root != "." && root != "." {
			r.Conflicts = append(r.Conflicts, fmt.Sprintf("%s:%d publishes %s but index.html is in %s/", sc.why.File, sc.why.Line, sc.source, r.Static.Root))
		}
		r.Static.Root = root
		r.Entrypoint = &Entrypoint{Kind: EntryDirectory, Value: root}
		r.Evidence = append(r.Evidence, sc.why)
		break
	}
}

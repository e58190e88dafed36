package runmodel

import (
	"io/fs"
	"path"
	"strings"

	"github.com/harden-dev/harden/buildctx"
)

// listing is what the model reads from a build context, found by one walk
// per context and run: the engine models the running stage on every pass,
// and detect once more, so the walk is shared through buildctx.Memo.
type listing struct {
	// sources are the app's code files (Python, JavaScript, TypeScript,
	// Ruby, PHP, Go), tests and dependencies left out.
	sources []string
	// configs are server configuration files (.conf, .ini, uWSGI files,
	// gunicorn's Python config).
	configs []string
	// manifests are YAML files that may be Kubernetes manifests.
	manifests []string
}

// maxListed bounds each list, so that a huge context costs a bounded walk.
const maxListed = 400

// walkSkipped are folders nothing of the model is read from.
var walkSkipped = map[string]bool{"node_modules": true, ".git": true, "vendor": true, "venv": true, ".venv": true,
	"site-packages": true, "__pycache__": true, "bower_components": true, "testdata": true, "coverage": true}

func contextListing(ctx *buildctx.Context) *listing {
	return ctx.Memo("runmodel.listing", func() any {
		l := &listing{}
		_ = fs.WalkDir(ctx.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != "." && (walkSkipped[d.Name()] || ctx.Ignored(p)) {
					return fs.SkipDir
				}
				return nil
			}
			if len(l.sources) >= maxListed && len(l.configs) >= maxListed && len(l.manifests) >= maxListed {
				return fs.SkipAll
			}
			if ctx.Ignored(p) {
				return nil
			}
			name := path.Base(p)
			ext := path.Ext(p)
			switch {
			case writesFor(p) != nil && isAppSource(p) && len(l.sources) < maxListed:
				l.sources = append(l.sources, p)
			}
			switch {
			case (ext == ".conf" || ext == ".ini" || strings.Contains(name, "uwsgi") || ext == ".py" && strings.HasPrefix(name, "gunicorn")) && len(l.configs) < maxListed:
				l.configs = append(l.configs, p)
			case (ext == ".yaml" || ext == ".yml") && len(l.manifests) < maxListed:
				l.manifests = append(l.manifests, p)
			}
			return nil
		})
		return l
	}).(*listing)
}

// isAppSource leaves out tests, fixtures and the folders of other code.
func isAppSource(p string) bool {
	for _, part := range strings.Split(path.Dir(p), "/") {
		if skippedSourceDirs[part] || strings.HasPrefix(part, ".") && part != "." {
			return false
		}
	}
	base := path.Base(p)
	return !strings.HasSuffix(p, "_test.go") && !strings.Contains(base, ".test.") && !strings.Contains(base, ".spec.") &&
		!strings.HasSuffix(p, ".d.ts") && !strings.HasPrefix(base, "test_")
}

// readMemo reads a context file once per context and run.
func readMemo(ctx *buildctx.Context, p string) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	r := ctx.Memo("runmodel.read:"+p, func() any {
		data, err := ctx.ReadHead(p, maxFileBytes)
		return result{data, err}
	}).(result)
	return r.data, r.err
}

package transform

import (
	"path"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// PipNoCacheDir adds --no-cache-dir to pip install.
var PipNoCacheDir = &Rule{
	ID:       "HD101",
	Name:     "pip-no-cache-dir",
	Title:    "pip install keeps its download cache in the image",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3042"},
	Doc: Doc{
		Why: "pip stores every wheel it downloads under ~/.cache/pip. In a RUN step that cache " +
			"becomes part of the layer, often tens of megabytes that the running app never reads. " +
			"--no-cache-dir turns it off. ENV PIP_NO_CACHE_DIR=1 or a BuildKit cache mount on " +
			"pip's cache folder are accepted alternatives.",
		Bad:  "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
		Good: "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
	},
	Check: checkPipNoCacheDir,
}

func checkPipNoCacheDir(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Ins.MountsCacheWhere(isPipCacheDir) {
			return
		}
		for _, c := range s.Commands {
			at, ok := pipInstall(c)
			if !ok || c.HasArg("--no-cache-dir", "--cache-dir") || envSet(p.File, s.Ins, c, "PIP_NO_CACHE_DIR") {
				continue
			}
			p.ReportAt(c, "pip install without --no-cache-dir keeps pip's download cache in the layer", &SuggestedFix{
				Description: "added --no-cache-dir to pip install so pip's download cache stays out of the image",
				Edits:       []dockerfile.Edit{c.InsertAfter(at, "--no-cache-dir")},
			})
		}
	})
}

// isPipCacheDir accepts cache mounts on pip's cache folder or the .cache
// folder above it, for root or any other user.
func isPipCacheDir(target string) bool {
	target = path.Clean(target)
	return path.Base(target) == ".cache" || strings.HasSuffix(target, "/.cache/pip")
}

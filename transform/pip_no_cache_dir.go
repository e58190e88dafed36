package transform

import (
	"path"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/toolversions"
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
			"pip's cache folder are accepted alternatives. The flag and the cache came in pip 6: " +
			"on a base whose pip is older (Ubuntu 14.04's python-pip 1.5.4, Debian 8's 1.5.6) harden " +
			"reports instead of adding a flag that pip would reject. The pip version comes from " +
			"the base image's tag (the official python images pin pip 6.1.1 or newer since 2015) " +
			"or from an earlier step that installs pip; an unknown version keeps the flag.",
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
			if pip, ok := toolAt(p.File, c, toolversions.Pip); ok && pip.AtLeast("6") == toolversions.No {
				p.ReportAt(c, "this pip is older than 6 ("+pip.Source+"), and --no-cache-dir and the download cache it turns off came in pip 6: "+
					"harden leaves the install unchanged (if the image upgrades pip first, add --no-cache-dir to the installs after the upgrade)", nil)
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

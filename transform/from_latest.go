package transform

import "strings"

// FromLatest flags base images without a tag or with latest.
var FromLatest = &Rule{
	ID:       "HD301",
	Name:     "from-latest",
	Title:    "base image not pinned to a version",
	Severity: Warning,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3006", "DL3007"},
	Doc: Doc{
		Why: "An image without a tag means :latest, which moves. The same Dockerfile then " +
			"builds on a different OS or language version from one day to the next, and a " +
			"rebuild to patch a CVE can break the app. Pin the version the app is tested with " +
			"(for example from .python-version, package.json engines or go.mod); pin a digest " +
			"as well for fully reproducible builds.",
		Bad:  "FROM python\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkFromLatest,
}

func checkFromLatest(p *Pass) {
	for _, st := range p.File.Stages {
		ref, expanded, isImage := st.Image()
		if !isImage || !expanded || ref == "" {
			continue
		}
		_, tag, digest := SplitImage(ref)
		switch {
		case digest != "":
		case tag == "":
			p.Report(st.From, "base image "+ref+" has no tag, so it means :latest and changes under you; pin a version", nil)
		case tag == "latest":
			p.Report(st.From, "base image "+ref+" uses :latest, which changes under you; pin a version", nil)
		}
	}
}

// SplitImage splits an image reference into name, tag and digest. A port
// in the registry host ("localhost:5000/app") is not a tag.
func SplitImage(ref string) (name, tag, digest string) {
	name = ref
	if i := strings.Index(name, "@"); i >= 0 {
		name, digest = name[:i], name[i+1:]
	}
	if i := strings.LastIndex(name, ":"); i >= 0 && !strings.Contains(name[i:], "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

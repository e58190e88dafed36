package transform

import "github.com/harden-dev/harden/baseimage"

// FromLatest flags base images without a tag or with latest.
var FromLatest = &Rule{
	ID:               "HD301",
	Name:             "from-latest",
	Title:            "base image not pinned to a version",
	Severity:         Warning,
	SecuritySeverity: 3.0,
	Safety:           ReportOnly,
	Hadolint:         []string{"DL3006", "DL3007"},
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
		r := baseimage.Parse(ref)
		switch tag := r.Tag; {
		case r.Digest != "":
		case tag == "":
			p.Report(st.From, "base image "+ref+" has no tag, so it means :latest and changes under you; pin a version", nil)
		case tag == "latest":
			p.Report(st.From, "base image "+ref+" uses :latest, which changes under you; pin a version", nil)
		}
	}
}

package transform

import (
	"fmt"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/dockerfile"
)

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
			"as well for fully reproducible builds. A stage that copies from a stage pinned by " +
			"digest but runs on an image pinned by tag only (as when harden splits a pinned " +
			"python:3.12@sha256:... into a builder and a python:3.12-slim runtime: the builder's " +
			"digest says nothing about the slim image) is reported with the commands that look " +
			"its digest up.",
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
		default:
			if from, pin := pinnedSource(p.File, st); from != nil {
				p.Report(st.From, fmt.Sprintf("base image %s is not pinned by digest, while the stage it copies from pins %s by digest (line %d); "+
					"pin it too: `docker buildx imagetools inspect %s` prints its digest (so does `crane digest %s`), then add @<digest> to the reference",
					ref, pin, from.Line, ref, ref), nil)
			}
		}
	}
}

// pinnedSource finds a stage that st copies from (COPY --from) whose image
// is pinned by digest, and returns that stage's FROM and its image without
// the digest.
func pinnedSource(f *dockerfile.File, st *dockerfile.Stage) (*dockerfile.Instruction, string) {
	for _, in := range st.Instructions[1:] {
		name, ok := in.Flag("from")
		if !ok || in.Keyword != "copy" && in.Keyword != "add" {
			continue
		}
		src := f.StageByName(name)
		if src == nil || src.Index >= st.Index {
			continue
		}
		for src.Parent() != nil {
			src = src.Parent()
		}
		ref, expanded, isImage := src.Image()
		if r := baseimage.Parse(ref); isImage && expanded && r.Digest != "" {
			r.Digest = ""
			return src.From, r.String()
		}
	}
	return nil, ""
}

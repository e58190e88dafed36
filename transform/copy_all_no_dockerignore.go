package transform

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/buildctx"
)

// CopyAllNoDockerignore notes COPY of the whole build context when no
// .dockerignore filters it.
var CopyAllNoDockerignore = &Rule{
	ID:       "HD417",
	Name:     "copy-all-no-dockerignore",
	Title:    "whole build context copied without a .dockerignore",
	Severity: Info,
	Safety:   ReportOnly,
	Doc: Doc{
		Why: "`COPY . .` copies everything the build context holds. Without a .dockerignore " +
			"that includes the .git folder, local .env files and keys, node_modules or virtual " +
			"environments built for another platform, and test output: a bigger image, " +
			"leaked secrets, and a cache that breaks on every commit. A .dockerignore that " +
			"excludes them (and never a file the Dockerfile names) fixes all three. The rule " +
			"needs the build context, so it is silent on standard input without --context.",
		Bad:  "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
		Good: "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt app.py ./\n",
	},
	Check: checkCopyAllNoDockerignore,
}

func checkCopyAllNoDockerignore(p *Pass) {
	if p.Context == nil || p.Context.IgnoreFile != "" {
		return
	}
	for _, ins := range p.File.Instructions {
		var sources []string
		switch cmd := ins.Command.(type) {
		case *instructions.CopyCommand:
			if cmd.From != "" {
				continue
			}
			sources = cmd.SourcePaths
		case *instructions.AddCommand:
			sources = cmd.SourcePaths
		}
		for _, src := range sources {
			if buildctx.Clean(src) == "." || src == "*" {
				p.Report(ins, strings.ToUpper(ins.Keyword)+" "+src+" copies the whole build context and there is no .dockerignore, so .git, .env files and local build output go into the image", nil)
				break
			}
		}
	}
}

package transform

import "github.com/harden-dev/harden/dockerfile"

// AptGetYes adds -y to apt-get install.
var AptGetYes = &Rule{
	ID:       "HD102",
	Name:     "apt-get-yes",
	Title:    "apt-get install without -y",
	Severity: Error,
	Safety:   Safe,
	Hadolint: []string{"DL3014"},
	Doc: Doc{
		Why: "A build has no one to answer apt-get's confirmation prompt. Without -y the " +
			"install aborts as soon as apt-get wants to ask, which depends on the package set " +
			"and can start failing long after the Dockerfile was written.",
		Bad:  "FROM debian:bookworm\nRUN apt-get update && apt-get install curl\n",
		Good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
	},
	Check: checkAptGetYes,
}

func checkAptGetYes(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		sub, at, ok := aptGet(c, false)
		if !ok || sub != "install" {
			return
		}
		if c.HasShortFlag('y') || c.HasArg("--yes", "--assume-yes", "-qq", "-q=2") {
			return
		}
		p.ReportAt(c, "apt-get install without -y stops the build at the first prompt", &SuggestedFix{
			Description: "added -y to apt-get install so it never waits for an answer",
			Edits:       []dockerfile.Edit{c.InsertAfter(at, "-y")},
		})
	})
}

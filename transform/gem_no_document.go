package transform

import "github.com/harden-dev/harden/dockerfile"

// GemNoDocument adds --no-document to gem install.
var GemNoDocument = &Rule{
	ID:       "HD112",
	Name:     "gem-no-document",
	Title:    "gem install generates documentation",
	Severity: Info,
	Safety:   Safe,
	Doc: Doc{
		Why: "gem install builds ri and RDoc documentation for every gem by default. Nobody " +
			"reads it inside a container, and it costs build time and image size.",
		Bad:  "FROM ruby:3.3-slim\nRUN gem install bundler\n",
		Good: "FROM ruby:3.3-slim\nRUN gem install --no-document bundler\n",
	},
	Check: checkGemNoDocument,
}

func checkGemNoDocument(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		if c.Name() != "gem" {
			return
		}
		sub, at, ok := subcommand(c)
		if !ok || sub != "install" && sub != "i" || c.HasArg("--no-document", "-N", "--no-rdoc", "--no-ri") {
			return
		}
		p.ReportAt(c, "gem install without --no-document builds documentation into the image", &SuggestedFix{
			Description: "added --no-document to gem install so no documentation is generated",
			Edits:       []dockerfile.Edit{c.InsertAfter(at, "--no-document")},
		})
	})
}

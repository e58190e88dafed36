package transform

import (
	"sync"

	"github.com/harden-dev/harden/dockerfile"
)

// AptGetOverApt replaces apt with apt-get in scripts.
var AptGetOverApt = &Rule{
	ID:       "HD106",
	Name:     "apt-get-over-apt",
	Title:    "apt is meant for people, apt-get for scripts",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3027"},
	Doc: Doc{
		Why: "apt's command-line interface is not stable between releases and warns that it " +
			"should not be used in scripts; its progress output also clutters build logs. " +
			"apt-get does the same work with a stable interface. Only subcommands that apt-get " +
			"has are rewritten (apt search and apt list are left alone).",
		Bad:  "FROM debian:bookworm\nRUN apt update && apt install -y curl\n",
		Good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
	},
	Check: checkAptGetOverApt,
}

// aptGetSubcommands are the apt subcommands that mean the same to apt-get.
var aptGetSubcommands = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"install": true, "remove": true, "purge": true, "update": true, "upgrade": true,
		"autoremove": true, "clean": true, "autoclean": true, "dist-upgrade": true, "build-dep": true, "source": true,
	}
})

func checkAptGetOverApt(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		if c.Name() != "apt" {
			return
		}
		sub, _, ok := aptGet(c, true)
		if !ok || !aptGetSubcommands()[sub] {
			return
		}
		p.ReportAt(c, "use apt-get instead of apt in a Dockerfile", &SuggestedFix{
			Description: "replaced apt with apt-get, whose interface is stable for scripts",
			Edits:       []dockerfile.Edit{c.ReplaceArg(0, "apt-get")},
		})
	})
}

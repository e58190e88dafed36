package transform

import "github.com/harden-dev/harden/dockerfile"

// AptNoInstallRecommends adds --no-install-recommends to apt-get install.
var AptNoInstallRecommends = &Rule{
	ID:       "HD103",
	Name:     "apt-no-install-recommends",
	Title:    "apt-get install pulls in recommended packages",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3015"},
	Doc: Doc{
		Why: "By default apt-get also installs every package the requested ones merely " +
			"recommend: documentation, extra tools, sometimes whole toolchains. They make the " +
			"image bigger and add code to patch, and the app does not need them. Packages the " +
			"app does need should be named explicitly.",
		Bad:  "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
		Good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	},
	Check: checkAptNoInstallRecommends,
}

func checkAptNoInstallRecommends(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		sub, at, ok := aptGet(c, false)
		if !ok || sub != "install" {
			return
		}
		if c.HasArg("--no-install-recommends") || c.HasArg("APT::Install-Recommends=false", "APT::Install-Recommends=0") {
			return
		}
		p.ReportAt(c, "apt-get install without --no-install-recommends installs packages nobody asked for", &SuggestedFix{
			Description: "added --no-install-recommends so only the named packages and their dependencies are installed",
			Edits:       []dockerfile.Edit{c.InsertAfter(afterFlags(c, at), "--no-install-recommends")},
		})
	})
}

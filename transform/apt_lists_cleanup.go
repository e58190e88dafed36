package transform

import "github.com/harden-dev/harden/dockerfile"

// AptListsCleanup removes apt's package lists in the RUN that installs.
var AptListsCleanup = &Rule{
	ID:       "HD104",
	Name:     "apt-lists-cleanup",
	Title:    "apt package lists left in the layer",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3009"},
	Doc: Doc{
		Why: "apt-get update downloads package lists into /var/lib/apt/lists, typically 20 to " +
			"50 MB. Deleting them in a later RUN does not help: the layer that installed still " +
			"holds them. They must be removed in the same RUN, after the install. A BuildKit " +
			"cache mount on /var/lib/apt is an accepted alternative.",
		Bad:  "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
		Good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
	},
	Check: checkAptListsCleanup,
}

const aptLists = "/var/lib/apt/lists"

func checkAptListsCleanup(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Ins.MountsCache(aptLists) {
			return
		}
		// The lists must go after the last install; a RUN that only runs
		// apt-get update is apt-update-merge's business.
		var lastInstall *dockerfile.Command
		cleaned := false
		for _, c := range s.Commands {
			if sub, _, ok := aptGet(c, true); ok && sub == "install" {
				lastInstall, cleaned = c, false
			}
			if removesPath(c, aptLists) {
				cleaned = true
			}
		}
		if lastInstall == nil || cleaned {
			return
		}
		msg := "apt package lists stay in this layer; remove them in the same RUN"
		edit, err := s.Append("rm -rf " + aptLists + "/*")
		if err != nil {
			p.ReportAt(lastInstall, msg+" (harden cannot append to this RUN: "+err.Error()+")", nil)
			return
		}
		p.ReportAt(lastInstall, msg, &SuggestedFix{
			Description: "removed /var/lib/apt/lists/* in the same RUN, so the package lists do not ship in the image",
			Edits:       []dockerfile.Edit{edit},
		})
	})
}

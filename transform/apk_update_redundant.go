package transform

import "github.com/harden-dev/harden/dockerfile"

// ApkUpdateRedundant drops apk update when every apk add uses --no-cache.
var ApkUpdateRedundant = &Rule{
	ID:       "HD108",
	Name:     "apk-update-redundant",
	Title:    "apk update before apk add --no-cache",
	Severity: Info,
	Safety:   Safe,
	Doc: Doc{
		Why: "apk add --no-cache fetches a fresh package index itself. A preceding apk update " +
			"only downloads the index a second time and, when it runs in its own RUN, stores " +
			"it in a layer for good.",
		Bad:  "FROM alpine:3.20\nRUN apk update && apk add --no-cache curl\n",
		Good: "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
	},
	Check: checkApkUpdateRedundant,
}

func checkApkUpdateRedundant(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		for i, c := range s.Commands {
			if sub, _, ok := apk(c); !ok || sub != "update" || c.Chain == nil || s.Form != dockerfile.ShellForm {
				continue
			}
			if !laterApkAddsAllNoCache(p, s, i) {
				continue
			}
			msg := "apk update is redundant: every apk add that follows uses --no-cache"
			edits, err := c.Remove()
			if err != nil {
				p.ReportAt(c, msg, nil)
				continue
			}
			p.ReportAt(c, msg, &SuggestedFix{
				Description: "removed apk update, which apk add --no-cache makes redundant",
				Edits:       edits,
			})
		}
	})
}

// laterApkAddsAllNoCache looks at the apk add commands after command i of
// s, in the same RUN and, when the update is alone in its RUN, in the later
// RUNs of the stage. There must be at least one, all with --no-cache.
func laterApkAddsAllNoCache(p *Pass, s *dockerfile.Script, i int) bool {
	adds, ok := 0, true
	check := func(cmds []*dockerfile.Command) {
		for _, c := range cmds {
			if sub, _, isApk := apk(c); isApk && sub == "add" {
				adds++
				ok = ok && c.HasArg("--no-cache")
			}
		}
	}
	check(s.Commands[i+1:])
	if len(s.Commands) == 1 {
		for _, later := range p.File.Stages[s.Ins.Stage].Instructions {
			if later.Index <= s.Ins.Index || later.Keyword != "run" {
				continue
			}
			ls, err := later.Script()
			if err != nil {
				return false
			}
			check(ls.Commands)
		}
	}
	return adds > 0 && ok
}

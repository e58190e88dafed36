package transform

import (
	"fmt"

	"github.com/harden-dev/harden/dockerfile"
)

// ApkUpdateRedundant drops apk update when every apk command after it
// fetches its own index.
var ApkUpdateRedundant = &Rule{
	ID:       "HD108",
	Name:     "apk-update-redundant",
	Title:    "apk update before apk add --no-cache",
	Severity: Info,
	Safety:   Safe,
	Doc: Doc{
		Why: "apk add --no-cache fetches a fresh package index itself. A preceding apk update " +
			"only downloads the index a second time and, when it runs in its own RUN, stores " +
			"it in a layer for good. harden removes apk update only when every later apk " +
			"command that reads the index (add, upgrade, fix, search, info, ...) in the stage " +
			"and in the stages built on it fetches its own with --no-cache: an apk upgrade " +
			"without it upgrades nothing unless apk update ran first. The command goes with " +
			"its && or ; and its continuation, and comment lines stay.",
		Bad:  "FROM alpine:3.20\nRUN apk update \\\n    && apk add --no-cache curl\n",
		Good: "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
	},
	Check: checkApkUpdateRedundant,
}

// apkIndexReaders are the apk applets that read the repository indexes apk
// update downloads. Without --no-cache (or --update-cache) they use the
// copy under /var/cache/apk; in an image that never ran apk update there is
// none, and apk upgrade or apk search quietly find nothing.
var apkIndexReaders = map[string]bool{
	"add": true, "upgrade": true, "fix": true, "search": true, "info": true, "fetch": true,
	"policy": true, "version": true, "list": true, "dot": true, "cache": true,
}

func checkApkUpdateRedundant(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Form != dockerfile.ShellForm && s.Form != dockerfile.HeredocScript {
			return
		}
		for i, c := range s.Commands {
			if sub, _, ok := apk(c); !ok || sub != "update" || c.Chain == nil {
				continue
			}
			use := apkIndexUseAfter(p, s, i)
			switch {
			case use.unknown:
				continue
			case use.needs != nil:
				if !use.cleaned {
					needs := use.needs
					p.ReportAt(c, fmt.Sprintf("apk update is needed by `%s` (line %d), and leaves the package index in the layer; "+
						"with --no-cache that command fetches the index itself, and apk update can go", needs.Text(), needs.Line()), nil)
				}
				continue
			case use.adds == 0:
				continue
			}
			msg := "apk update is redundant: every apk command after it fetches a fresh index itself (--no-cache)"
			edits, err := c.Remove()
			if err != nil {
				p.ReportAt(c, msg+"; harden left it because "+err.Error(), nil)
				continue
			}
			p.ReportAt(c, msg, &SuggestedFix{
				Description: "removed apk update, which apk add --no-cache makes redundant",
				Edits:       edits,
			})
		}
	})
}

// apkIndexUse is what the commands after an apk update do with the index.
type apkIndexUse struct {
	adds    int                 // apk add commands, all with their own index
	needs   *dockerfile.Command // the first command that reads the stored index
	cleaned bool                // the index does not stay in the update's layer
	unknown bool                // a later RUN harden cannot read
}

// apkIndexUseAfter looks at the commands after command i of s: the rest of
// its RUN, the later RUNs of the stage and the RUNs of stages built on it,
// which inherit the index the update stored.
func apkIndexUseAfter(p *Pass, s *dockerfile.Script, i int) apkIndexUse {
	var use apkIndexUse
	look := func(cmds []*dockerfile.Command) {
		for _, c := range cmds {
			sub, _, ok := apk(c)
			if !ok || !apkIndexReaders[sub] {
				continue
			}
			if !c.HasArg("--no-cache", "--update-cache", "--update") && !c.HasShortFlag('U') {
				if use.needs == nil {
					use.needs = c
				}
				continue
			}
			if sub == "add" {
				use.adds++
			}
		}
	}
	look(s.Commands[i+1:])
	// With a cache mount the index lands in the mount, not in the layer.
	use.cleaned = s.Ins.MountsCache(apkCache) || s.Ins.MountsCache("/etc/apk/cache")
	for _, c := range s.Commands[i+1:] {
		if removesPath(c, apkCache) {
			use.cleaned = true
		}
	}
	f := p.File
	base := f.Stages[s.Ins.Stage]
	for _, st := range f.Stages[base.Index:] {
		if st != base && !builtOn(st, base) {
			continue
		}
		for _, later := range st.Instructions {
			if later.Keyword != "run" || st == base && later.Index <= s.Ins.Index {
				continue
			}
			ls, err := later.Script()
			if err != nil {
				use.unknown = true
				return use
			}
			look(ls.Commands)
		}
	}
	return use
}

// builtOn reports whether stage st builds on base, directly or through
// other stages.
func builtOn(st, base *dockerfile.Stage) bool {
	for x := st.Parent(); x != nil; x = x.Parent() {
		if x == base {
			return true
		}
	}
	return false
}

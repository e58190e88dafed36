package transform

import "github.com/harden-dev/harden/dockerfile"

// ApkNoCache adds --no-cache to apk add.
var ApkNoCache = &Rule{
	ID:       "HD107",
	Name:     "apk-no-cache",
	Title:    "apk add keeps its package index in the image",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3019"},
	Doc: Doc{
		Why: "Without --no-cache, apk keeps the downloaded package index under /var/cache/apk " +
			"in the layer. --no-cache fetches a fresh index for this command only and stores " +
			"nothing, which also makes a separate apk update unnecessary. A BuildKit cache mount " +
			"on /var/cache/apk is an accepted alternative.",
		Bad:  "FROM alpine:3.20\nRUN apk update && apk add curl\n",
		Good: "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
	},
	Check: checkApkNoCache,
}

const apkCache = "/var/cache/apk"

func checkApkNoCache(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Ins.MountsCache(apkCache) || s.Ins.MountsCache("/etc/apk/cache") {
			return
		}
		// An apk update that stays in the RUN (a later apk upgrade needs
		// its index) still stores an index: then --no-cache only keeps apk
		// add from storing one of its own, and the summary says so.
		updates := false
		for i, c := range s.Commands {
			if sub, _, ok := apk(c); ok && sub == "update" && indexReaderAfter(s.Commands[i+1:]) {
				updates = true
			}
		}
		for _, c := range s.Commands {
			if sub, at, ok := apk(c); ok && sub == "add" && !c.HasArg("--no-cache") {
				desc := "added --no-cache to apk add so the package index is not stored in the image"
				if updates {
					desc = "added --no-cache to apk add so it stores no index of its own (the apk update in the same RUN still stores one)"
				}
				p.ReportAt(c, "apk add without --no-cache keeps the package index in the layer", &SuggestedFix{
					Description: desc,
					Edits:       []dockerfile.Edit{c.InsertAfter(at, "--no-cache")},
				})
			}
		}
	})
}

// indexReaderAfter reports whether a command other than apk add reads the
// stored index without fetching its own (apk upgrade, fix, search, ...):
// apk-update-redundant then keeps the apk update before it.
func indexReaderAfter(cmds []*dockerfile.Command) bool {
	for _, c := range cmds {
		sub, _, ok := apk(c)
		if ok && sub != "add" && apkIndexReaders[sub] && !c.HasArg("--no-cache", "--update-cache", "--update") && !c.HasShortFlag('U') {
			return true
		}
	}
	return false
}

// apk finds `apk SUB`, returning the subcommand and its index.
func apk(c *dockerfile.Command) (string, int, bool) {
	if c.Name() != "apk" {
		return "", 0, false
	}
	return subcommand(c, "-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir", "--repositories-file", "-t", "--virtual")
}

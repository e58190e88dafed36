package transform

import (
	"bytes"

	"github.com/harden-dev/harden/dockerfile"
)

// YarnFrozenLockfile makes yarn install fail instead of changing yarn.lock.
var YarnFrozenLockfile = &Rule{
	ID:       "HD110",
	Name:     "yarn-frozen-lockfile",
	Title:    "yarn install may rewrite yarn.lock",
	Severity: Warning,
	Safety:   Safe,
	Doc: Doc{
		Why: "Plain yarn install updates yarn.lock when it disagrees with package.json, so the " +
			"image can contain versions nobody reviewed. Yarn 1 has --frozen-lockfile and Yarn 2+ " +
			"has --immutable to fail instead; harden picks the flag from the project's Yarn " +
			"version (.yarnrc.yml or the lockfile's format).",
		Bad:  "FROM node:20-slim\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install\n",
		Good: "FROM node:20-slim\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile\n",
	},
	Check: checkYarnFrozenLockfile,
}

func checkYarnFrozenLockfile(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		if c.Name() != "yarn" {
			return
		}
		sub, at, ok := subcommand(c)
		if ok && sub != "install" {
			return
		}
		if !ok {
			at = afterFlags(c, 0) // bare `yarn` installs
			if c.NArgs() > 1 && at == 0 {
				return
			}
		}
		if c.HasArg("--frozen-lockfile", "--immutable", "--pure-lockfile") {
			return
		}
		state, lock := lockfileFor(p, c.Script.Ins, "yarn.lock")
		flag := "--frozen-lockfile"
		if state == lockReady && yarnBerry(p, lock) {
			flag = "--immutable"
		}
		msg := "yarn install without " + flag + " may change yarn.lock during the build"
		if state != lockReady {
			p.ReportAt(c, msg+"; "+lockAdvice(state, "yarn.lock", "yarn install "+flag), nil)
			return
		}
		p.ReportAt(c, msg, &SuggestedFix{
			Description: "added " + flag + " so the build fails instead of installing versions yarn.lock does not pin",
			Edits:       []dockerfile.Edit{c.InsertAfter(at, flag)},
		})
	})
}

// yarnBerry reports whether the project uses Yarn 2 or later.
func yarnBerry(p *Pass, lock string) bool {
	if p.Context.Exists(".yarnrc.yml") {
		return true
	}
	head, err := p.Context.ReadHead(lock, 4096)
	return err == nil && bytes.Contains(head, []byte("__metadata:"))
}

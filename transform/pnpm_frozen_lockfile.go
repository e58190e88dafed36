package transform

import "github.com/harden-dev/harden/dockerfile"

// PnpmFrozenLockfile makes pnpm install fail instead of changing the lockfile.
var PnpmFrozenLockfile = &Rule{
	ID:       "HD111",
	Name:     "pnpm-frozen-lockfile",
	Title:    "pnpm install may rewrite pnpm-lock.yaml",
	Severity: Warning,
	Safety:   Safe,
	Doc: Doc{
		Why: "pnpm only refuses to update its lockfile by default when it detects a CI " +
			"environment, which a docker build is not. --frozen-lockfile makes the install use " +
			"exactly the versions in pnpm-lock.yaml, or fail.",
		Bad:  "FROM node:20-slim\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN pnpm install\n",
		Good: "FROM node:20-slim\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN pnpm install --frozen-lockfile\n",
	},
	Check: checkPnpmFrozenLockfile,
}

func checkPnpmFrozenLockfile(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		if c.Name() != "pnpm" {
			return
		}
		sub, at, ok := subcommand(c)
		if !ok || sub != "install" && sub != "i" || len(positionalArgs(c, at)) > 0 {
			return
		}
		if c.HasArg("--frozen-lockfile", "--no-frozen-lockfile") {
			return
		}
		msg := "pnpm install without --frozen-lockfile may change pnpm-lock.yaml during the build"
		state, _ := lockfileFor(p, c.Script.Ins, "pnpm-lock.yaml")
		if state != lockReady {
			p.ReportAt(c, msg+"; "+lockAdvice(state, "pnpm-lock.yaml", "pnpm install --frozen-lockfile"), nil)
			return
		}
		p.ReportAt(c, msg, &SuggestedFix{
			Description: "added --frozen-lockfile so pnpm installs exactly what pnpm-lock.yaml pins",
			Edits:       []dockerfile.Edit{c.InsertAfter(at, "--frozen-lockfile")},
		})
	})
}

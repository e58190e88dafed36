package transform

import "github.com/harden-dev/harden/dockerfile"

// NpmCi turns `npm install` into `npm ci` when the lockfile is there.
var NpmCi = &Rule{
	ID:       "HD109",
	Name:     "npm-ci",
	Title:    "npm install instead of npm ci",
	Severity: Warning,
	Safety:   Safe,
	Doc: Doc{
		Why: "npm install resolves versions again and may rewrite package-lock.json, so two " +
			"builds of the same commit can ship different dependencies. npm ci installs exactly " +
			"what the lockfile says, fails when it is out of date, and starts from a clean " +
			"node_modules. harden only rewrites when package-lock.json (or npm-shrinkwrap.json) " +
			"is in the build context and copied into the image before the install.",
		Bad:  "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\n",
		Good: "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n",
	},
	Check: checkNpmCi,
}

func checkNpmCi(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		if c.Name() != "npm" {
			return
		}
		sub, at, ok := subcommand(c)
		if !ok || sub != "install" && sub != "i" || len(positionalArgs(c, at)) > 0 {
			return
		}
		msg := "npm install can change dependency versions between builds"
		state, lock := lockfileFor(p, c.Script.Ins, "package-lock.json")
		if state != lockReady {
			if alt, shrink := lockfileFor(p, c.Script.Ins, "npm-shrinkwrap.json"); alt == lockReady {
				state, lock = alt, shrink
			}
		}
		if state != lockReady {
			p.ReportAt(c, msg+"; "+lockAdvice(state, "package-lock.json", "npm ci"), nil)
			return
		}
		p.ReportAt(c, msg, &SuggestedFix{
			Description: "replaced npm install with npm ci, which installs exactly what " + lock + " pins",
			Edits:       []dockerfile.Edit{c.ReplaceArg(at, "ci")},
		})
	})
}

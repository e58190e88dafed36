package transform

import (
	"fmt"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/toolversions"
)

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
			"is in the build context and copied into the image before the install, and only when " +
			"the base's npm can run it: npm ci came in npm 5.7 (node 8.12 and 10.3 images; node 9 " +
			"and older have none), and npm 6 (node 10 to 14 images, Ubuntu 20.04's npm) cannot read " +
			"a lockfileVersion 3 package-lock.json, which npm 9 and later write. In those cases it " +
			"reports instead. The npm version comes from the base image's tag or from an earlier " +
			"npm install -g npm@VERSION; an unknown version keeps the rewrite.",
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
		if why := npmCiUnsupported(p, c, lock); why != "" {
			p.ReportAt(c, msg+"; harden keeps npm install because "+why, nil)
			return
		}
		p.ReportAt(c, msg, &SuggestedFix{
			Description: "replaced npm install with npm ci, which installs exactly what " + lock + " pins",
			Edits:       []dockerfile.Edit{c.ReplaceArg(at, "ci")},
		})
	})
}

// npmCiUnsupported explains why the npm that runs c cannot run npm ci on
// lock, or returns "".
func npmCiUnsupported(p *Pass, c *dockerfile.Command, lock string) string {
	npm, ok := toolAt(p.File, c, toolversions.Npm)
	if !ok {
		return ""
	}
	if npm.AtLeast("5.7") == toolversions.No {
		return fmt.Sprintf("npm ci came in npm 5.7 and this npm is older (%s)", npm.Source)
	}
	if npm.AtLeast("7") != toolversions.No {
		return ""
	}
	head, err := p.Context.ReadHead(lock, 4096)
	if err != nil {
		return ""
	}
	if v := detect.NpmLockfileVersion(head); v >= 3 {
		return fmt.Sprintf("%s is lockfileVersion %d, which npm 6 and older cannot read (%s): upgrade npm in the image (npm install -g npm@7) or use a base whose npm is 7 or newer, then use npm ci", lock, v, npm.Source)
	}
	return ""
}

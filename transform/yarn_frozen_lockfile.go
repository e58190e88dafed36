package transform

import (
	"bytes"
	"regexp"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/toolversions"
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
			"version (.yarnrc.yml, the lockfile's format or package.json's packageManager). It " +
			"reports instead of editing when the image's yarn cannot take the flag: node 26 and " +
			"later images ship no yarn, and the yarn 1.x of older node images silently ignores --immutable " +
			"unless corepack or a yarnPath hands over to the project's Yarn.",
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
		if why := yarnCannotRun(p, c, flag); why != "" {
			p.ReportAt(c, msg+"; harden leaves it unchanged because "+why, nil)
			return
		}
		p.ReportAt(c, msg, &SuggestedFix{
			Description: "added " + flag + " so the build fails instead of installing versions yarn.lock does not pin",
			Edits:       []dockerfile.Edit{c.InsertAfter(at, flag)},
		})
	})
}

// yarnBerry reports whether the project uses Yarn 2 or later: a
// .yarnrc.yml, a lockfile in Yarn 2's format, or package.json's
// packageManager naming yarn 2 or later.
func yarnBerry(p *Pass, lock string) bool {
	if p.Context.Exists(".yarnrc.yml") {
		return true
	}
	head, err := p.Context.ReadHead(lock, 4096)
	if err == nil && bytes.Contains(head, []byte("__metadata:")) {
		return true
	}
	if pkg, err := p.Context.ReadHead("package.json", 1<<20); err == nil {
		if m := packageManagerYarn.FindSubmatch(pkg); m != nil && string(m[1]) != "1" {
			return true
		}
	}
	return false
}

var packageManagerYarn = regexp.MustCompile(`"packageManager"\s*:\s*"yarn@(\d+)`)

// yarnCannotRun explains why the yarn that runs c cannot take flag, or
// returns "": the node 26 and later images ship no yarn, and the yarn 1 of
// older node images ignores Yarn 2's --immutable (it accepts unknown
// options without a word) unless a yarnPath in .yarnrc.yml hands over to
// the project's own Yarn.
func yarnCannotRun(p *Pass, c *dockerfile.Command, flag string) string {
	yarn, ok := toolAt(p.File, c, toolversions.Yarn)
	if !ok {
		return ""
	}
	if yarn.Absent {
		return "the image ships no yarn (" + yarn.Source + "): run corepack enable (or npm install -g yarn) first, then yarn install " + flag
	}
	if flag == "--immutable" && yarn.AtLeast("2") == toolversions.No && !yarnPathSet(p) {
		return "the project uses Yarn 2 or later but the image's yarn is 1.x (" + yarn.Source + "), which silently ignores " +
			"--immutable and cannot read a Yarn 2 lockfile, so the flag would freeze nothing: run corepack enable first, then yarn install --immutable"
	}
	return ""
}

// yarnPathSet reports a yarnPath in .yarnrc.yml, which makes yarn 1 run the
// project's own Yarn release.
func yarnPathSet(p *Pass) bool {
	data, err := p.Context.ReadHead(".yarnrc.yml", 64<<10)
	return err == nil && bytes.Contains(data, []byte("yarnPath:"))
}

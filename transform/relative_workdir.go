package transform

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// RelativeWorkdir flags WORKDIR paths that depend on the WORKDIR before.
var RelativeWorkdir = &Rule{
	ID:       "HD414",
	Name:     "relative-workdir",
	Title:    "WORKDIR with a relative path",
	Severity: Warning,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3000"},
	Doc: Doc{
		Why: "A relative WORKDIR is resolved against the previous one, which may come from the " +
			"base image. When the base image changes its working directory (many official " +
			"images set one, others use /), the app moves with it, and COPY destinations and " +
			"CMD paths silently point elsewhere. An absolute path says where the app lives.",
		Bad:  "FROM node:22-slim\nWORKDIR app\nCOPY . .\n",
		Good: "FROM node:22-slim\nWORKDIR /app\nCOPY . .\n",
	},
	Check: checkRelativeWorkdir,
}

func checkRelativeWorkdir(p *Pass) {
	for _, ins := range p.File.Instructions {
		wd, ok := ins.Command.(*instructions.WorkdirCommand)
		if !ok || absoluteOrUnknown(wd.Path) {
			continue
		}
		// Named as BuildKit reads it: WORKDIR "app" is the folder app.
		dir, known := ins.WorkdirPath()
		if !known {
			dir = wd.Path // app/$NAME: shown as written
		}
		p.Report(ins, "WORKDIR "+dir+" is relative to the previous WORKDIR, which the base image may set; use an absolute path such as /"+strings.TrimPrefix(dir, "./"), nil)
	}
}

// absoluteOrUnknown reports whether a path is absolute (POSIX or Windows),
// or starts with a variable harden cannot resolve.
func absoluteOrUnknown(p string) bool {
	p = strings.Trim(p, `"'`)
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") || strings.HasPrefix(p, `\`) {
		return true
	}
	return len(p) >= 2 && p[1] == ':' // C:\app
}

package transform

import "github.com/harden-dev/harden/dockerfile"

// CdInRun notes RUN instructions that start by changing directory, which is
// WORKDIR's job.
var CdInRun = &Rule{
	ID:       "HD419",
	Name:     "cd-in-run",
	Title:    "RUN starts with cd instead of WORKDIR",
	Severity: Info,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3003"},
	Doc: Doc{
		Why: "A cd at the start of RUN only lasts for that RUN, so the next instruction is back " +
			"in the previous folder and the same cd gets repeated, or forgotten. WORKDIR sets " +
			"the folder for every later RUN, COPY, CMD and ENTRYPOINT, and creates it if " +
			"needed. A cd in the middle of a RUN, into a folder the same RUN just unpacked, is " +
			"fine and not reported.",
		Bad:  "FROM node:22-slim\nCOPY . /app\nRUN cd /app && npm ci\n",
		Good: "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
	},
	Check: checkCdInRun,
}

func checkCdInRun(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Form != dockerfile.ShellForm || s.AST == nil || len(s.AST.Stmts) == 0 {
			return
		}
		first := s.AST.Stmts[0].Pos()
		for _, c := range s.Commands {
			if c.Name() != "cd" || c.Chain == nil || c.ChainIndex != 0 || c.Stmt.Pos() != first {
				continue
			}
			if dir, lit := c.Arg(1); lit && dir != "" && dir != "-" {
				p.ReportAt(c, "RUN starts with cd "+dir+"; use WORKDIR "+dir+" so later instructions run there too", nil)
			}
			return
		}
	})
}

package transform

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/dockerfile"
)

// Pipefail flags RUN pipelines whose failures the shell ignores.
var Pipefail = &Rule{
	ID:       "HD413",
	Name:     "pipefail",
	Title:    "pipe in RUN without pipefail",
	Severity: Warning,
	Safety:   ReportOnly,
	Hadolint: []string{"DL4006"},
	Doc: Doc{
		Why: "A pipeline's exit status is that of its last command. In " +
			"`RUN curl -fsSL URL | tar -xz` a failed download still succeeds as long as tar " +
			"does, and the build carries on with a missing or partial file. `set -o pipefail` " +
			"makes the pipeline fail when any part fails. It needs a shell that has the option: " +
			"bash, or BusyBox sh on Alpine. On Debian and Ubuntu images, whose /bin/sh is dash, " +
			"set the shell once with `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`.",
		Bad: "FROM debian:bookworm-slim\nRUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt\n",
		Good: "FROM debian:bookworm-slim\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n" +
			"RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt\n",
	},
	Check: checkPipefail,
}

func checkPipefail(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Form == dockerfile.ExecForm || shellHasPipefail(p.File, s.Ins) {
			return
		}
		byStmt := commandsByStmt(s)
		var first *syntax.Stmt
		for _, stages := range pipelines(s) {
			if !cannotFail(stages[:len(stages)-1], byStmt) {
				first = stages[0]
				break
			}
		}
		if first == nil {
			return
		}
		for _, c := range s.Commands {
			if c.Name() == "set" && c.Call.Pos().Offset() < first.Pos().Offset() && setsPipefail(c) {
				return
			}
		}
		var at *dockerfile.Command
		for _, c := range s.Commands {
			if c.Stmt == first || at == nil && c.Piped {
				at = c
			}
		}
		if at == nil {
			p.Report(s.Ins, "RUN uses a pipe without set -o pipefail, so a failure before the last command is ignored", nil)
			return
		}
		p.ReportAt(at, "this pipe hides a failure of "+at.Name()+": the RUN succeeds when only the last command does; add set -o pipefail or SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]", nil)
	})
}

// cannotFail reports whether the stages are all commands whose failure
// pipefail would not catch anyway (echo, printf, yes), as in
// `echo "deb ..." | tee /etc/apt/sources.list.d/x.list`.
func cannotFail(stages []*syntax.Stmt, byStmt map[*syntax.Stmt]*dockerfile.Command) bool {
	for _, st := range stages {
		c := byStmt[st]
		if c == nil {
			return false
		}
		switch c.Name() {
		case "echo", "printf", "yes":
		default:
			return false
		}
	}
	return true
}

// setsPipefail recognises `set -o pipefail`, `set -euo pipefail` and the
// like.
func setsPipefail(c *dockerfile.Command) bool {
	args := literalArgs(c)
	for i, a := range args {
		if a == "pipefail" && i > 0 && strings.HasPrefix(args[i-1], "-") && strings.HasSuffix(args[i-1], "o") {
			return true
		}
	}
	return false
}

// shellHasPipefail reports whether a SHELL instruction in force at ins
// turns pipefail on.
func shellHasPipefail(f *dockerfile.File, ins *dockerfile.Instruction) bool {
	found := false
	before(f, ins, func(prev *dockerfile.Instruction) bool {
		if prev.Keyword != "shell" {
			return true
		}
		for _, a := range prev.Args() {
			if strings.Contains(a, "pipefail") {
				found = true
			}
		}
		return false // the nearest SHELL decides
	})
	return found
}

package transform

import (
	"strconv"
	"strings"
)

// MultipleCmd flags CMD, ENTRYPOINT and HEALTHCHECK instructions that a
// later one in the same stage overrides.
var MultipleCmd = &Rule{
	ID:       "HD418",
	Name:     "multiple-cmd",
	Title:    "CMD, ENTRYPOINT or HEALTHCHECK overridden in the same stage",
	Severity: Warning,
	Safety:   ReportOnly,
	Hadolint: []string{"DL4003", "DL4004"},
	Doc: Doc{
		Why: "Only the last CMD, ENTRYPOINT and HEALTHCHECK of a stage take effect. An earlier " +
			"one is dead code that misleads readers about how the container starts, and is " +
			"often a merge or copy-paste mistake. Keep one; to run several steps at start, use " +
			"an entrypoint script that ends in exec.",
		Bad:  "FROM python:3.12-slim\nCMD [\"python\", \"migrate.py\"]\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nCOPY entrypoint.sh /\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkMultipleCmd,
}

func checkMultipleCmd(p *Pass) {
	for _, st := range p.File.Stages {
		last := map[string]int{}
		for _, ins := range st.Instructions {
			switch ins.Keyword {
			case "cmd", "entrypoint", "healthcheck":
				last[ins.Keyword] = ins.Index
			}
		}
		for _, ins := range st.Instructions {
			if at, ok := last[ins.Keyword]; ok && at != ins.Index {
				kw := strings.ToUpper(ins.Keyword)
				p.Report(ins, kw+" has no effect: the "+kw+" on line "+strconv.Itoa(p.File.Instructions[at].Line)+" replaces it", nil)
			}
		}
	}
}

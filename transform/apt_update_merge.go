package transform

import (
	"fmt"

	"github.com/harden-dev/harden/dockerfile"
)

// AptUpdateMerge moves a lone `RUN apt-get update` into the install RUN.
var AptUpdateMerge = &Rule{
	ID:       "HD105",
	Name:     "apt-update-merge",
	Title:    "apt-get update in its own RUN",
	Severity: Warning,
	Safety:   Safe,
	Doc: Doc{
		Why: "A RUN that only runs apt-get update is cached on its own. Later builds reuse the " +
			"stale lists and the install that follows fails or installs old versions; the lists " +
			"also stay in that layer for good. apt-get update belongs in the same RUN as the " +
			"install, which can then remove the lists. An install that runs only after || " +
			"(`command -v curl || apt-get install ...`) is left for a merge by hand.",
		Bad: "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\n",
		Good: "FROM debian:bookworm\n" +
			"RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	},
	Check: checkAptUpdateMerge,
}

func checkAptUpdateMerge(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		if s.Form == dockerfile.ExecForm || len(s.Commands) != 1 || len(s.AST.Stmts) != 1 || s.Commands[0].Chain == nil {
			return
		}
		update := s.Commands[0]
		if sub, _, ok := aptGet(update, true); !ok || sub != "update" {
			return
		}
		msg := "apt-get update alone in a RUN is cached separately from the install and leaves its lists in the layer"
		install, next := nextAptInstall(p.File, s.Ins)
		if install == nil {
			p.ReportAt(update, msg+"; move it into the RUN that installs packages", nil)
			return
		}
		if len(next.Ins.Flags()) > 0 && len(s.Ins.Flags()) > 0 && fmt.Sprint(next.Ins.Flags()) != fmt.Sprint(s.Ins.Flags()) {
			p.ReportAt(update, msg+"; the two RUNs use different mounts, so harden leaves merging them to you", nil)
			return
		}
		if op := install.OperatorBefore(); op != "" && op != "&&" {
			// "a || apt-get update && apt-get install" would install even when a succeeds.
			p.ReportAt(update, fmt.Sprintf("%s; the install on line %d comes after %s, where an apt-get update put before it would change when it runs: merge them by hand", msg, next.Ins.Line, op), nil)
			return
		}
		edits := []dockerfile.Edit{{Start: s.Ins.Start, End: s.Ins.End}}
		desc := fmt.Sprintf("moved apt-get update into the RUN that installs (line %d), so the lists are never cached stale", next.Ins.Line)
		if updatesBefore(next, install) {
			desc = fmt.Sprintf("removed a separate apt-get update: the RUN that installs (line %d) already updates", next.Ins.Line)
		} else {
			ins, err := install.InsertBefore(update.Text() + " && ")
			if err != nil {
				p.ReportAt(update, msg+"; move it into the RUN on line "+fmt.Sprint(next.Ins.Line), nil)
				return
			}
			edits = append(edits, ins)
		}
		p.ReportAt(update, msg, &SuggestedFix{
			Description: desc,
			Edits:       edits,
		})
	})
}

// nextAptInstall finds the next RUN in the same stage that uses apt, and the
// apt-get install in its top-level chain. It returns nil when that RUN does
// not install at top level (merging into a loop or a condition is not
// provably the same).
func nextAptInstall(f *dockerfile.File, ins *dockerfile.Instruction) (*dockerfile.Command, *dockerfile.Script) {
	st := f.Stages[ins.Stage]
	for _, later := range st.Instructions {
		if later.Index <= ins.Index || later.Keyword != "run" {
			continue
		}
		s, err := later.Script()
		if err != nil {
			if usesApt(later.Node.Original) {
				return nil, nil
			}
			continue
		}
		usesAptHere := false
		for _, c := range s.Commands {
			sub, _, ok := aptGet(c, true)
			if !ok {
				continue
			}
			usesAptHere = true
			if sub == "install" && c.Chain != nil && s.Form == dockerfile.ShellForm {
				return c, s
			}
		}
		if usesAptHere {
			return nil, nil
		}
	}
	return nil, nil
}

// updatesBefore reports whether the script already runs apt-get update
// before the install.
func updatesBefore(s *dockerfile.Script, install *dockerfile.Command) bool {
	for _, c := range s.Commands {
		if c == install {
			return false
		}
		if sub, _, ok := aptGet(c, true); ok && sub == "update" {
			return true
		}
	}
	return false
}

func usesApt(text string) bool {
	for _, w := range []string{"apt-get ", "apt "} {
		if containsWord(text, w) {
			return true
		}
	}
	return false
}

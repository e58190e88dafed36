package buildjob

import (
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// ParseSmokeCommand checks --smoke, a command with shell quoting, and
// returns it parsed. harden checks it before hardening; harden-build turns
// it into the argv run in the container (with mvdan.cc/sh's expand, which
// harden does not link). Expansions are refused: they would be expanded on
// this machine, not in the container, and a distroless image has no shell
// to expand them there.
func ParseSmokeCommand(s string) (*syntax.CallExpr, error) {
	f, err := syntax.NewParser().Parse(strings.NewReader(s), "")
	if err != nil {
		return nil, err
	}
	if len(f.Stmts) != 1 {
		return nil, fmt.Errorf("%q: want one command; use sh -c '...' for a script", s)
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Assigns) > 0 || len(st.Redirs) > 0 || st.Negated || st.Background || len(call.Args) == 0 {
		return nil, fmt.Errorf("%q: want a plain command with arguments; use sh -c '...' for pipes, redirections or variables", s)
	}
	var expansion syntax.Node
	syntax.Walk(st, func(n syntax.Node) bool {
		switch n.(type) {
		case *syntax.ParamExp, *syntax.CmdSubst, *syntax.ArithmExp, *syntax.ProcSubst, *syntax.ExtGlob:
			if expansion == nil {
				expansion = n
			}
		}
		return expansion == nil
	})
	if expansion != nil {
		return nil, fmt.Errorf("%q: expansions such as $VAR would happen on this machine, not in the container; use sh -c '...' inside single quotes", s)
	}
	return call, nil
}

package transform

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/dockerfile"
)

// ExecFormCmd rewrites shell-form CMD and ENTRYPOINT to exec form.
var ExecFormCmd = &Rule{
	ID:       "HD202",
	Name:     "exec-form-cmd",
	Title:    "CMD or ENTRYPOINT in shell form",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3025"},
	Doc: Doc{
		Why: "In shell form the container's main process is /bin/sh -c, not the app. The shell " +
			"does not pass SIGTERM on, so docker stop waits ten seconds and then kills the app " +
			"without a clean shutdown; the form also needs a shell in the image, which distroless " +
			"runtimes lack. harden rewrites commands that use no shell features; for the others " +
			"it explains what to do.",
		Bad:  "FROM python:3.12-slim\nCMD python app.py\n",
		Good: "FROM python:3.12-slim\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkExecFormCmd,
}

func checkExecFormCmd(p *Pass) {
	for _, ins := range p.File.Instructions {
		if ins.Keyword != "cmd" && ins.Keyword != "entrypoint" || ins.IsJSON() || len(ins.Args()) == 0 {
			continue
		}
		kw := strings.ToUpper(ins.Keyword)
		msg := kw + " in shell form runs under /bin/sh -c, which does not forward SIGTERM to the app"
		s, err := ins.Script()
		if err != nil {
			p.Report(ins, msg+"; harden cannot rewrite it ("+err.Error()+")", nil)
			continue
		}
		args, why := plainCommand(s)
		if why == "" {
			why = execFormChangesMeaning(p.File, ins)
		}
		if why != "" {
			p.Report(ins, msg+"; harden leaves it because "+why+`: use exec form, e.g. ["sh", "-c", "exec ..."] or an entrypoint script that ends in exec`, nil)
			continue
		}
		lg := ins.Logical()
		start := ins.ArgsStart()
		end := len(strings.TrimRight(lg.Text, " \t\r\n"))
		p.Report(ins, msg, &SuggestedFix{
			Description: kw + " now uses exec form, so the app is PID 1 and receives SIGTERM",
			Edits: []dockerfile.Edit{{
				Start: lg.Orig(start),
				End:   lg.OrigEnd(end),
				New:   p.File.Style.JSONArray(args),
			}},
		})
	}
}

// plainCommand returns the words of a script that is one simple command
// with no shell features, or the reason it is not.
func plainCommand(s *dockerfile.Script) ([]string, string) {
	if s.Form != dockerfile.ShellForm || len(s.AST.Stmts) != 1 {
		return nil, "it runs more than one command"
	}
	st := s.AST.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || len(st.Redirs) > 0 {
		return nil, "it uses shell syntax (pipes, redirections, conditions or &&)"
	}
	if len(call.Assigns) > 0 {
		return nil, "it sets variables inline; move them to ENV"
	}
	c := s.Commands[0]
	for i, w := range call.Args {
		if !c.Literal[i] {
			return nil, "it expands variables or runs subcommands"
		}
		if hasGlob(w) {
			return nil, "it uses wildcards or ~ that the shell expands"
		}
	}
	args := c.Args
	if len(args) > 1 && args[0] == "exec" {
		args = args[1:]
	}
	return args, ""
}

// hasGlob reports unquoted characters the shell would expand.
func hasGlob(w *syntax.Word) bool {
	for i, part := range w.Parts {
		lit, ok := part.(*syntax.Lit)
		if !ok {
			continue
		}
		v := lit.Value
		if strings.ContainsAny(v, "*?[") || i == 0 && strings.HasPrefix(v, "~") {
			return true
		}
		if strings.Contains(v, "{") && (strings.Contains(v, ",") || strings.Contains(v, "..")) {
			return true
		}
	}
	return false
}

// execFormChangesMeaning explains when exec form would run something else:
// an exec-form ENTRYPOINT takes CMD as its arguments, and a shell-form CMD
// is handed to an ENTRYPOINT as "/bin/sh -c ...".
func execFormChangesMeaning(f *dockerfile.File, ins *dockerfile.Instruction) string {
	if ins.Stage < 0 {
		return ""
	}
	for _, other := range f.Stages[ins.Stage].Instructions {
		switch {
		case ins.Keyword == "entrypoint" && other.Keyword == "cmd":
			return "the stage also sets CMD, which exec form would append as arguments"
		case ins.Keyword == "cmd" && other.Keyword == "entrypoint":
			return "the stage sets an ENTRYPOINT that receives CMD as arguments"
		case other.Keyword == "shell" && other.Index < ins.Index:
			return "the stage changes SHELL"
		}
	}
	return ""
}

package cmd

import (
	"bytes"
	"strings"
	"testing"
)

// A run that names its command builds only that command; what it prints
// must not show it: help, usage errors and flag errors read as with the
// whole tree.
func TestSingleCommandTreeReadsLikeTheWholeTree(t *testing.T) {
	run := func(only string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		s := &Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		root := newRootCmd(s, only)
		root.SetArgs(args)
		err := root.Execute()
		return codeOf(err), out.String(), errOut.String() + errString(err)
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "--no-such-flag"}, {c.name, "a", "b", "c", "d"}} {
			if c.name == "fix" && len(args) == 5 || c.name == "check" && len(args) == 5 {
				continue // these take many paths and would run
			}
			fullCode, fullOut, fullErr := run("", args...)
			code, out, errOut := run(commandNamed(args), args...)
			if code != fullCode || out != fullOut || errOut != fullErr {
				t.Errorf("%q differs with only %q built:\nwhole tree: exit %d\n%s%s\nonly it: exit %d\n%s%s", args, c.name, fullCode, fullOut, fullErr, code, out, errOut)
			}
		}
	}
	// And it does build only the one: that is the start-up it saves.
	if cmds := newRootCmd(&Streams{}, "fix").Commands(); len(cmds) != 1 || cmds[0].Name() != "fix" {
		t.Errorf("tree for fix holds %d commands, want only fix", len(cmds))
	}
	if all := len(NewRootCmd(&Streams{}).Commands()); all != len(commands) {
		t.Errorf("whole tree holds %d commands, want %d", all, len(commands))
	}
	for _, args := range [][]string{{"--help"}, {"fxi"}, {"help"}, {"completion", "bash"}, {"--version"}} {
		if got := commandNamed(args); got != "" {
			t.Errorf("commandNamed(%q) = %q, want the whole tree", args, got)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}

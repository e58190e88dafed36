package transform

import (
	"strings"

	"github.com/harden-dev/harden/accounts"
	"github.com/harden-dev/harden/detect"
)

// keepUsers makes sure every USER the runtime stage keeps names an account
// the runtime has. A split sends a RUN that installs build packages to the
// builder; when that RUN also creates the app's user, the runtime would
// end with `USER app` and no app. The runtime then gets the account
// commands of that RUN (on a runtime with the same account tools), or
// loses the USER, which non-root-user then plans afresh for the runtime.
func (s *splitter) keepUsers(sp *splitPlan) {
	rt := detect.Image(s.expandedRuntime(sp))
	rtTool := accounts.ToolFor(rt.Distro, rt.PackageManager)
	for i := 1; i < len(s.chunks); i++ {
		c := s.chunks[i]
		if c.ins.Keyword != "user" || len(c.ins.Args()) == 0 || (sp.roles[i] != toRuntime && sp.roles[i] != toBoth) {
			continue
		}
		name, _, _ := strings.Cut(c.ins.Args()[0], ":")
		if name == "" || rootUser(name) || strings.Trim(name, "0123456789") == "" {
			continue // numeric: no account needed by name
		}
		if rt.User != nil && rt.User.Name == name {
			continue
		}
		creator, cmds := s.userCreation(name, i)
		if creator < 0 || sp.roles[creator] == toRuntime || sp.roles[creator] == toBoth {
			continue // the runtime creates it, or nothing in this stage does (a base image's user)
		}
		builderTool := accounts.ToolFor(detect.Image(s.ref).Distro, detect.Image(s.ref).PackageManager)
		if rtTool != accounts.None && rtTool == builderTool {
			sp.runtimeBefore[creator] = append(sp.runtimeBefore[creator], s.f.Style.Instruction("RUN", s.f.Style.Chain(cmds)))
			sp.summary += "; the runtime creates " + name + " too, since USER names it"
			continue
		}
		sp.roles[i] = dropped
	}
}

// userCreation finds the RUN before chunk at that creates the account, and
// its account commands (useradd, groupadd, adduser, addgroup) as written.
func (s *splitter) userCreation(name string, at int) (int, []string) {
	for i := at - 1; i > 0; i-- {
		c := s.chunks[i]
		if c.ins.Keyword != "run" {
			continue
		}
		sc, err := c.ins.Script()
		if err != nil {
			continue
		}
		var cmds []string
		creates := false
		for _, cmd := range sc.Commands {
			switch cmd.Name() {
			case "useradd", "adduser":
				if last, lit := cmd.Arg(cmd.NArgs() - 1); lit && (last == name || cmd.NArgs() > 2 && argIs(cmd, cmd.NArgs()-2, name)) {
					creates = true
				}
				cmds = append(cmds, cmd.Text())
			case "groupadd", "addgroup":
				cmds = append(cmds, cmd.Text())
			}
		}
		if creates {
			return i, cmds
		}
	}
	return -1, nil
}

func argIs(c interface{ Arg(int) (string, bool) }, i int, want string) bool {
	a, lit := c.Arg(i)
	return lit && a == want
}

// expandedRuntime is the runtime image with global ARG defaults expanded.
func (s *splitter) expandedRuntime(sp *splitPlan) string {
	ref, _ := s.f.ExpandGlobalArgs(sp.runtimeImage)
	return ref
}

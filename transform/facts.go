package transform

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// Helpers shared by rules: questions about a stage or a shell command that
// more than one rule asks.

// stageChain returns the stage holding ins and the stages it builds FROM,
// nearest first.
func stageChain(f *dockerfile.File, ins *dockerfile.Instruction) []*dockerfile.Stage {
	if ins.Stage < 0 {
		return nil
	}
	var out []*dockerfile.Stage
	for st := f.Stages[ins.Stage]; st != nil; st = st.Parent() {
		out = append(out, st)
	}
	return out
}

// before calls fn for the instructions that precede ins in its stage and
// the stages it builds on, nearest first, stopping when fn returns false.
func before(f *dockerfile.File, ins *dockerfile.Instruction, fn func(*dockerfile.Instruction) bool) {
	for _, st := range stageChain(f, ins) {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			prev := st.Instructions[i]
			if prev.Index >= ins.Index {
				continue
			}
			if !fn(prev) {
				return
			}
		}
	}
}

// envSet reports whether an ENV before ins (in its stage or the stages it
// builds on) sets name, or the command itself is prefixed with name=value.
func envSet(f *dockerfile.File, ins *dockerfile.Instruction, c *dockerfile.Command, name string) bool {
	if c != nil && c.Call != nil {
		for _, a := range c.Call.Assigns {
			if a.Name != nil && a.Name.Value == name {
				return true
			}
		}
		for i := 0; i < c.Prog; i++ {
			if strings.HasPrefix(c.Args[i], name+"=") {
				return true
			}
		}
	}
	found := false
	before(f, ins, func(prev *dockerfile.Instruction) bool {
		if env, ok := prev.Command.(*instructions.EnvCommand); ok {
			for _, kv := range env.Env {
				if kv.Key == name {
					found = true
					return false
				}
			}
		}
		return true
	})
	return found
}

// subcommand finds the first non-option word after the program, skipping
// options that take a value (given in valued, e.g. "-o" for apt-get). It
// returns the word's index counted from the program.
func subcommand(c *dockerfile.Command, valued ...string) (string, int, bool) {
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			return "", 0, false
		}
		if strings.HasPrefix(a, "-") {
			for _, v := range valued {
				if a == v {
					i++
				}
			}
			continue
		}
		return a, i, true
	}
	return "", 0, false
}

// afterFlags returns the index of the last option word directly following
// word i, so that a new flag lands after the ones already there
// ("install -y" gets "install -y --no-install-recommends").
func afterFlags(c *dockerfile.Command, i int) int {
	for j := i + 1; j < c.NArgs(); j++ {
		a, lit := c.Arg(j)
		if !lit || !strings.HasPrefix(a, "-") || strings.Contains(a, "=") && !strings.HasPrefix(a, "--") {
			break
		}
		switch a {
		case "-o", "-c", "-t", "-r", "-e":
			return i
		}
		i = j
	}
	return i
}

// positionalArgs lists the words after index i that are not options.
func positionalArgs(c *dockerfile.Command, i int) []string {
	var out []string
	for j := i + 1; j < c.NArgs(); j++ {
		a, _ := c.Arg(j)
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

var pipName = lazyre.New(`^pip[0-9.]*$`)
var pythonName = lazyre.New(`^python[0-9.]*$`)

// pipInstall finds `pip install`, `pip3 install` and `python -m pip
// install`, returning the index of "install".
func pipInstall(c *dockerfile.Command) (int, bool) {
	name := c.Name()
	switch {
	case pipName().MatchString(name):
		sub, i, ok := subcommand(c)
		return i, ok && sub == "install"
	case pythonName().MatchString(name):
		for i := 1; i+2 < c.NArgs(); i++ {
			a, _ := c.Arg(i)
			if a == "-m" {
				mod, _ := c.Arg(i + 1)
				sub, _ := c.Arg(i + 2)
				return i + 2, pipName().MatchString(mod) && sub == "install"
			}
			if !strings.HasPrefix(a, "-") {
				return 0, false
			}
		}
	}
	return 0, false
}

// aptGetOptionsWithValue take the next word as their value.
var aptGetOptionsWithValue = []string{"-o", "-c", "-t", "--option", "--config-file", "--target-release"}

// aptGet finds `apt-get SUB` (and `apt SUB` when apt is true), returning
// the subcommand and its index.
func aptGet(c *dockerfile.Command, alsoApt bool) (string, int, bool) {
	name := c.Name()
	if name != "apt-get" && !(alsoApt && name == "apt") {
		return "", 0, false
	}
	return subcommand(c, aptGetOptionsWithValue...)
}

// removesPath reports whether c is an rm of target or of a folder above it
// ("rm -rf /var/lib/apt/lists/*" removes /var/lib/apt/lists).
func removesPath(c *dockerfile.Command, target string) bool {
	if c.Name() != "rm" {
		return false
	}
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			continue
		}
		a = strings.TrimRight(a, "/*")
		if a == target || strings.HasPrefix(target, a+"/") && a != "" {
			return true
		}
	}
	return false
}

// copiedBefore reports whether a COPY or ADD from the build context before
// ins brings in the context file rel (e.g. "package-lock.json"), as far
// as the source patterns say.
func copiedBefore(f *dockerfile.File, ins *dockerfile.Instruction, rel string) bool {
	found := false
	before(f, ins, func(prev *dockerfile.Instruction) bool {
		if prev.Keyword != "copy" && prev.Keyword != "add" {
			return true
		}
		if _, fromStage := prev.Flag("from"); fromStage {
			return true
		}
		args := prev.Args()
		if len(args) < 2 {
			return true
		}
		for _, src := range args[:len(args)-1] {
			if sourceCovers(src, rel) {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// sourceCovers reports whether a COPY source pattern brings in rel.
func sourceCovers(src, rel string) bool {
	src = strings.TrimPrefix(path.Clean("/"+src), "/")
	if src == "" || src == "." {
		return true
	}
	if ok, _ := path.Match(src, rel); ok {
		return true
	}
	// A folder source brings in everything below it.
	return strings.HasPrefix(rel, strings.TrimSuffix(src, "/")+"/")
}

// containsWord reports whether w occurs in text at a word start.
func containsWord(text, w string) bool {
	for i := 0; i+len(w) <= len(text); i++ {
		if text[i:i+len(w)] == w && (i == 0 || text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == ';' || text[i-1] == '&' || text[i-1] == '|' || text[i-1] == '/') {
			return true
		}
	}
	return false
}

package transform

import (
	"slices"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/toolversions"
)

// baseImage is the image the stage holding ins starts from, following
// FROM <stage> back to an image; "" when it is scratch or an ARG without a
// default.
func baseImage(f *dockerfile.File, ins *dockerfile.Instruction) string {
	chain := stageChain(f, ins)
	if len(chain) == 0 {
		return ""
	}
	ref, expanded, isImage := chain[len(chain)-1].Image()
	if !expanded || !isImage {
		return ""
	}
	return ref
}

// toolAt answers which version of tool runs command c: the base image's,
// unless an earlier command of the stage (or of the stages it builds on)
// installed another one. An upgrade to a pinned version ("npm@6",
// "pip==9.0.1") is that version; one without a pin is unknown.
func toolAt(f *dockerfile.File, c *dockerfile.Command, tool toolversions.Tool) (toolversions.Fact, bool) {
	ins := c.Script.Ins
	var replaced *toolversions.Fact
	known := true
	check := func(cmd *dockerfile.Command) {
		if v, ok := installsTool(cmd, tool); ok {
			if v == "" {
				replaced, known = nil, false
				return
			}
			replaced = &toolversions.Fact{Tool: tool, Min: v, Max: v, Source: "`" + cmd.Text() + "` installs " + string(tool) + " " + v}
			known = true
		}
	}
	// Earlier RUNs, oldest first, then the commands before c in its RUN.
	var earlier []*dockerfile.Instruction
	before(f, ins, func(prev *dockerfile.Instruction) bool {
		if prev.Keyword == "run" {
			earlier = append(earlier, prev)
		}
		return true
	})
	for i := len(earlier) - 1; i >= 0; i-- {
		if s, err := earlier[i].Script(); err == nil {
			for _, cmd := range s.Commands {
				check(cmd)
			}
		}
	}
	for _, cmd := range c.Script.Commands {
		if cmd == c {
			break
		}
		check(cmd)
	}
	if replaced != nil {
		return *replaced, true
	}
	if !known {
		return toolversions.Fact{}, false
	}
	ref := baseImage(f, ins)
	if ref == "" {
		return toolversions.Fact{}, false
	}
	return toolversions.Of(ref, tool)
}

// installsTool reports whether cmd installs or upgrades tool, and the
// version it pins ("" for none or one harden cannot read).
func installsTool(cmd *dockerfile.Command, tool toolversions.Tool) (string, bool) {
	name := cmd.Name()
	words := positionalWords(cmd)
	switch tool {
	case toolversions.Pip:
		if at, ok := pipInstall(cmd); ok {
			for _, w := range positionalArgs(cmd, at) {
				if w == "pip" || strings.HasPrefix(w, "pip=") || strings.HasPrefix(w, "pip<") || strings.HasPrefix(w, "pip>") || strings.HasPrefix(w, "pip~") {
					v, _ := strings.CutPrefix(w, "pip==")
					if v == w {
						v = ""
					}
					return v, true
				}
			}
		}
		if name == "easy_install" && slices.Contains(words, "pip") {
			return "", true
		}
		if pythonName().MatchString(name) && (containsSuffix(words, "get-pip.py") || slices.Contains(words, "ensurepip")) {
			return "", true
		}
	case toolversions.Npm, toolversions.Yarn:
		if name == "corepack" {
			return "", tool == toolversions.Yarn || slices.Contains(words, "npm")
		}
		if name == "yarn" && tool == toolversions.Yarn && len(words) >= 2 && words[0] == "set" && words[1] == "version" {
			return "", true
		}
		if name == "npm" || name == "pnpm" {
			sub, at, ok := subcommand(cmd)
			if !ok || sub != "install" && sub != "i" && sub != "add" && sub != "update" {
				return "", false
			}
			for _, w := range positionalArgs(cmd, at) {
				if w == string(tool) {
					return "", true
				}
				if v, ok := strings.CutPrefix(w, string(tool)+"@"); ok {
					if leading := leadingNumber(v); leading != "" && leading == v {
						return v, true
					}
					return "", true
				}
			}
		}
	case toolversions.Bundler:
		if name == "gem" {
			sub, at, ok := subcommand(cmd)
			if !ok {
				return "", false
			}
			args := positionalArgs(cmd, at)
			switch {
			case sub == "update" && cmd.HasArg("--system"):
				return "", true
			case (sub == "install" || sub == "update" || sub == "i") && slices.Contains(args, "bundler"):
				for i := at + 1; i+1 < cmd.NArgs(); i++ {
					if a, _ := cmd.Arg(i); a == "-v" || a == "--version" {
						v, _ := cmd.Arg(i + 1)
						if leadingNumber(v) == v && v != "" {
							return v, true
						}
					}
				}
				return "", true
			}
		}
	}
	return "", false
}

// positionalWords are the literal words after the program.
func positionalWords(cmd *dockerfile.Command) []string {
	var out []string
	for i := 1; i < cmd.NArgs(); i++ {
		if a, lit := cmd.Arg(i); lit {
			out = append(out, a)
		}
	}
	return out
}

func containsSuffix(list []string, suffix string) bool {
	for _, x := range list {
		if strings.HasSuffix(x, suffix) {
			return true
		}
	}
	return false
}

// leadingNumber is the dotted version at the start of s ("6" in "6.14.18").
func leadingNumber(s string) string {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.') {
		end++
	}
	return strings.TrimSuffix(s[:end], ".")
}

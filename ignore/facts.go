package ignore

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// source is one path an instruction reads from the build context.
type source struct {
	// raw is the source as written, for messages.
	raw string
	// path is the expanded, cleaned, context-relative path ("." is the
	// root). It may hold COPY wildcards (* ? [...]).
	path string
	glob bool
	// unresolved is set when the path depends on a build argument without
	// a default: path is then the literal folder in front of it ("." when
	// nothing is known).
	unresolved bool
	// where names the instruction, e.g. "COPY build/ (Dockerfile line 4)".
	where string
	// verb says what the instruction does with a folder: "copies" or
	// "mounts".
	verb string
	// stage and index place the instruction; dest is where a folder's
	// contents land in the image ("" when unknown).
	stage, index int
	dest         string
}

// command is one simple command of a RUN.
type command struct {
	words        []string // literal words, the program's base name first
	stage, index int
	dir          string // working directory; "" when unknown
}

// facts are what one Dockerfile tells the generator: what it reads from the
// context and which tools its RUN instructions call, where.
type facts struct {
	name    string
	sources []source
	// copiesRoot is set when an instruction reads the whole context
	// (COPY . , a bind mount of the context root, or a source harden cannot
	// resolve), so that every unignored file lands in a build stage.
	copiesRoot bool
	commands   []command
	// parent[i] is the stage stage i builds FROM, or -1.
	parent []int
}

// unknownValue stands for a build argument without a default while COPY
// sources are expanded; NUL never appears in a real path.
const unknownValue = "\x00"

// imageWorkdir stands for the base image's working directory, which
// harden cannot see; relative paths are joined to it symbolically.
const imageWorkdir = "\x00workdir"

// readFacts collects a Dockerfile's context sources, with ARG defaults and
// ENV values expanded as BuildKit would expand them (by its own shell
// lexer), and the commands its RUN instructions call.
func readFacts(f *dockerfile.File) *facts {
	fa := &facts{name: f.Name, parent: make([]int, len(f.Stages))}
	lex := shell.NewLex(rune(f.Escape))
	stageEnv := make([]map[string]string, len(f.Stages))
	stageDir := make([]string, len(f.Stages))
	for _, st := range f.Stages {
		fa.parent[st.Index] = -1
		env := map[string]string{} // ENV, inherited by stages built FROM this one
		workdir := imageWorkdir
		if parent := st.Parent(); parent != nil {
			fa.parent[st.Index] = parent.Index
			for k, v := range stageEnv[parent.Index] {
				env[k] = v
			}
			workdir = stageDir[parent.Index]
		}
		args := map[string]string{} // ARG, local to the stage
		vars := scope{env: env, args: args}
		for _, ins := range st.Instructions[1:] {
			switch c := ins.Command.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					args[kv.Key] = argValue(f, lex, vars, kv)
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = expand(lex, kv.Value, vars)
				}
			case *instructions.WorkdirCommand:
				workdir = joinDir(workdir, expand(lex, c.Path, vars))
			case *instructions.CopyCommand:
				if c.From == "" {
					dest := ""
					if !c.Parents {
						dest = joinDir(workdir, expand(lex, c.DestPath, vars))
					}
					fa.addSources(lex, vars, ins, c.SourcePaths, dest)
				}
			case *instructions.AddCommand:
				fa.addSources(lex, vars, ins, localAddSources(c.SourcePaths), joinDir(workdir, expand(lex, c.DestPath, vars)))
			case *instructions.RunCommand:
				fa.addMounts(lex, vars, ins, workdir)
				fa.addCommands(ins, workdir)
			}
		}
		stageEnv[st.Index] = env
		stageDir[st.Index] = workdir
	}
	return fa
}

// joinDir resolves p against the working directory dir, as WORKDIR, COPY
// destinations and cd do; "" means unknown.
func joinDir(dir, p string) string {
	switch {
	case strings.Contains(p, unknownValue):
		return ""
	case strings.HasPrefix(p, "/"):
		return path.Clean(p)
	case dir == "":
		return ""
	}
	return path.Join(dir, p)
}

// argValue is an ARG's value at build time when no --build-arg is given:
// its own default, else the global ARG's default, else unknown.
func argValue(f *dockerfile.File, lex *shell.Lex, vars scope, kv instructions.KeyValuePairOptional) string {
	if kv.Value != nil {
		return expand(lex, *kv.Value, vars)
	}
	value := unknownValue
	for _, ins := range f.GlobalArgs {
		arg, ok := ins.Command.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, g := range arg.Args {
			if g.Key != kv.Key {
				continue
			}
			value = unknownValue
			if g.Value != nil {
				if v, known := f.ExpandGlobalArgs(*g.Value); known {
					value = v
				}
			}
		}
	}
	return value
}

// scope resolves variables the way BuildKit does for COPY sources: ENV
// before ARG. Names declared nowhere in the Dockerfile expand to nothing,
// as BuildKit expands them (a base image's own ENV aside).
type scope struct{ env, args map[string]string }

func (s scope) Get(name string) (string, bool) {
	if v, ok := s.env[name]; ok {
		return v, true
	}
	v, ok := s.args[name]
	return v, ok
}

func (s scope) Keys() []string {
	var out []string
	for k := range s.env {
		out = append(out, k)
	}
	for k := range s.args {
		if _, dup := s.env[k]; !dup {
			out = append(out, k)
		}
	}
	return out
}

func expand(lex *shell.Lex, word string, vars scope) string {
	if !strings.Contains(word, "$") {
		return word
	}
	out, _, err := lex.ProcessWord(word, vars)
	if err != nil {
		return unknownValue
	}
	return out
}

// localAddSources drops ADD's remote sources: URLs and git repositories
// never come from the context.
func localAddSources(srcs []string) []string {
	var out []string
	for _, s := range srcs {
		lower := strings.ToLower(s)
		if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git@") {
			continue
		}
		out = append(out, s)
	}
	return out
}

func (fa *facts) addSources(lex *shell.Lex, vars scope, ins *dockerfile.Instruction, raws []string, dest string) {
	for _, raw := range raws {
		fa.add(lex, vars, ins, raw, strings.ToUpper(ins.Keyword)+" "+raw, "copies", dest)
	}
}

// addMounts records RUN --mount=type=bind sources read from the context.
// BuildKit's parser leaves a mount's options unparsed until the build
// expands them, so the instruction is parsed afresh (the shared parse is
// never changed) and expanded with the stage's variables.
func (fa *facts) addMounts(lex *shell.Lex, vars scope, ins *dockerfile.Instruction, workdir string) {
	if len(ins.Node.Flags) == 0 {
		return
	}
	cmd, err := instructions.ParseCommand(ins.Node)
	if err != nil {
		return
	}
	run, ok := cmd.(*instructions.RunCommand)
	if !ok {
		return
	}
	err = run.Expand(func(word string) (string, error) { return expand(lex, word, vars), nil })
	if err != nil {
		return
	}
	for _, m := range instructions.GetMounts(run) {
		if m.Type != instructions.MountTypeBind || m.From != "" {
			continue
		}
		raw := m.Source
		if raw == "" {
			raw = "."
		}
		fa.add(lex, vars, ins, raw, "RUN --mount=type=bind,source="+raw, "mounts", joinDir(workdir, m.Target))
	}
}

// add records one source; shown is how the instruction names it, for
// messages.
func (fa *facts) add(lex *shell.Lex, vars scope, ins *dockerfile.Instruction, raw, shown, verb, dest string) {
	s := source{raw: raw, verb: verb, stage: ins.Stage, index: ins.Index, dest: dest}
	val := expand(lex, raw, vars)
	if i := strings.Index(val, unknownValue); i >= 0 {
		s.unresolved = true
		prefix := val[:i]
		if strings.HasSuffix(prefix, "/") {
			s.path = buildctx.Clean(prefix)
		} else {
			s.path = buildctx.Clean(path.Dir("/" + prefix))
		}
	} else {
		s.path = buildctx.Clean(val)
		s.glob = hasWildcard(s.path)
	}
	if s.path == "." {
		fa.copiesRoot = true
	}
	at := fa.name + " line " + strconv.Itoa(ins.Line)
	if val != raw && !s.unresolved {
		at = val + "; " + at
	}
	s.where = shown + " (" + at + ")"
	fa.sources = append(fa.sources, s)
}

// addCommands records every simple command of a RUN as its literal words,
// with the directory it runs in: the stage's WORKDIR, moved by any literal
// cd earlier in the same script.
func (fa *facts) addCommands(ins *dockerfile.Instruction, workdir string) {
	script, err := ins.Script()
	if err != nil {
		return
	}
	dir := workdir
	for _, c := range script.Commands {
		name := c.Name()
		if name == "" {
			continue
		}
		words := []string{name}
		literal := true
		for i := 1; i < c.NArgs(); i++ {
			a, lit := c.Arg(i)
			literal = literal && lit
			if lit {
				words = append(words, a)
			}
		}
		if name == "cd" {
			switch {
			case len(words) == 2 && literal && words[1] != "-":
				dir = joinDir(dir, words[1])
			default:
				dir = ""
			}
			continue
		}
		fa.commands = append(fa.commands, command{words: words, stage: ins.Stage, index: ins.Index, dir: dir})
	}
}

// any reports whether some RUN command satisfies does.
func (fa *facts) any(does func([]string) bool) bool {
	return slices.ContainsFunc(fa.commands, func(c command) bool { return does(c.words) })
}

// rebuildsAt reports whether a command satisfying does runs in dir after
// the instruction that copied it there, in the same stage or one built
// FROM it: a node_modules copied there is then replaced.
func (fa *facts) rebuildsAt(does func([]string) bool, s *source, dir string) bool {
	if dir == "" {
		return false
	}
	for _, c := range fa.commands {
		if c.index > s.index && c.dir == dir && fa.descends(c.stage, s.stage) && does(c.words) {
			return true
		}
	}
	return false
}

// descends reports whether stage a is stage b or is built FROM it.
func (fa *facts) descends(a, b int) bool {
	for ; a >= 0; a = fa.parent[a] {
		if a == b {
			return true
		}
	}
	return false
}

// runs matches a command by program base name and leading non-option
// words, e.g. runs("npm", "ci"). Options before and between the words are
// skipped.
func runs(program string, words ...string) func([]string) bool {
	return func(c []string) bool { return c[0] == program && matchWords(c[1:], words) }
}

// runsAny matches any command of the programs.
func runsAny(programs ...string) func([]string) bool {
	return func(c []string) bool { return slices.Contains(programs, c[0]) }
}

func matchWords(args, want []string) bool {
	i := 0
	for _, a := range args {
		if i == len(want) {
			break
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		if a != want[i] {
			return false
		}
		i++
	}
	return i == len(want)
}

// installsNodePackages: npm ci/install, yarn (bare or install), pnpm or
// bun install.
func installsNodePackages(c []string) bool {
	switch c[0] {
	case "npm":
		w := firstWord(c[1:])
		return w == "ci" || w == "install" || w == "i"
	case "yarn":
		w := firstWord(c[1:])
		return w == "" || w == "install"
	case "pnpm", "bun":
		w := firstWord(c[1:])
		return w == "install" || w == "i"
	}
	return false
}

// buildsNodeApp: a package script named build, or a framework's build
// command.
func buildsNodeApp(c []string) bool {
	args := c[1:]
	switch c[0] {
	case "npm", "bun":
		return matchWords(args, []string{"run", "build"}) || matchWords(args, []string{"run-script", "build"})
	case "yarn", "pnpm":
		return matchWords(args, []string{"build"}) || matchWords(args, []string{"run", "build"})
	case "npx", "ng", "vite", "next", "nuxt", "astro":
		return slices.Contains(args, "build")
	}
	return false
}

// installsGems: bundle install, or a bare bundle (which installs).
func installsGems(c []string) bool {
	w := firstWord(c[1:])
	return c[0] == "bundle" && (w == "" || w == "install")
}

// buildsPythonPackage: python -m build, pip wheel, poetry/uv/hatch/pdm
// build, setup.py bdist_wheel or sdist.
func buildsPythonPackage(c []string) bool {
	args := c[1:]
	switch {
	case isPython(c[0]):
		return slices.Contains(args, "-m") && matchWords(args, []string{"build"}) ||
			slices.Contains(args, "setup.py") && (slices.Contains(args, "bdist_wheel") || slices.Contains(args, "sdist"))
	case c[0] == "pip" || c[0] == "pip3":
		return firstWord(args) == "wheel"
	case c[0] == "poetry" || c[0] == "uv" || c[0] == "hatch" || c[0] == "pdm":
		return firstWord(args) == "build"
	}
	return false
}

func isPython(name string) bool {
	return name == "python" || name == "python3" || strings.HasPrefix(name, "python3.")
}

func firstWord(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

func hasWildcard(p string) bool { return strings.ContainsAny(p, "*?[") }

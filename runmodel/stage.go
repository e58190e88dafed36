package runmodel

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
)

// stageState is what the instructions of the running stage and the stages
// it builds on leave behind, read in build order.
type stageState struct {
	file     *dockerfile.File
	workdir  string
	env      map[string]string
	user     string // USER in force, "" for root
	copies   []copyStep
	made     []madePath // paths RUN creates, in order
	mounts   []string   // paths later instructions fill (COPY targets, RUN redirections)
	created  []User     // accounts the chain creates
	volumes  []Write
	exposed  []Port
	entry    *dockerfile.Instruction
	cmd      *dockerfile.Instruction
	rootHome []RootHomeUse
	// runs are the RUN instructions in build order, with the user and
	// working directory in force.
	runs   []runStep
	groups []group
	// envIns is the ENV or ARG that last set each variable.
	envIns map[string]*dockerfile.Instruction
}

type runStep struct {
	ins     *dockerfile.Instruction
	user    string
	workdir string
}

// copyStep is a COPY or ADD: where its sources land in the image.
type copyStep struct {
	ins     *dockerfile.Instruction
	from    string   // --from stage or image, "" for the build context
	sources []string // as written
	dest    string   // absolute in the image
	// destDir is set when the destination is a folder (it ends in "/",
	// there are several sources, or a source is a folder).
	destDir bool
	chown   string
}

// madePath is a folder or file a RUN creates.
type madePath struct {
	path string
	dir  bool
	ins  *dockerfile.Instruction
	// writable is set when the RUN also hands the path to a non-root user
	// or opens its mode to everyone (chown, chmod 777, a+w).
	writable string
}

// readStage walks the chain of stages that make the running stage, oldest
// first.
func readStage(f *dockerfile.File, st *dockerfile.Stage) *stageState {
	s := &stageState{file: f, workdir: "/", env: map[string]string{}}
	var chain []*dockerfile.Stage
	for c := st; c != nil; c = c.Parent() {
		chain = append([]*dockerfile.Stage{c}, chain...)
	}
	for _, c := range chain {
		for _, ins := range c.Instructions[1:] {
			s.read(ins)
		}
	}
	return s
}

// lookup finds a variable for expansion: ENV and ARG values of the chain,
// then global ARG defaults.
func (s *stageState) lookup(name string) (string, bool) {
	if v, ok := s.env[name]; ok {
		return v, true
	}
	return s.file.GlobalArgDefault(name)
}

// expand reads a Dockerfile word as BuildKit does (quotes and escapes
// removed, variables expanded), reporting whether every variable had a
// value.
func (s *stageState) expand(w string) (string, bool) {
	return s.file.WordWith(w, s.lookup)
}

// abs makes a path absolute against the working directory in force.
func (s *stageState) abs(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(s.workdir, p)
}

func (s *stageState) read(ins *dockerfile.Instruction) {
	switch c := ins.Command.(type) {
	case *instructions.WorkdirCommand:
		if wd, ok := s.expand(c.Path); ok {
			s.workdir = s.abs(wd)
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			v, _ := s.expand(kv.Value)
			s.env[kv.Key] = v
			s.noteEnv(ins, kv.Key)
		}
	case *instructions.ArgCommand:
		for _, a := range c.Args {
			if a.Value != nil {
				if _, set := s.env[a.Key]; !set {
					v, _ := s.expand(*a.Value)
					s.env[a.Key] = v
					s.noteEnv(ins, a.Key)
				}
			}
		}
	case *instructions.UserCommand:
		u, _ := s.expand(c.User)
		if rootUser(u) {
			u = ""
		}
		s.user = u
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			p, ok := s.expand(v)
			if !ok || p == "" {
				continue
			}
			s.volumes = append(s.volumes, Write{Path: s.abs(p), Kind: CreatesIn, Volume: true, Mount: "VOLUME", Copied: true,
				Why: Evidence{File: s.file.Name, Line: ins.Line, Why: "VOLUME " + p + " holds data the container writes"}})
		}
	case *instructions.ExposeCommand:
		for _, p := range c.Ports {
			if n := portNumber(p); n > 0 {
				s.exposed = append(s.exposed, Port{Number: n, Setting: "expose", Why: Evidence{File: s.file.Name, Line: ins.Line, Why: "EXPOSE " + p}})
			}
		}
	case *instructions.CopyCommand:
		s.addCopy(ins, c.From, c.SourcePaths, c.DestPath, c.Chown)
	case *instructions.AddCommand:
		s.addCopy(ins, "", c.SourcePaths, c.DestPath, c.Chown)
	case *instructions.EntrypointCommand:
		s.entry = ins
		s.cmd = nil // an ENTRYPOINT resets the CMD it inherits
	case *instructions.CmdCommand:
		s.cmd = ins
	case *instructions.RunCommand:
		s.runs = append(s.runs, runStep{ins: ins, user: s.user, workdir: s.workdir})
		s.readRun(ins)
	}
}

func (s *stageState) addCopy(ins *dockerfile.Instruction, from string, sources []string, dest, chown string) {
	d, ok := s.expand(dest)
	if !ok {
		return
	}
	step := copyStep{ins: ins, from: from, sources: sources, dest: s.abs(d), chown: chown}
	step.destDir = strings.HasSuffix(d, "/") || d == "." || len(sources) > 1
	for _, src := range sources {
		if from == "" && (src == "." || strings.HasSuffix(src, "/") || strings.ContainsAny(src, "*?[")) {
			step.destDir = true
		}
	}
	s.copies = append(s.copies, step)
	s.mounts = append(s.mounts, step.dest)
	if from == "" && underRootHome(step.dest) {
		s.rootHome = append(s.rootHome, RootHomeUse{Kind: "copy", Why: Evidence{File: s.file.Name, Line: ins.Line,
			Why: "COPY puts files under " + step.dest + ", and /root is private to root"}})
	}
	if from != "" && underRootHome(step.dest) {
		s.rootHome = append(s.rootHome, RootHomeUse{Kind: "copy", Why: Evidence{File: s.file.Name, Line: ins.Line,
			Why: "COPY --from=" + from + " puts files under " + step.dest + ", and /root is private to root"}})
	}
}

func underRootHome(p string) bool { return Under(p, "/root") }

// readRun records what a RUN creates: folders and files, accounts, and
// installs into root's home.
func (s *stageState) readRun(ins *dockerfile.Instruction) {
	sc, err := ins.Script()
	if err != nil || sc.Form == dockerfile.ExecForm {
		return
	}
	wd := s.workdir
	for _, c := range sc.Commands {
		args := literalWords(c)
		if len(args) == 0 {
			continue
		}
		switch c.Name() {
		case "cd":
			if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
				if p, ok := s.expand(args[1]); ok {
					if path.IsAbs(p) {
						wd = path.Clean(p)
					} else {
						wd = path.Join(wd, p)
					}
				}
			}
		case "mkdir":
			for _, p := range operands(args[1:], "-m", "--mode") {
				if x, ok := s.expand(p); ok && x != "" {
					s.made = append(s.made, madePath{path: joinAbs(wd, x), dir: true, ins: ins})
				}
			}
		case "touch":
			for _, p := range operands(args[1:], "-d", "-r", "-t") {
				if x, ok := s.expand(p); ok && x != "" {
					s.made = append(s.made, madePath{path: joinAbs(wd, x), ins: ins})
				}
			}
		case "chown", "chmod":
			s.readOwnership(c.Name(), args, wd, ins)
		case "useradd", "adduser":
			if u, ok := parseUserAdd(c.Name(), args, s.file.Name, ins.Line); ok {
				s.created = append(s.created, u)
			}
		case "groupadd", "addgroup":
			s.readGroupAdd(c.Name(), args)
		case "pip", "pip3":
			s.readPip(args, ins)
		case "python", "python3":
			if i := indexOf(args, "-m"); i > 0 && i+1 < len(args) && strings.HasPrefix(args[i+1], "pip") {
				s.readPip(args[i+1:], ins)
			}
		case "poetry":
			if len(args) > 1 && (args[1] == "install" || args[1] == "sync") && s.user == "" && !s.poetryOutsideRoot(sc) {
				s.rootHome = append(s.rootHome, RootHomeUse{Kind: "poetry-venv", Why: Evidence{File: s.file.Name, Line: ins.Line,
					Why: "poetry " + args[1] + " as root makes its virtualenv under /root/.cache/pypoetry unless told otherwise"}})
			}
		case "pipx":
			if len(args) > 1 && args[1] == "install" && s.user == "" && s.env["PIPX_HOME"] == "" {
				s.rootHome = append(s.rootHome, RootHomeUse{Kind: "pipx", Why: Evidence{File: s.file.Name, Line: ins.Line,
					Why: "pipx install as root puts the tool under /root/.local"}})
			}
		}
	}
}

// poetryOutsideRoot reports whether poetry is told to install outside
// root's cache: into the system, or into the project folder.
func (s *stageState) poetryOutsideRoot(sc *dockerfile.Script) bool {
	if v := strings.ToLower(s.env["POETRY_VIRTUALENVS_CREATE"]); v == "false" || v == "0" {
		return true
	}
	if v := strings.ToLower(s.env["POETRY_VIRTUALENVS_IN_PROJECT"]); v == "true" || v == "1" {
		return true
	}
	if s.env["POETRY_VIRTUALENVS_PATH"] != "" && !underRootHome(s.env["POETRY_VIRTUALENVS_PATH"]) {
		return true
	}
	if s.env["POETRY_CACHE_DIR"] != "" && !underRootHome(s.env["POETRY_CACHE_DIR"]) {
		return true
	}
	for _, prev := range s.runs {
		if strings.Contains(prev.ins.Node.Original, "virtualenvs.create false") ||
			strings.Contains(prev.ins.Node.Original, "virtualenvs.in-project true") {
			return true
		}
	}
	for _, c := range sc.Commands {
		t := strings.Join(literalWords(c), " ")
		if strings.Contains(t, "virtualenvs.create false") || strings.Contains(t, "virtualenvs.in-project true") {
			return true
		}
	}
	return false
}

func (s *stageState) readPip(args []string, ins *dockerfile.Instruction) {
	if len(args) < 2 || args[1] != "install" || s.user != "" {
		return
	}
	user := false
	for _, a := range args[2:] {
		if a == "--user" {
			user = true
		}
		if a == "--target" || strings.HasPrefix(a, "--target=") || a == "--prefix" || strings.HasPrefix(a, "--prefix=") || a == "-t" {
			return
		}
	}
	if v := strings.ToLower(s.env["PIP_USER"]); v == "1" || v == "true" || v == "yes" {
		user = true
	}
	if !user {
		return
	}
	if base := s.env["PYTHONUSERBASE"]; base != "" && !underRootHome(base) {
		return
	}
	s.rootHome = append(s.rootHome, RootHomeUse{Kind: "pip-user", Why: Evidence{File: s.file.Name, Line: ins.Line,
		Why: "pip install --user as root puts the packages under /root/.local"}})
}

// readOwnership notes paths a RUN gives to a non-root user or opens to
// everyone: evidence that the app writes them.
func (s *stageState) readOwnership(prog string, args []string, wd string, ins *dockerfile.Instruction) {
	ops := operands(args[1:], "--reference", "--from")
	if len(ops) < 2 {
		return
	}
	who, paths := ops[0], ops[1:]
	switch prog {
	case "chown":
		if rootUser(who) {
			return
		}
		if name, _, _ := strings.Cut(who, ":"); name == "nobody" || name == "65534" {
			// Every distro ships nobody (65534); a Dockerfile that hands it
			// files has chosen it for the app.
			s.created = append(s.created, User{Name: "nobody", UID: 65534, GID: 65534, Home: "/nonexistent",
				Why: Evidence{File: s.file.Name, Line: ins.Line, Why: "chown " + who + " hands files to nobody"}})
		}
	case "chmod":
		if !opensWrite(who) {
			return
		}
	}
	for _, p := range paths {
		x, ok := s.expand(p)
		if !ok || x == "" {
			continue
		}
		s.made = append(s.made, madePath{path: joinAbs(wd, x), dir: true, ins: ins, writable: prog + " " + who})
	}
}

// opensWrite reports whether a chmod mode lets users other than the owner
// write: 777, 775, 666, a+w, o+w, g+w and the like.
func opensWrite(mode string) bool {
	if mode == "" {
		return false
	}
	if mode[0] >= '0' && mode[0] <= '7' {
		m := strings.TrimLeft(mode, "0")
		if len(m) < 2 {
			return false
		}
		others, group := m[len(m)-1]-'0', m[len(m)-2]-'0'
		return others&2 != 0 || group&2 != 0
	}
	for _, part := range strings.Split(mode, ",") {
		who, what, ok := strings.Cut(part, "+")
		if ok && strings.Contains(what, "w") && (who == "" || strings.ContainsAny(who, "aog")) {
			return true
		}
	}
	return false
}

func (s *stageState) readGroupAdd(prog string, args []string) {
	// Groups matter only to name a user's primary group; parseUserAdd
	// reads the group a user is put in, and groups are matched by name
	// in resolveGroups.
	name := ""
	gid := -1
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-g" || a == "--gid":
			if i+1 < len(args) {
				gid = atoi(args[i+1])
				i++
			}
		case strings.HasPrefix(a, "--gid="):
			gid = atoi(strings.TrimPrefix(a, "--gid="))
		case strings.HasPrefix(a, "-"):
			if prog == "groupadd" && (a == "-K" || a == "--key" || a == "-p" || a == "--password" || a == "-R" || a == "--root") {
				i++
			}
		default:
			name = a
		}
	}
	if name != "" {
		s.groups = append(s.groups, group{name: name, gid: gid})
	}
}

type group struct {
	name string
	gid  int
}

func atoi(s string) int {
	n := 0
	if s == "" {
		return -1
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
		if n > 1<<31 {
			return -1
		}
	}
	return n
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

// operands are a command's non-option words; withValue lists the options
// that take the next word as their value.
func operands(args []string, withValue ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			for _, v := range withValue {
				if a == v {
					i++
				}
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// literalWords are a command's words from the program on, with words
// computed at run time kept as written ("$DIR") so that expansion can
// still try them.
func literalWords(c *dockerfile.Command) []string {
	var out []string
	for i := 0; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			a = wordText(c, c.Prog+i)
		}
		out = append(out, a)
	}
	if len(out) > 0 {
		out[0] = c.Name()
	}
	return out
}

// wordText is the source text of argument i, for words with expansions.
func wordText(c *dockerfile.Command, i int) string {
	if c.Call == nil || i >= len(c.Call.Args) {
		return "$"
	}
	return shellWordSource(c.Call.Args[i])
}

func joinAbs(wd, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(wd, p)
}

func rootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "" || name == "root" || strings.Trim(name, "0") == ""
}

func portNumber(p string) int {
	num, _, _ := strings.Cut(p, "/")
	n := atoi(num)
	if n <= 0 || n > 65535 {
		return 0
	}
	return n
}

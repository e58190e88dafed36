package transform

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// DepsBeforeSource installs dependencies from their manifests before the
// rest of the source is copied in.
var DepsBeforeSource = &Rule{
	ID:       "HD501",
	Name:     "deps-before-source",
	Title:    "dependencies are installed after copying all the source",
	Severity: Info,
	Safety:   Structural,
	Doc: Doc{
		Why: "Docker reuses a cached layer only while everything before it is unchanged. When " +
			"`COPY . .` comes before the dependency install, every edit to any source file " +
			"invalidates the cache and reinstalls every dependency. Copying only the manifests " +
			"(requirements.txt, package.json and its lockfile, go.mod and go.sum, Gemfile and " +
			"Gemfile.lock) first, installing, and then copying the rest keeps the slow layer " +
			"cached. harden only moves an install that provably reads nothing but the manifests, " +
			"and copies each manifest to the path the install reads it from (app/requirements.txt " +
			"goes to ./app/, where the full COPY would have put it).",
		Bad:  "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkDepsBeforeSource,
}

func checkDepsBeforeSource(p *Pass) {
	for _, st := range p.File.Stages {
		ins := st.Instructions
		for i, in := range ins {
			src, dest, ok := copiesWholeSource(in)
			if !ok || src != "." && !strings.HasSuffix(in.Args()[0], "/") && !isContextDir(p, src) {
				continue
			}
			// The install must follow the COPY directly (comments aside), so
			// that nothing between them can change what it sees.
			if i+1 >= len(ins) || ins[i+1].Keyword != "run" {
				continue
			}
			run := ins[i+1]
			if installedBefore(ins[:i], run) {
				continue
			}
			manifests, addRun, why := installInputs(p, run, src, imageDirOf(st, in, dest))
			if why != "" && src != "." && !isWholeApp(p, src) {
				// One folder copied before an install (".yarn/releases/") is
				// not the app's source; the install reads what came before.
				continue
			}
			if why != "" {
				if why != notAnInstall {
					p.Report(run, "dependencies are installed after copying all the source, so any edit reinstalls them; harden left it because "+why, nil)
				}
				continue
			}
			p.Report(run, "dependencies are installed after copying all the source, so any edit reinstalls them",
				depsFix(p.File, in, run, src, dest, manifests, addRun))
		}
	}
}

// isWholeApp reports whether a folder of the context holds an app's
// dependency manifest, so that copying it is copying the app's source.
func isWholeApp(p *Pass, dir string) bool {
	for _, m := range []string{"package.json", "requirements.txt", "pyproject.toml", "Gemfile", "go.mod"} {
		if p.Context.Exists(path.Join(dir, m)) {
			return true
		}
	}
	return false
}

func isContextDir(p *Pass, rel string) bool {
	if p.Context == nil {
		return false
	}
	files, err := p.Context.Glob(rel + "/*")
	return err == nil && len(files) > 0
}

// imageDirOf is the folder a COPY writes into, as an absolute image path.
func imageDirOf(st *dockerfile.Stage, cp *dockerfile.Instruction, dest string) string {
	return joinWorkdir(workdirBefore(cp), dest)
}

// workdirBefore is the working directory in effect for an instruction.
func workdirBefore(ins *dockerfile.Instruction) string {
	wd := "/"
	for _, in := range ins.File().Stages[ins.Stage].Instructions {
		if in.Index >= ins.Index {
			break
		}
		wd = workdirAfter(wd, in)
	}
	return wd
}

// notAnInstall marks a RUN that installs nothing harden recognises.
const notAnInstall = "-"

// copiesWholeSource recognises `COPY . DEST` and `COPY ./ DEST` from the
// build context (one source that is the context root or one folder).
func copiesWholeSource(in *dockerfile.Instruction) (src, dest string, ok bool) {
	if in.Keyword != "copy" || len(in.Heredocs) > 0 {
		return "", "", false
	}
	if _, from := in.Flag("from"); from {
		return "", "", false
	}
	args := in.Args()
	if len(args) != 2 || strings.ContainsAny(args[0], "*?[$") {
		return "", "", false
	}
	clean := strings.TrimPrefix(path.Clean("/"+args[0]), "/")
	if clean == "" {
		clean = "."
	}
	return clean, args[1], true
}

// installKind names the installer a RUN runs first ("pip", "bundler",
// "go", or the Node.js package manager), or "".
func installKind(sc *dockerfile.Script) string {
	for _, c := range sc.Commands {
		switch {
		case c.Name() == "go" && firstSub(c) == "build":
			return "go"
		case nodeInstall(c) != "":
			return nodeInstall(c)
		case c.Name() == "bundle" && (firstSub(c) == "install" || firstSub(c) == ""):
			return "bundler"
		}
		if _, ok := pipInstall(c); ok {
			return "pip"
		}
	}
	return ""
}

// installedBefore reports whether a RUN among earlier already ran the
// installer that run runs: run then reinstalls after the source (a
// production prune such as yarn install --production), and the stage's
// dependency layers are already cached apart from the source.
func installedBefore(earlier []*dockerfile.Instruction, run *dockerfile.Instruction) bool {
	sc, err := run.Script()
	if err != nil || sc.Form == dockerfile.ExecForm {
		return false
	}
	kind := installKind(sc)
	if kind == "" || kind == "go" {
		return false
	}
	for _, in := range earlier {
		if in.Keyword != "run" {
			continue
		}
		if prev, err := in.Script(); err == nil && prev.Form != dockerfile.ExecForm && installKind(prev) == kind {
			return true
		}
	}
	return false
}

// installInputs returns the manifest files (relative to the context) the
// RUN reads, and for Go a download step to add. why is notAnInstall for
// RUNs that install nothing known, or a reason the move is unsafe.
func installInputs(p *Pass, run *dockerfile.Instruction, srcDir, destDir string) (manifests []string, addRun string, why string) {
	sc, err := run.Script()
	if err != nil || sc.Form == dockerfile.ExecForm || len(sc.AST.Stmts) != 1 {
		return nil, "", notAnInstall
	}
	ctx := p.Context
	rel := func(name string) string { return path.Join(srcDir, name) }
	kind := installKind(sc)
	if kind == "" {
		return nil, "", notAnInstall
	}
	if ctx == nil {
		return nil, "", "there is no build context to find the manifests in"
	}
	// Every other command of the RUN must be an install too: a build step
	// in the same RUN needs the source.
	for _, c := range sc.Commands {
		if _, ok := pipInstall(c); ok || nodeInstall(c) != "" || c.Name() == "bundle" || kind == "go" {
			continue
		}
		return nil, "", "the same RUN also runs `" + c.Text() + "`, which may need the source"
	}
	switch kind {
	case "pip":
		for _, c := range sc.Commands {
			at, _ := pipInstall(c)
			files, why := pipRequirementInputs(p, c, at, srcDir, destDir, workdirBefore(run))
			if why != "" {
				return nil, "", why
			}
			manifests = append(manifests, files...)
		}
	case "npm", "yarn", "pnpm", "bun":
		pkg := rel("package.json")
		if !ctx.Sent(pkg) {
			return nil, "", "package.json is not in the build context"
		}
		if script := lifecycleScript(p, pkg); script != "" {
			return nil, "", "package.json has a " + script + " script that may read the source"
		}
		manifests = append(manifests, pkg)
		for _, name := range []string{"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", ".npmrc", ".yarnrc"} {
			if ctx.Sent(rel(name)) {
				manifests = append(manifests, rel(name))
			}
		}
		if ctx.Exists(rel(".yarnrc.yml")) || ctx.Exists(rel("pnpm-workspace.yaml")) {
			return nil, "", "the project uses Yarn 2+ or pnpm workspaces, whose installs read more than the manifests"
		}
	case "bundler":
		for _, name := range []string{"Gemfile", "Gemfile.lock"} {
			if !ctx.Sent(rel(name)) {
				return nil, "", name + " is not in the build context"
			}
			manifests = append(manifests, rel(name))
		}
		if gemfileHasPath(p, rel("Gemfile")) {
			return nil, "", "the Gemfile installs gems from local paths"
		}
	case "go":
		if !ctx.Sent(rel("go.mod")) || ctx.Exists(rel("vendor")) || ctx.Exists(rel("go.work")) || downloadsModules(run) {
			return nil, "", notAnInstall
		}
		manifests = append(manifests, rel("go.mod"))
		if ctx.Sent(rel("go.sum")) {
			manifests = append(manifests, rel("go.sum"))
		}
		if replacesLocally(p, rel("go.mod")) {
			return nil, "", "go.mod replaces modules with local folders"
		}
		return manifests, "go mod download", ""
	}
	return manifests, "", ""
}

// downloadsModules reports an earlier `go mod download` in the stage.
func downloadsModules(run *dockerfile.Instruction) bool {
	f := run.File()
	for _, in := range f.Stages[run.Stage].Instructions {
		if in.Index < run.Index && in.Keyword == "run" && strings.Contains(in.Node.Original, "go mod download") {
			return true
		}
	}
	return false
}

func firstSub(c *dockerfile.Command) string {
	sub, _, _ := subcommand(c)
	return sub
}

// pipRequirementInputs lists the requirement files a pip install reads,
// following -r and -c includes, and refuses installs of local code.
func pipRequirementInputs(p *Pass, c *dockerfile.Command, at int, srcDir, destDir, wd string) ([]string, string) {
	var files []string
	for i := at + 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			return nil, "pip's arguments use variables"
		}
		switch {
		case a == "-r" || a == "--requirement" || a == "-c" || a == "--constraint":
			f, _ := c.Arg(i + 1)
			i++
			// The file is named as the RUN sees it in the image; find
			// where the COPY took it from.
			inImage := joinWorkdir(wd, f)
			if !underDir(inImage, destDir) {
				return nil, f + " does not come from the COPY before the install"
			}
			ctxPath := path.Join(srcDir, strings.TrimPrefix(strings.TrimPrefix(inImage, destDir), "/"))
			more, why := requirementFiles(p, ctxPath, srcDir, 0)
			if why != "" {
				return nil, why
			}
			files = append(files, more...)
		case a == "-e" || a == "--editable" || a == "." || strings.HasPrefix(a, "./") || strings.HasPrefix(a, "/") || strings.HasPrefix(a, "file:"):
			return nil, "pip installs local code (" + a + ")"
		case a == "-f" || a == "--find-links" || strings.HasPrefix(a, "--find-links="):
			dir, ok := strings.CutPrefix(a, "--find-links=")
			if !ok {
				dir, _ = c.Arg(i + 1)
				i++
			}
			if localLinks(dir) {
				return nil, "pip finds packages in the local folder " + dir + ", which comes with the source"
			}
		}
	}
	return files, ""
}

// localLinks reports a --find-links location on the file system rather
// than a URL.
func localLinks(loc string) bool {
	return !strings.Contains(loc, "://") || strings.HasPrefix(loc, "file:")
}

// requirementFiles reads a requirements file from the context and returns
// it with the files it includes; local-path requirements make the move
// unsafe.
func requirementFiles(p *Pass, name, srcDir string, depth int) ([]string, string) {
	if depth > 5 {
		return nil, "requirement files include each other too deeply"
	}
	data, err := p.Context.ReadHead(name, 1<<20)
	if err != nil || p.Context.Ignored(name) {
		return nil, name + " is not in the build context"
	}
	out := []string{name}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(line, "#") {
			continue
		}
		switch f := fields[0]; {
		case (f == "-r" || f == "-c" || f == "--requirement" || f == "--constraint") && len(fields) > 1:
			more, why := requirementFiles(p, path.Join(path.Dir(name), fields[1]), srcDir, depth+1)
			if why != "" {
				return nil, why
			}
			out = append(out, more...)
		case f == "-e" || f == "--editable" || strings.HasPrefix(f, ".") || strings.HasPrefix(f, "/") || strings.HasPrefix(f, "file:"):
			return nil, name + " installs local code (" + f + ")"
		case (f == "-f" || f == "--find-links") && len(fields) > 1 && localLinks(fields[1]),
			strings.HasPrefix(f, "--find-links=") && localLinks(strings.TrimPrefix(f, "--find-links=")):
			return nil, name + " finds packages in a local folder (" + line + "), which comes with the source"
		}
	}
	return out, ""
}

// lifecycleScript returns an npm install-time script of package.json.
func lifecycleScript(p *Pass, pkg string) string {
	data, err := p.Context.ReadHead(pkg, 1<<20)
	if err != nil {
		return ""
	}
	var m struct {
		Scripts map[string]string `json:"scripts"`
	}
	if json.Unmarshal(data, &m) != nil {
		return "unreadable"
	}
	for _, s := range []string{"preinstall", "install", "postinstall", "prepare"} {
		if _, ok := m.Scripts[s]; ok {
			return s
		}
	}
	return ""
}

func gemfileHasPath(p *Pass, gemfile string) bool {
	data, err := p.Context.ReadHead(gemfile, 1<<20)
	return err == nil && (bytes.Contains(data, []byte("path:")) || bytes.Contains(data, []byte(":path")) || bytes.Contains(data, []byte("gemspec")))
}

func replacesLocally(p *Pass, gomod string) bool {
	data, err := p.Context.ReadHead(gomod, 1<<20)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "=>") {
			target := strings.TrimSpace(line[strings.Index(line, "=>")+2:])
			if strings.HasPrefix(target, ".") || strings.HasPrefix(target, "/") {
				return true
			}
		}
	}
	return false
}

// depsFix copies the manifests and runs the install before the full COPY.
func depsFix(f *dockerfile.File, cp, run *dockerfile.Instruction, srcDir, dest string, manifests []string, addRun string) *SuggestedFix {
	style := f.Style
	copyLine := ""
	for _, group := range manifestCopies(srcDir, dest, manifests) {
		args := append(append(append([]string{}, cp.Flags()...), group.files...), group.dest)
		copyLine += style.Instruction("COPY", strings.Join(args, " ")) + style.EOL
	}
	at := cp.Start
	var edits []dockerfile.Edit
	if addRun != "" {
		edits = append(edits, dockerfile.Edit{Start: at, End: at, New: copyLine + style.Instruction("RUN", addRun) + style.EOL})
		return &SuggestedFix{
			Description: "copy " + strings.Join(manifests, " and ") + " and run " + addRun + " before the source, so module downloads stay cached",
			Edits:       edits,
		}
	}
	// The RUN moves with the comment lines directly above it.
	runStart := run.Start
	for n := run.Line - 1; n > cp.EndLine && strings.HasPrefix(strings.TrimSpace(f.LineText(n)), "#"); n-- {
		runStart = f.LineStart(n)
	}
	runText := string(f.Src[runStart:run.End])
	if !strings.HasSuffix(runText, "\n") {
		runText += style.EOL
	}
	edits = append(edits,
		dockerfile.Edit{Start: at, End: at, New: copyLine + runText},
		dockerfile.Edit{Start: runStart, End: run.End},
	)
	what := "run the install"
	if len(manifests) > 0 {
		what = "copy " + strings.Join(manifests, ", ") + " and install"
	}
	return &SuggestedFix{
		Description: what + " before copying the rest of the source, so dependency layers stay cached",
		Edits:       edits,
	}
}

// manifestCopy is one COPY of manifests that share a destination folder.
type manifestCopy struct {
	files []string
	dest  string
}

// manifestCopies groups the manifests (context paths under srcDir) by the
// folder the full `COPY srcDir dest` puts them in, so that the install,
// moved before that COPY, finds each at the path it reads:
// app/requirements.txt copied with the rest of "." to "./" must land in
// ./app/, not in ./.
func manifestCopies(srcDir, dest string, manifests []string) []manifestCopy {
	base := dest
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	var out []manifestCopy
	index := map[string]int{}
	for _, m := range manifests {
		rel := strings.TrimPrefix(m, srcDir+"/")
		if srcDir == "." {
			rel = m
		}
		d := base
		if dir := path.Dir(rel); dir != "." {
			d = base + dir + "/"
		}
		i, ok := index[d]
		if !ok {
			i = len(out)
			index[d] = i
			out = append(out, manifestCopy{dest: d})
		}
		out[i].files = append(out[i].files, m)
	}
	return out
}

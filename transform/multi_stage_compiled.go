package transform

import (
	"path"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/dockerfile"
)

// Compiled languages (Go, Rust, Java, .NET) share one shape: everything up
// to the build stays in the builder, and the runtime receives the build's
// output at the same path, so CMD and ENTRYPOINT keep working unchanged.

// compiledBuild is what a planner found about the build step.
type compiledBuild struct {
	index   int      // chunk index of the RUN that builds
	outputs []string // absolute paths in the builder to copy, as COPY sources
	// needsShell is set when the runtime must run shell-form commands or
	// RUN steps, which rules out distroless.
	needsShell bool
}

// runtimeNeedsShell reports instructions after the build that need a shell
// in the runtime: RUN steps, and shell-form CMD, ENTRYPOINT or HEALTHCHECK.
func (s *splitter) runtimeNeedsShell(after int) bool {
	for _, c := range s.chunks[after+1:] {
		switch c.ins.Keyword {
		case "run":
			return true
		case "cmd", "entrypoint":
			if !c.ins.IsJSON() {
				return true
			}
			if args := c.ins.Args(); len(args) > 0 && (path.Base(args[0]) == "sh" || path.Base(args[0]) == "bash") {
				return true
			}
		case "healthcheck":
			return true
		}
	}
	return false
}

// compiledBlockers explains what after the build would need more than the
// build's outputs in the runtime: RUN steps (other than system package
// installs) and commands that run files the build did not produce.
func (s *splitter) compiledBlockers(b compiledBuild) string {
	wd := s.workdirAt(b.index)
	for _, c := range s.chunks[b.index+1:] {
		switch c.ins.Keyword {
		case "workdir":
			wd = workdirAfter(wd, c.ins)
		case "run":
			if !installsSystemPackages(c.ins) {
				return "the RUN on line " + itoaLine(c.ins) + " after the build may need the source or the toolchain"
			}
		case "cmd", "entrypoint":
			args := c.ins.Args()
			if !c.ins.IsJSON() && len(args) > 0 {
				args = strings.Fields(args[0])
			}
			if len(args) == 0 || !strings.Contains(args[0], "/") {
				continue
			}
			prog := joinWorkdir(wd, args[0])
			if !producedBy(prog, b.outputs) {
				return strings.ToUpper(c.ins.Keyword) + " on line " + itoaLine(c.ins) + " runs " + args[0] + ", which the build does not produce"
			}
		}
	}
	return ""
}

// producedBy reports whether p is one of the outputs or inside one.
func producedBy(p string, outputs []string) bool {
	for _, out := range outputs {
		if ok, _ := path.Match(out, p); ok || underDir(p, out) || underDir(p, path.Dir(out)) && strings.ContainsAny(path.Base(out), "*?[") {
			return true
		}
	}
	return false
}

// planCompiled assigns roles for a compiled build and inserts the copies of
// its outputs.
func (s *splitter) planCompiled(b compiledBuild, runtime string, what string) *splitPlan {
	runtime = s.pinned(runtime)
	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, b.index)
	for i := 1; i <= b.index; i++ {
		switch s.chunks[i].ins.Keyword {
		case "run", "copy", "add":
			sp.roles[i] = toBuilder
		}
	}
	style := s.f.Style
	var copies []string
	for _, out := range b.outputs {
		dest := out
		if strings.ContainsAny(path.Base(out), "*?[") {
			dest = path.Dir(out) + "/"
		}
		copies = append(copies, style.Instruction("COPY", "--from="+sp.builderName+" "+out+" "+dest))
	}
	sp.runtimeBefore[b.index+1] = append(copies, sp.runtimeBefore[b.index+1]...)
	sp.summary = "split into a builder that " + what + " and a " + runtime + " runtime that receives only " +
		strings.Join(b.outputs, ", ")
	return sp
}

// planGo builds a static binary (CGO_ENABLED=0, -trimpath, stripped) and
// runs it on distroless static as nonroot; with cgo, on distroless cc; when
// the runtime needs a shell, on Debian slim.
func planGo(s *splitter) (*splitPlan, string) {
	idx, build := -1, (*dockerfile.Command)(nil)
	for i, cmd := range s.runCommands() {
		if sub, _, ok := subcommand(cmd); cmd.Name() == "go" && ok && sub == "build" {
			idx, build = i, cmd
		}
	}
	if idx < 0 {
		return nil, ""
	}
	workdir, ok := s.commandDir(idx, build)
	if !ok {
		return nil, "the go build on line " + itoaLine(s.chunks[idx].ins) + " runs in a folder harden cannot follow (cd)"
	}
	if _, ok := flagValue(build, "-C"); ok {
		return nil, "the go build on line " + itoaLine(s.chunks[idx].ins) + " changes folder with -C"
	}
	out := goOutput(s, build, workdir)
	if out == "" {
		return nil, "the go build on line " + itoaLine(s.chunks[idx].ins) + " has no -o and harden cannot tell the binary's name"
	}
	cgo := s.p.facts().Go != nil && s.p.facts().Go.CGO || goCgoRequested(s, build, idx)
	alpine := strings.Contains(baseimage.Parse(s.ref).Tag, "alpine")
	b := compiledBuild{index: idx, outputs: []string{out}, needsShell: s.runtimeNeedsShell(idx)}
	b.outputs = append(b.outputs, s.assetFolders(idx)...)
	if why := s.compiledBlockers(b); why != "" {
		return nil, why
	}
	var runtime, why string
	switch {
	case cgo && alpine:
		return nil, "the binary uses cgo and is built against musl; harden will not guess a matching runtime"
	case b.needsShell:
		runtime, why = imageOrWhy(s.p.Images.Runtime(baseimage.Slim, "debian:bookworm", ""))
	case cgo:
		runtime, why = imageOrWhy(s.p.Images.Runtime(baseimage.Libc, s.ref, ""))
	default:
		runtime, why = imageOrWhy(s.p.Images.Runtime(baseimage.Static, s.ref, ""))
	}
	if why != "" {
		return nil, why
	}
	sp := s.planCompiled(b, runtime, "compiles the Go binary")
	if text, changed := goBuildFlags(s.chunks[idx].ins, build, cgo); changed {
		sp.builderText[idx] = text
		sp.summary += "; the build adds " + goFlagNote(cgo)
	}
	return sp, ""
}

// imageOrWhy turns Mapping.Runtime's (ref, ok, why) into (ref, why).
func imageOrWhy(ref string, ok bool, why string) (string, string) {
	if !ok {
		return "", why
	}
	return ref, ""
}

// goOutput is the absolute path of the binary a go build writes.
func goOutput(s *splitter, c *dockerfile.Command, workdir string) string {
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			continue
		}
		var out string
		switch {
		case a == "-o" && i+1 < c.NArgs():
			out, lit = c.Arg(i + 1)
			if !lit {
				return ""
			}
		case strings.HasPrefix(a, "-o="):
			out = strings.TrimPrefix(a, "-o=")
		default:
			continue
		}
		if strings.HasSuffix(out, "/") {
			return "" // a folder of binaries
		}
		if !path.IsAbs(out) {
			out = path.Join(workdir, out)
		}
		return out
	}
	if facts := s.p.facts(); facts.Go != nil && facts.Go.Binary != "" && len(positionalArgs(c, 1)) <= 1 {
		return path.Join(workdir, facts.Go.Binary)
	}
	return ""
}

// goCgoRequested reports CGO_ENABLED=1 set for the build.
func goCgoRequested(s *splitter, c *dockerfile.Command, idx int) bool {
	if c.Call != nil {
		for _, a := range c.Call.Assigns {
			if a.Name != nil && a.Name.Value == "CGO_ENABLED" && a.Value != nil && a.Value.Lit() == "1" {
				return true
			}
		}
	}
	for _, ch := range s.chunks[:idx] {
		if ch.ins.Keyword == "env" && strings.Contains(ch.ins.Node.Original, "CGO_ENABLED=1") {
			return true
		}
	}
	return false
}

// goBuildFlags adds CGO_ENABLED=0 (unless cgo is used or the variable is
// set), -trimpath and stripping flags to the go build command.
func goBuildFlags(ins *dockerfile.Instruction, c *dockerfile.Command, cgo bool) (string, bool) {
	var edits []dockerfile.Edit
	setsCgo := false
	if c.Call != nil {
		for _, a := range c.Call.Assigns {
			if a.Name != nil && a.Name.Value == "CGO_ENABLED" {
				setsCgo = true
			}
		}
	}
	if !cgo && !setsCgo && !envMentions(ins, "CGO_ENABLED") {
		e, err := c.InsertBefore("CGO_ENABLED=0 ")
		if err == nil {
			edits = append(edits, e)
		}
	}
	_, at, _ := subcommand(c)
	var flags []string
	if !c.HasArg("-trimpath") {
		flags = append(flags, "-trimpath")
	}
	if !c.HasArg("-ldflags") {
		flags = append(flags, `-ldflags="-s -w"`)
	}
	if len(flags) > 0 {
		edits = append(edits, c.InsertAfter(at, flags...))
	}
	if len(edits) == 0 {
		return "", false
	}
	return applyToInstruction(ins, edits)
}

func goFlagNote(cgo bool) string {
	if cgo {
		return "-trimpath and stripping"
	}
	return "CGO_ENABLED=0, -trimpath and stripping"
}

func envMentions(ins *dockerfile.Instruction, name string) bool {
	f := ins.File()
	for _, other := range f.Stages[ins.Stage].Instructions {
		if other.Keyword == "env" && other.Index < ins.Index && strings.Contains(other.Node.Original, name) {
			return true
		}
	}
	return false
}

// applyToInstruction applies file-offset edits to one instruction's text
// and returns the new text without its final line terminator.
func applyToInstruction(ins *dockerfile.Instruction, edits []dockerfile.Edit) (string, bool) {
	src := ins.File().Src
	text := src[ins.Start:ins.ContentEnd()]
	local := make([]dockerfile.Edit, len(edits))
	for i, e := range edits {
		if e.Start < ins.Start || e.End > ins.ContentEnd() {
			return "", false
		}
		local[i] = dockerfile.Edit{Start: e.Start - ins.Start, End: e.End - ins.Start, New: e.New}
	}
	out, err := dockerfile.Apply(text, local)
	if err != nil {
		return "", false
	}
	return string(out), true
}

// runtimeAssetDirs are folders that apps commonly read at run time.
var runtimeAssetDirs = []string{"templates", "static", "public", "assets", "web", "views", "config", "configs", "migrations", "locales", "i18n"}

// assetFolders lists asset folders in the build context that the builder
// copied in, at the paths the copies put them, so the runtime has them
// where the app found them before. Folders a Go file embeds are already
// inside the binary.
func (s *splitter) assetFolders(idx int) []string {
	ctx := s.p.Context
	if ctx == nil {
		return nil
	}
	var out []string
	for _, dir := range runtimeAssetDirs {
		if !ctx.Sent(dir) || s.embeds(dir) {
			continue
		}
		if at, ok := s.copiedTo(idx, dir); ok {
			out = append(out, at)
		}
	}
	return out
}

// embeds reports whether a Go file of the context embeds dir.
func (s *splitter) embeds(dir string) bool {
	files, _ := s.p.Context.Glob("*.go")
	more, _ := s.p.Context.Glob("*/*.go")
	for _, f := range append(files, more...) {
		head, err := s.p.Context.ReadHead(f, 256<<10)
		if err == nil && strings.Contains(string(head), "//go:embed") && strings.Contains(string(head), dir) {
			return true
		}
	}
	return false
}

// planRust builds in release mode and runs the binary on distroless cc, or
// on Debian slim when the runtime needs a shell.
func planRust(s *splitter) (*splitPlan, string) {
	idx, install := -1, false
	var build *dockerfile.Command
	for i, cmd := range s.runCommands() {
		if sub, _, ok := subcommand(cmd); cmd.Name() == "cargo" && ok && (sub == "build" || sub == "install") {
			idx, build, install = i, cmd, sub == "install"
		}
	}
	if idx < 0 {
		return nil, ""
	}
	facts := s.p.facts()
	bin := ""
	if facts.Rust != nil {
		if len(facts.Rust.Bins) == 1 {
			bin = facts.Rust.Bins[0]
		} else if len(facts.Rust.Bins) == 0 && facts.Rust.Package != "" {
			bin = facts.Rust.Package
		}
	}
	if b, lit := flagValue(build, "--bin"); lit && b != "" {
		bin = b
	}
	if bin == "" {
		return nil, "harden cannot tell which binary cargo builds (no single [[bin]] or package name)"
	}
	workdir := s.workdirAt(idx)
	if dir, ok := s.commandDir(idx, build); !ok || dir != workdir {
		return nil, "cargo builds in another folder than the WORKDIR (cd), where the target folder depends on the workspace"
	}
	if _, ok := flagValue(build, "--manifest-path"); ok {
		return nil, "cargo builds another folder's crate (--manifest-path), where the target folder depends on the workspace"
	}
	var out string
	switch {
	case install:
		out = "/usr/local/cargo/bin/" + bin
		if root, ok := flagValue(build, "--root"); ok {
			out = path.Join(root, "bin", bin)
		}
	case build.HasArg("--release", "-r"):
		out = path.Join(workdir, "target/release", bin)
	default:
		return nil, "cargo builds in debug mode; build with --release first"
	}
	if envMentions(s.chunks[idx].ins, "CARGO_TARGET_DIR") {
		return nil, "CARGO_TARGET_DIR moves the binary where harden cannot follow"
	}
	b := compiledBuild{index: idx, outputs: []string{out}, needsShell: s.runtimeNeedsShell(idx)}
	if why := s.compiledBlockers(b); why != "" {
		return nil, why
	}
	var runtime, why string
	if b.needsShell {
		runtime, why = imageOrWhy(s.p.Images.Runtime(baseimage.Slim, "debian:bookworm", ""))
	} else {
		runtime, why = imageOrWhy(s.p.Images.Runtime(baseimage.Libc, s.ref, ""))
	}
	if why != "" {
		return nil, why
	}
	return s.planCompiled(b, runtime, "compiles the Rust binary"), ""
}

// flagValue returns the value of --name VALUE or --name=VALUE.
func flagValue(c *dockerfile.Command, name string) (string, bool) {
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			continue
		}
		if a == name && i+1 < c.NArgs() {
			return c.Arg(i + 1)
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// planJava builds with Maven or Gradle on the JDK image and runs the
// archive on the JRE of the same Java release.
func planJava(s *splitter) (*splitPlan, string) {
	idx, tool := -1, ""
	var build *dockerfile.Command
	for i, cmd := range s.runCommands() {
		switch cmd.Name() {
		case "mvn", "mvnw":
			if cmd.HasArg("package", "install", "verify") {
				idx, tool, build = i, "maven", cmd
			}
		case "gradle", "gradlew":
			if cmd.HasArg("build", "assemble", "bootJar", "jar", "shadowJar", "installDist") {
				idx, tool, build = i, "gradle", cmd
			}
		}
	}
	if idx < 0 {
		return nil, ""
	}
	workdir, why := javaProjectDir(s, idx, build)
	if why != "" {
		return nil, why
	}
	for _, c := range s.chunks[idx+1:] {
		if (c.ins.Keyword == "cmd" || c.ins.Keyword == "entrypoint") && (strings.Contains(c.ins.Node.Original, "mvn") || strings.Contains(c.ins.Node.Original, "gradle")) {
			return nil, "the app is started through the build tool, which the JRE does not have"
		}
	}
	facts := s.p.facts()
	artifact := ""
	if facts.Java != nil && facts.Java.Artifact != "" {
		artifact = facts.Java.Artifact
	} else if tool == "maven" {
		artifact = "target/*.jar"
	} else {
		artifact = "build/libs/*.jar"
	}
	if strings.HasSuffix(artifact, ".war") {
		return nil, "the build makes a WAR, which needs a servlet container rather than a JRE"
	}
	release := ""
	if facts.Java != nil {
		release = facts.Java.Release
	}
	runtime, why := imageOrWhy(s.p.Images.Runtime(baseimage.JRE, s.ref, release))
	if why != "" {
		return nil, why
	}
	b := compiledBuild{index: idx, outputs: []string{path.Join(workdir, artifact)}}
	if why := s.compiledBlockers(b); why != "" {
		return nil, why
	}
	return s.planCompiled(b, runtime, "builds the application archive with "+tool), ""
}

// planDotNet publishes with the SDK and runs on the ASP.NET (web) or .NET
// runtime image of the same version.
func planDotNet(s *splitter) (*splitPlan, string) {
	idx, out := -1, ""
	var publish *dockerfile.Command
	for i, cmd := range s.runCommands() {
		if sub, _, ok := subcommand(cmd); cmd.Name() == "dotnet" && ok && sub == "publish" {
			idx, publish = i, cmd
			out = ""
			o, lit := flagValue(cmd, "-o")
			if !lit || o == "" {
				o, lit = flagValue(cmd, "--output")
			}
			if lit {
				out = o
			}
		}
	}
	if idx < 0 {
		for _, c := range s.chunks {
			if (c.ins.Keyword == "cmd" || c.ins.Keyword == "entrypoint") && strings.Contains(c.ins.Node.Original, "dotnet run") {
				return nil, "the app is started with dotnet run, which needs the SDK; publish it and run the published DLL"
			}
		}
		return nil, ""
	}
	if out == "" {
		return nil, "dotnet publish has no -o, so harden cannot tell where the output goes"
	}
	if !path.IsAbs(out) {
		dir, ok := s.commandDir(idx, publish)
		if !ok {
			return nil, "dotnet publish on line " + itoaLine(s.chunks[idx].ins) + " runs in a folder harden cannot follow (cd)"
		}
		out = path.Join(dir, out)
	}
	kind := baseimage.ASPNet
	if f := s.p.facts(); f.DotNet != nil && f.DotNet.SDK != "" && f.DotNet.SDK != "Microsoft.NET.Sdk.Web" {
		kind = baseimage.DotNetRuntime
	}
	runtime, why := imageOrWhy(s.p.Images.Runtime(kind, s.ref, s.version("dotnet")))
	if why != "" {
		return nil, why
	}
	b := compiledBuild{index: idx, outputs: []string{out}}
	if why := s.compiledBlockers(b); why != "" {
		return nil, why
	}
	return s.planCompiled(b, runtime, "publishes the .NET app"), ""
}

// commandDir is the folder a build command runs in: the WORKDIR in force,
// changed by the cd commands before it in its RUN. ok is false when a cd
// is computed at build time, goes back (cd -, popd) or sits inside other
// shell syntax, where harden cannot follow it.
func (s *splitter) commandDir(idx int, cmd *dockerfile.Command) (string, bool) {
	dir := s.workdirAt(idx)
	for _, c := range cmd.Script.Commands {
		if c == cmd {
			break
		}
		switch c.Name() {
		case "cd":
			arg, lit := c.Arg(1)
			if c.Chain == nil || c.NArgs() != 2 || !lit || arg == "" || arg == "-" || strings.HasPrefix(arg, "~") {
				return "", false
			}
			dir = joinWorkdir(dir, arg)
		case "pushd", "popd":
			return "", false
		}
	}
	return dir, true
}

// copiedTo is where the last COPY before chunk idx that brings in the
// context path rel (a file or folder) puts it in the image, following
// COPY's rules: a folder source's contents go under the destination, a
// file goes into a destination folder or becomes the destination.
func (s *splitter) copiedTo(idx int, rel string) (string, bool) {
	for i := idx - 1; i > 0; i-- {
		cp := s.chunks[i].ins
		if cp.Keyword != "copy" && cp.Keyword != "add" {
			continue
		}
		if _, from := cp.Flag("from"); from {
			continue
		}
		args := cp.Args()
		if len(args) < 2 {
			continue
		}
		srcs, dest := args[:len(args)-1], args[len(args)-1]
		wd := s.workdirAt(i)
		destAbs := joinWorkdir(wd, dest)
		for _, src := range srcs {
			clean := strings.TrimPrefix(path.Clean("/"+src), "/")
			switch {
			case clean == "" || clean == ".":
				return path.Join(destAbs, rel), true
			case strings.ContainsAny(clean, "*?["):
				if ok, _ := path.Match(clean, rel); ok {
					return path.Join(destAbs, path.Base(rel)), true
				}
			case clean == rel:
				if s.p.Context != nil && s.p.Context.Exists(rel) && !isContextFolder(s, rel) &&
					!strings.HasSuffix(dest, "/") && len(srcs) == 1 && destAbs != wd {
					return destAbs, true // a file copied to a new name
				}
				if isContextFolder(s, rel) {
					return destAbs, true
				}
				return path.Join(destAbs, path.Base(rel)), true
			case strings.HasPrefix(rel, clean+"/"):
				return path.Join(destAbs, strings.TrimPrefix(rel, clean+"/")), true
			}
		}
	}
	return "", false
}

func isContextFolder(s *splitter, rel string) bool {
	if s.p.Context == nil {
		return false
	}
	inside, _ := s.p.Context.Glob(path.Join(rel, "*"))
	return len(inside) > 0
}

// javaProjectDir is the image folder the Maven or Gradle build runs its
// project in: the command's folder, moved by mvn -f / --file or gradle -p /
// --project-dir. Detection reads the artifact's path relative to the app's
// folder in the context, so that folder must be the one the COPY put at
// the project folder.
func javaProjectDir(s *splitter, idx int, build *dockerfile.Command) (string, string) {
	line := itoaLine(s.chunks[idx].ins)
	dir, ok := s.commandDir(idx, build)
	if !ok {
		return "", "the build on line " + line + " runs in a folder harden cannot follow (cd)"
	}
	for _, flag := range []string{"-f", "--file", "-p", "--project-dir"} {
		v, lit := flagValue(build, flag)
		if !lit || v == "" {
			if build.HasArg(flag) {
				return "", "the build on line " + line + " names its project with a variable"
			}
			continue
		}
		dir = joinWorkdir(dir, v)
		if strings.HasSuffix(v, ".xml") || strings.HasSuffix(v, ".gradle") || strings.HasSuffix(v, ".kts") {
			dir = path.Dir(dir)
		}
	}
	if root := s.p.facts().Root; s.p.facts().Java != nil && root != "" {
		if at, ok := s.copiedTo(idx, root); ok && at != dir {
			return "", "the build on line " + line + " runs in " + dir + ", but the project harden read (" + root + ") is copied to " + at
		}
	}
	return dir, ""
}

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
	workdir := s.workdirAt(idx)
	out := goOutput(s, build, workdir)
	if out == "" {
		return nil, "the go build on line " + itoaLine(s.chunks[idx].ins) + " has no -o and harden cannot tell the binary's name"
	}
	cgo := s.p.facts().Go != nil && s.p.facts().Go.CGO || goCgoRequested(s, build, idx)
	alpine := strings.Contains(baseimage.Parse(s.ref).Tag, "alpine")
	b := compiledBuild{index: idx, outputs: []string{out}, needsShell: s.runtimeNeedsShell(idx)}
	b.outputs = append(b.outputs, s.assetFolders(idx, workdir)...)
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
// copied into its working directory, so the runtime gets them beside the
// binary. Folders a Go file embeds are already inside the binary.
func (s *splitter) assetFolders(idx int, workdir string) []string {
	ctx := s.p.Context
	if ctx == nil {
		return nil
	}
	var out []string
	for _, dir := range runtimeAssetDirs {
		if !ctx.Sent(dir) || s.embeds(dir) {
			continue
		}
		if copiedBefore(s.f, s.chunks[idx].ins, dir+"/x") {
			out = append(out, path.Join(workdir, dir))
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
	for i, cmd := range s.runCommands() {
		switch cmd.Name() {
		case "mvn", "mvnw":
			if cmd.HasArg("package", "install", "verify") {
				idx, tool = i, "maven"
			}
		case "gradle", "gradlew":
			if cmd.HasArg("build", "assemble", "bootJar", "jar", "shadowJar", "installDist") {
				idx, tool = i, "gradle"
			}
		}
	}
	if idx < 0 {
		return nil, ""
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
	workdir := s.workdirAt(idx)
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
	for i, cmd := range s.runCommands() {
		if sub, _, ok := subcommand(cmd); cmd.Name() == "dotnet" && ok && sub == "publish" {
			idx = i
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
	workdir := s.workdirAt(idx)
	if !path.IsAbs(out) {
		out = path.Join(workdir, out)
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

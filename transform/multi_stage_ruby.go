package transform

import (
	"path"
	"strconv"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/servermode"
	"github.com/harden-dev/harden/toolversions"
)

// rubyGems is where the official ruby images install gems (GEM_HOME and
// BUNDLE_PATH point there).
const rubyGems = "/usr/local/bundle"

// planRuby runs bundle install in a builder on the original image and runs
// the app on the slim image of the same Ruby with the installed gems and
// the runtime libraries their extensions link. The development and test
// groups are left out unless the image runs Rails or a Rack server in
// development, which loads them.
func planRuby(s *splitter) (*splitPlan, string) {
	lastInstall := -1
	installs := map[int]bool{}
	var installCmds []*dockerfile.Command
	groupsSet := ""
	for i, cmd := range s.runCommands() {
		if cmd.Name() != "bundle" {
			continue
		}
		switch sub := firstSub(cmd); sub {
		case "install", "":
			installs[i], lastInstall = true, i
			installCmds = append(installCmds, cmd)
			if cmd.HasArg("--without") || argWithPrefix(cmd, "--without=") {
				groupsSet = "bundle install --without on line " + itoaLine(s.chunks[i].ins)
			}
		case "config":
			if words := positionalWords(cmd); containsWord(strings.Join(words, " "), "without") {
				groupsSet = "bundle config on line " + itoaLine(s.chunks[i].ins)
			}
		}
	}
	if lastInstall < 0 || isSmallImage(s.ref) && !s.installsBuildPackages() {
		return nil, ""
	}
	for _, name := range []string{"BUNDLE_PATH", "GEM_HOME", "BUNDLE_DEPLOYMENT"} {
		if s.setsEnv(name) {
			return nil, name + " moves the gems where harden cannot follow them"
		}
	}
	for i := range installs {
		if strings.Contains(s.chunks[i].ins.Node.Original, "--path") || strings.Contains(s.chunks[i].ins.Node.Original, "--deployment") {
			return nil, "bundle install on line " + itoaLine(s.chunks[i].ins) + " installs into the app folder"
		}
	}
	// bundle config set path (or deployment) moves the gems into the app
	// folder and writes .bundle/config there, which the runtime would not get.
	for _, c := range s.runCommands() {
		if c.Name() != "bundle" || firstSub(c) != "config" {
			continue
		}
		for j := 0; j < c.NArgs(); j++ {
			if a, lit := c.Arg(j); lit && (a == "path" || a == "deployment" || strings.HasPrefix(a, "path=") || a == "BUNDLE_PATH") {
				return nil, "bundle config on line " + strconv.Itoa(c.Line()) + " sets " + a + ", which puts the gems in the app folder where harden cannot follow them"
			}
		}
	}
	if why := removedBundlerFlags(s, installCmds); why != "" {
		return nil, why
	}
	runtime, why := s.runtimeImage(baseimage.Slim, s.version("ruby"))
	if why != "" {
		return nil, why
	}
	alpine := strings.Contains(baseimage.Parse(s.ref).Tag, "alpine")
	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, lastInstall)
	var libraries []string
	for i := 1; i <= lastInstall; i++ {
		ins := s.chunks[i].ins
		switch {
		case installs[i]:
			sp.roles[i] = toBuilder
		case ins.Keyword == "run" && installsSystemPackages(ins):
			before := len(sp.runtimeBefore[i])
			if why := s.systemPackagesForRuntime(sp, i, alpine); why != "" {
				return nil, why
			}
			if len(sp.runtimeBefore[i]) > before {
				libraries = append(libraries, s.runtimePackagesOf(ins)...)
			}
		}
	}
	style := s.f.Style
	mode := imageRunMode(s.p, appRoot(s.p))
	groups, devReason := "without the development and test groups", ""
	switch {
	case s.setsEnv("BUNDLE_WITHOUT"):
		groups = "with the groups BUNDLE_WITHOUT leaves out"
	case groupsSet != "":
		// Bundler remembers the setting in BUNDLE_APP_CONFIG, which is the
		// gem folder the runtime receives; an ENV would not override it.
		groups = "with the groups " + groupsSet + " leaves out"
	case mode.Mode == servermode.Development:
		groups, devReason = "with every group", mode.Reason()
	default:
		without := style.Instruction("ENV", `BUNDLE_WITHOUT="development:test"`)
		first := firstKey(installs)
		sp.builderBefore[first] = append(sp.builderBefore[first], without)
		sp.runtimeBefore[1] = append(sp.runtimeBefore[1], without)
	}
	handoff := lastInstall + 1
	handoffLines := []string{style.Instruction("COPY", "--from="+sp.builderName+" "+rubyGems+" "+rubyGems)}
	lockNote := ""
	if lock := builderMadeLockfile(s, lastInstall); lock != "" {
		handoffLines = append(handoffLines, style.Instruction("COPY", "--from="+sp.builderName+" "+lock+" "+lock))
		lockNote = " and the Gemfile.lock that bundle install wrote"
	}
	sp.runtimeBefore[handoff] = append(handoffLines, sp.runtimeBefore[handoff]...)
	native, why := s.addNativeLibraries(sp, "gem", handoff)
	if why != "" {
		return nil, why
	}
	received := []string{"the gems" + lockNote}
	if len(libraries) > 0 {
		received = append(received, "installs the runtime packages "+strings.Join(libraries, ", "))
	}
	if native != "" {
		received = append(received, "installs "+native)
	}
	sp.summary = "split into a builder that runs bundle install " + groups + " and a " + runtime +
		" runtime that receives " + joinClauses(received)
	if devReason != "" {
		sp.summary += "; every group is kept because " + devReason
	}
	return sp, ""
}

// argWithPrefix reports an argument that starts with prefix.
func argWithPrefix(c *dockerfile.Command, prefix string) bool {
	for i := 1; i < c.NArgs(); i++ {
		if a, _ := c.Arg(i); strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return false
}

// removedBundlerFlags explains a bundle install flag the image's Bundler no
// longer has: Bundler 4 (Ruby 4.0 images) removed the options it used to
// remember across runs.
func removedBundlerFlags(s *splitter, installs []*dockerfile.Command) string {
	for _, c := range installs {
		b, ok := toolAt(s.f, c, toolversions.Bundler)
		if !ok || b.AtLeast("4") != toolversions.Yes {
			continue
		}
		if locked := lockedBundler(s); locked != "" && !strings.HasPrefix(locked, "4.") && locked != "4" {
			// Bundler 2.3 and later switch to the version the lockfile
			// names, which still has the flags.
			continue
		}
		for _, flag := range []string{"--without", "--with", "--frozen", "--system", "--no-prune", "--clean"} {
			if c.HasArg(flag) || argWithPrefix(c, flag+"=") {
				return "bundle install " + flag + " on line " + itoaLine(c.Script.Ins) + " is an option Bundler 4 removed (" + b.Source +
					"): set it with ENV BUNDLE_" + strings.ToUpper(strings.TrimPrefix(flag, "--")) + " or bundle config set instead"
			}
		}
	}
	return ""
}

// builderMadeLockfile returns the Gemfile.lock path that bundle install
// writes in the builder when the build context has none, so the runtime
// can receive it; "" when the context has one (COPY brings it) or harden
// cannot tell.
func builderMadeLockfile(s *splitter, lastInstall int) string {
	ctx := s.p.Context
	if ctx == nil {
		return ""
	}
	root := appRoot(s.p)
	if ctx.Sent(path.Join(root, "Gemfile.lock")) || !ctx.Exists(path.Join(root, "Gemfile")) {
		return ""
	}
	wd := s.workdirAt(lastInstall)
	if wd == "/" {
		return ""
	}
	return path.Join(wd, "Gemfile.lock")
}

// joinClauses joins "a", "b" and "c" as "a, b and c".
func joinClauses(parts []string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// lockedBundler is the Bundler version Gemfile.lock was written with (its
// BUNDLED WITH section), "" when there is none.
func lockedBundler(s *splitter) string {
	if s.p.Context == nil {
		return ""
	}
	data, err := s.p.Context.ReadHead(path.Join(appRoot(s.p), "Gemfile.lock"), 1<<20)
	if err != nil {
		return ""
	}
	_, rest, ok := strings.Cut(string(data), "\nBUNDLED WITH\n")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	return strings.TrimSpace(v)
}

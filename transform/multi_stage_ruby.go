package transform

import (
	"strings"

	"github.com/harden-dev/harden/baseimage"
)

// rubyGems is where the official ruby images install gems (GEM_HOME and
// BUNDLE_PATH point there).
const rubyGems = "/usr/local/bundle"

// planRuby runs bundle install without the development and test groups in
// a builder on the original image, and runs the app on the slim image of
// the same Ruby with the installed gems and the libraries they link.
func planRuby(s *splitter) (*splitPlan, string) {
	lastInstall := -1
	installs := map[int]bool{}
	for i, cmd := range s.runCommands() {
		if cmd.Name() == "bundle" && (firstSub(cmd) == "install" || firstSub(cmd) == "") {
			installs[i], lastInstall = true, i
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
	runtime, why := s.runtimeImage(baseimage.Slim, s.version("ruby"))
	if why != "" {
		return nil, why
	}
	alpine := strings.Contains(baseimage.Parse(s.ref).Tag, "alpine")
	sp := s.newPlan("builder")
	sp.runtimeImage = runtime
	s.defaultRoles(sp, lastInstall)
	for i := 1; i <= lastInstall; i++ {
		ins := s.chunks[i].ins
		switch {
		case installs[i]:
			sp.roles[i] = toBuilder
		case ins.Keyword == "run" && installsSystemPackages(ins):
			if why := s.systemPackagesForRuntime(sp, i, alpine); why != "" {
				return nil, why
			}
		}
	}
	style := s.f.Style
	without := style.Instruction("ENV", `BUNDLE_WITHOUT="development:test"`)
	if !s.setsEnv("BUNDLE_WITHOUT") {
		first := firstKey(installs)
		sp.builderBefore[first] = append(sp.builderBefore[first], without)
		sp.runtimeBefore[1] = append(sp.runtimeBefore[1], without)
	}
	handoff := lastInstall + 1
	sp.runtimeBefore[handoff] = append([]string{
		style.Instruction("COPY", "--from="+sp.builderName+" "+rubyGems+" "+rubyGems),
	}, sp.runtimeBefore[handoff]...)
	sp.summary = "split into a builder that runs bundle install without the development and test groups and a " +
		runtime + " runtime that receives the gems and the libraries they link"
	return sp, ""
}

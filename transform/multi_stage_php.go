package transform

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// planPHP runs composer in a builder on the same PHP image, without the
// development packages, and gives the runtime only the vendor folder:
// composer itself and the dev dependencies stay behind. PHP images have
// no slim variant, so the runtime keeps the original image.
func planPHP(s *splitter) (*splitPlan, string) {
	installs := map[int]bool{}
	lastInstall := -1
	var install *dockerfile.Command
	for i, cmd := range s.runCommands() {
		if cmd.Name() == "composer" && (firstSub(cmd) == "install" || firstSub(cmd) == "i") {
			installs[i], lastInstall, install = true, i, cmd
		}
	}
	if lastInstall < 0 {
		return nil, ""
	}
	if len(installs) > 1 {
		return nil, "composer install runs more than once"
	}
	sc, _ := s.chunks[lastInstall].ins.Script()
	if len(sc.Commands) > 1 {
		return nil, "the RUN with composer install (line " + itoaLine(s.chunks[lastInstall].ins) + ") also runs other commands"
	}
	for i, cmd := range s.runCommands() {
		if i > lastInstall && cmd.Name() == "composer" {
			return nil, "composer runs again after the install (line " + itoaLine(s.chunks[i].ins) + "), and the runtime will not have it"
		}
	}
	workdir := s.workdirAt(lastInstall)
	if workdir == "/" {
		return nil, "the stage has no WORKDIR, so the vendor folder cannot be found"
	}
	// composer works in --working-dir (-d) when given; vendor/ is made
	// there, not in the WORKDIR.
	project := workdir
	for _, flag := range []string{"--working-dir", "-d"} {
		v, lit := flagValue(install, flag)
		if !lit || v == "" {
			if install.HasArg(flag) {
				return nil, "composer's " + flag + " is computed at build time"
			}
			continue
		}
		project = joinWorkdir(workdir, v)
	}
	if s.setsEnv("COMPOSER_VENDOR_DIR") {
		return nil, "COMPOSER_VENDOR_DIR moves the vendor folder"
	}
	if file := composerSetsVendorDir(s); file != "" {
		return nil, file + " sets config.vendor-dir, which moves the vendor folder"
	}
	sp := s.newPlan("vendor")
	sp.runtimeImage = s.st.BaseName
	s.defaultRoles(sp, lastInstall)
	for i := 1; i <= lastInstall; i++ {
		ins := s.chunks[i].ins
		switch {
		case installs[i]:
			sp.roles[i] = toBuilder
		case ins.Keyword == "copy" && copiesComposerBinary(ins):
			sp.roles[i] = toBuilder
		}
	}
	if !install.HasArg("--no-dev") {
		text, ok := applyToInstruction(s.chunks[lastInstall].ins, []dockerfile.Edit{install.InsertAfter(1, "--no-dev")})
		if !ok {
			return nil, "harden cannot add --no-dev to composer install"
		}
		sp.builderText[lastInstall] = text
	}
	vendor := path.Join(project, "vendor")
	style := s.f.Style
	sp.runtimeBefore[lastInstall+1] = append([]string{
		style.Instruction("COPY", "--from="+sp.builderName+" "+vendor+" "+vendor),
	}, sp.runtimeBefore[lastInstall+1]...)
	sp.summary = "split into a builder that runs composer install --no-dev and a " + strings.TrimSpace(s.ref) +
		" runtime that receives the vendor folder without composer or development packages"
	return sp, ""
}

// copiesComposerBinary recognises COPY --from=composer... /usr/bin/composer.
func copiesComposerBinary(ins *dockerfile.Instruction) bool {
	from, ok := ins.Flag("from")
	if !ok || !strings.HasPrefix(from, "composer") {
		return false
	}
	args := ins.Args()
	return len(args) == 2 && strings.HasSuffix(args[0], "/composer")
}

// composerSetsVendorDir names a composer.json of the build context (at the
// top or one folder down) whose config moves the vendor folder, or "".
func composerSetsVendorDir(s *splitter) string {
	ctx := s.p.Context
	if ctx == nil {
		return ""
	}
	files, _ := ctx.Glob("composer.json")
	more, _ := ctx.Glob("*/composer.json")
	for _, name := range append(files, more...) {
		data, err := ctx.ReadHead(name, 1<<20)
		if err != nil {
			continue
		}
		var m struct {
			Config struct {
				VendorDir string `json:"vendor-dir"`
			} `json:"config"`
		}
		if json.Unmarshal(data, &m) == nil && m.Config.VendorDir != "" && path.Clean(m.Config.VendorDir) != "vendor" {
			return name
		}
	}
	return ""
}

package transform

import (
	"fmt"
	"iter"
	"strings"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/dockerfile"
)

// MultiStageBuild splits a final stage that both builds and runs the app.
var MultiStageBuild = &Rule{
	ID:       "HD502",
	Name:     "multi-stage-build",
	Title:    "the final image carries the build toolchain",
	Severity: Warning,
	Safety:   Structural,
	Doc: Doc{
		Why: "When one stage both builds and runs an app, the image ships compilers, headers, " +
			"package-manager caches, dev dependencies and often the source: hundreds of megabytes " +
			"and many CVEs that the running app never uses. A builder stage does the work and a " +
			"slim or distroless runtime stage receives only the result. harden splits the final " +
			"stage per ecosystem (Python virtualenv, Node production dependencies or static files " +
			"behind an unprivileged nginx, Go and Rust binaries on distroless, Java on a JRE, .NET " +
			"on the ASP.NET runtime, Ruby gems without the development and test groups on slim, PHP " +
			"vendor folders from composer install --no-dev), keeps ENV, WORKDIR, EXPOSE, LABEL, HEALTHCHECK, VOLUME, ARG " +
			"and the command, moves build-only system packages to the builder and gives the runtime " +
			"the shared libraries they provide, named for the runtime's Debian release (an image tag " +
			"without a release gets only names that bookworm and trixie share). Dependencies that " +
			"compile against the full image's libraries without any apt-get (psycopg2, mysqlclient, " +
			"uWSGI, pg, mysql2; lxml, Pillow, canvas and sharp when built from source) get their " +
			"runtime libraries too. Pruning is version-aware (npm prune --omit=dev from npm 7, " +
			"--production on npm 6) and production-only: when the image or a compose service runs a " +
			"development server, dev dependencies and every Bundler group stay. " +
			"A Node build that makes a static site is served by nginx-unprivileged on port 8080, " +
			"which the change names as an interface change; the static file server the image ran " +
			"(serve, http-server, python -m http.server, even when a RUN installs it after the " +
			"build) is replaced, and nginx gets a server block for serve's clean URLs and -s " +
			"fallback; a server with settings nginx does not reproduce (serve --cors, http-server " +
			"--proxy) stays, installed in the slim Node runtime that receives only the output. " +
			"The Python virtualenv reaches the runtime without pip, setuptools and wheel, which only " +
			"install packages: the builder removes each one that no installed package requires " +
			"(pip show lists what does), unless the app imports it or runs pip after the install. " +
			"Compiled outputs and PHP's vendor folder are copied " +
			"from where the build writes them (after cd, mvn -f, gradle -p, composer -d). A runtime that is the base image " +
			"itself keeps its exact reference, digest included. Another runtime image of a base " +
			"pinned by digest gets a digest of its own when a BuildKit is at hand (fix --build, fix " +
			"--verify, report): the digest of its tag on the day of the build, which the change " +
			"names; without one, or when the lookup fails, it keeps its tag and the change says " +
			"that its digest must be pinned again (and why the lookup failed). When it cannot prove " +
			"the split keeps the app working, it explains what blocks it instead.",
		Bad: "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n" +
			"COPY . .\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12 AS builder\nWORKDIR /app\nRUN python -m venv /opt/venv\nENV VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"\n" +
			"COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n" +
			"RUN for tool in wheel setuptools pip; do \\\n    case \"$(/opt/venv/bin/pip show \"$tool\" 2>/dev/null)\" in *\"Required-by: \") /opt/venv/bin/pip uninstall -y \"$tool\" ;; esac; \\\n    done\n\n" +
			"FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY --from=builder /opt/venv /opt/venv\n" +
			"ENV VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkMultiStageBuild,
}

// stagePlanner decides how to split a final stage for one ecosystem. It
// returns nil, "" when the stage does not build anything (already a
// runtime stage), and nil with a reason when it builds but harden cannot
// split it safely.
type stagePlanner func(s *splitter) (*splitPlan, string)

// plannerFor picks the planner from the stage's base image family.
func plannerFor(repo string) stagePlanner {
	switch {
	case repo == "python":
		return planPython
	case repo == "node":
		return planNode
	case repo == "ruby":
		return planRuby
	case repo == "php":
		return planPHP
	case repo == "golang":
		return planGo
	case repo == "rust":
		return planRust
	case repo == "maven", repo == "gradle", repo == "eclipse-temurin", repo == "openjdk", repo == "amazoncorretto":
		return planJava
	case repo == "mcr.microsoft.com/dotnet/sdk":
		return planDotNet
	}
	return nil
}

func checkMultiStageBuild(p *Pass) {
	f := p.File
	final := f.FinalStage()
	if final.Parent() != nil {
		return // the final stage already builds on another stage
	}
	ref, expanded, isImage := final.Image()
	if !isImage || !expanded {
		return
	}
	plan := plannerFor(baseimage.Parse(ref).Repo())
	s := newSplitter(p, final, ref)
	if plan == nil {
		if tool := s.buildTool(); tool != "" {
			p.Report(final.From, "the final stage builds and runs the app in one image ("+tool+"); harden does not know "+ref+
				", so it cannot choose a runtime image: split the stage by hand, or build on an official language image", nil)
		}
		return
	}
	sp, why := plan(s)
	if sp == nil {
		if why != "" {
			p.Report(final.From, "the final stage builds and runs the app in one image; harden did not split it because "+why, nil)
		}
		return
	}
	s.keepUsers(sp)
	// The builder keeps the pin; another runtime image needs one of its
	// own: the digest resolved for its tag when one was looked up, else
	// from-latest reports it with the commands to find it.
	rt, _ := f.ExpandGlobalArgs(sp.runtimeImage)
	pins, lost := p.pinClauses(ref, rt)
	for _, c := range pins {
		sp.summary += "; " + c
	}
	text, err := s.render(sp)
	if err != nil {
		p.Report(final.From, "the final stage builds and runs the app in one image; harden did not split it because "+err.Error(), nil)
		return
	}
	p.Report(final.From, "the final stage builds and runs the app in one image, so build tools ship to production", &SuggestedFix{
		Description: sp.summary,
		Edits:       []dockerfile.Edit{{Start: final.From.Start, End: stageEnd(final), New: text}},
	})
	p.lostPins(lostPin(lost)...)
}

// splitter holds what every planner needs about the stage being split.
type splitter struct {
	p      *Pass
	f      *dockerfile.File
	st     *dockerfile.Stage
	ref    string // the stage's base image with global ARGs expanded
	chunks []chunk
}

func newSplitter(p *Pass, st *dockerfile.Stage, ref string) *splitter {
	return &splitter{p: p, f: p.File, st: st, ref: ref, chunks: stageChunks(p.File, st)}
}

// runCommands yields every simple command of the stage's shell-form RUNs
// with the index of its chunk. Exec-form RUNs have no shell to edit and
// are left to the roles' defaults.
func (s *splitter) runCommands() iter.Seq2[int, *dockerfile.Command] {
	return func(yield func(int, *dockerfile.Command) bool) {
		for i, c := range s.chunks {
			if c.ins.Keyword != "run" {
				continue
			}
			sc, err := c.ins.Script()
			if err != nil || sc.Form == dockerfile.ExecForm {
				continue
			}
			for _, cmd := range sc.Commands {
				if !yield(i, cmd) {
					return
				}
			}
		}
	}
}

// buildTool names a dependency install or compile step of the stage, or "".
func (s *splitter) buildTool() string {
	for _, cmd := range s.runCommands() {
		if _, ok := pipInstall(cmd); ok {
			return "pip install"
		}
		if m := nodeInstall(cmd); m != "" {
			return m + " install"
		}
		switch sub := firstSub(cmd); cmd.Name() {
		case "go", "cargo", "dotnet":
			if sub == "build" || sub == "publish" || sub == "install" {
				return cmd.Name() + " " + sub
			}
		case "mvn", "mvnw", "gradle", "gradlew":
			return cmd.Name()
		case "bundle":
			if sub == "install" || sub == "" {
				return "bundle install"
			}
		case "composer":
			if sub == "install" {
				return "composer install"
			}
		}
	}
	return ""
}

// role says which stages receive an instruction of the original stage.
type role int

const (
	toRuntime role = iota // metadata and everything after the build
	toBoth                // context the build and the app both need: ARG, ENV, WORKDIR
	toBuilder             // build steps
	dropped               // replaced by the plan's own lines
)

// splitPlan is a planner's answer.
type splitPlan struct {
	builderName  string
	runtimeImage string // as it will be written in FROM (may keep ARG references)
	roles        []role // one per chunk; chunk 0 (FROM) is rendered by the splitter
	// builderText and runtimeText replace a chunk's instruction text in one
	// of the stages (without the final line terminator).
	builderText map[int]string
	runtimeText map[int]string
	// builderBefore and runtimeBefore are new instruction lines inserted
	// before chunk i; index len(chunks) means at the end.
	builderBefore map[int][]string
	runtimeBefore map[int][]string
	summary       string
}

func (s *splitter) newPlan(builderName string) *splitPlan {
	return &splitPlan{
		builderName:   uniqueStageName(s.f, builderName),
		roles:         make([]role, len(s.chunks)),
		builderText:   map[int]string{},
		runtimeText:   map[int]string{},
		builderBefore: map[int][]string{},
		runtimeBefore: map[int][]string{},
	}
}

// render writes the builder stage, a blank line and the runtime stage.
func (s *splitter) render(sp *splitPlan) (string, error) {
	style := s.f.Style
	flags := s.st.From.Flags()
	var rtFlags []string
	for _, fl := range flags {
		// The runtime runs on the target platform, not the build machine.
		if !strings.Contains(fl, "$BUILDPLATFORM") && !strings.Contains(fl, "${BUILDPLATFORM}") {
			rtFlags = append(rtFlags, fl)
		}
	}
	var b, r strings.Builder
	b.WriteString(fromLine(style, flags, s.st.BaseName, sp.builderName) + style.EOL)
	r.WriteString(fromLine(style, rtFlags, sp.runtimeImage, s.st.Name) + style.EOL)

	write := func(w *strings.Builder, c chunk, text string, withLead bool) {
		if withLead {
			w.WriteString(c.lead)
		}
		if text == "" {
			w.WriteString(c.text)
			return
		}
		w.WriteString(text + style.EOL)
	}
	for i := 1; i <= len(s.chunks); i++ {
		for _, l := range sp.builderBefore[i] {
			b.WriteString(l + style.EOL)
		}
		for _, l := range sp.runtimeBefore[i] {
			r.WriteString(l + style.EOL)
		}
		if i == len(s.chunks) {
			break
		}
		c := s.chunks[i]
		switch sp.roles[i] {
		case toBuilder:
			write(&b, c, sp.builderText[i], true)
		case toBoth:
			write(&b, c, sp.builderText[i], false)
			write(&r, c, sp.runtimeText[i], true)
		case toRuntime:
			write(&r, c, sp.runtimeText[i], true)
		case dropped:
			if strings.TrimSpace(c.lead) != "" {
				r.WriteString(c.lead)
			}
		}
	}
	return b.String() + style.EOL + r.String(), nil
}

// version is the runtime version detection found for lang, or "".
func (s *splitter) version(lang string) string {
	return s.p.facts().Versions[lang].Version
}

// runtimeImage maps the stage's base image to a runtime image, keeping a
// global ARG that makes up the whole tag ("python:${PY}" stays
// parameterised as "python:${PY}-slim"). A runtime that is the base image
// itself is written exactly as the base is, digest and ARGs included.
func (s *splitter) runtimeImage(kind baseimage.Kind, version string) (string, string) {
	mapped, ok, why := s.p.Images.Runtime(kind, s.ref, version)
	if !ok {
		return "", why
	}
	if mapped == s.ref {
		return s.st.BaseName, ""
	}
	raw := baseimage.Parse(s.st.BaseName)
	if !strings.Contains(s.st.BaseName, "$") {
		return s.pinned(mapped), ""
	}
	exp, m := baseimage.Parse(s.ref), baseimage.Parse(mapped)
	if strings.Contains(raw.Name, "$") || m.Name != exp.Name {
		return s.pinned(mapped), "" // the ARG chose the build image only; the runtime is fixed
	}
	if isWholeVar(raw.Tag) && strings.HasPrefix(m.Tag, exp.Tag) {
		m.Name, m.Tag = raw.Name, raw.Tag+m.Tag[len(exp.Tag):]
		return s.pinned(m.String()), ""
	}
	return "", "the base image's tag mixes an ARG with text, so harden cannot derive the runtime tag"
}

// pinned is img, a runtime image for the stage being split, with the
// digest a lookup resolved for it (Options.Digests) when the stage's base
// is pinned by digest and img is another image without a pin: the base's
// digest says nothing about img. Otherwise img as it is.
func (s *splitter) pinned(img string) string {
	exp, _ := s.f.ExpandGlobalArgs(img)
	if d := s.p.resolvedDigest(s.ref, exp); d != "" {
		return img + "@" + d
	}
	return img
}

func isWholeVar(s string) bool {
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
		return !strings.ContainsAny(s[2:len(s)-1], "${}:-+")
	}
	if strings.HasPrefix(s, "$") {
		for _, c := range s[1:] {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
		return len(s) > 1
	}
	return false
}

// defaultRoles gives every chunk its natural role: instructions after the
// last build step and image metadata go to the runtime; ARG, ENV, WORKDIR,
// SHELL and USER before it go to both; the rest before it are the
// planner's to decide (default: both, which keeps the original behaviour).
func (s *splitter) defaultRoles(sp *splitPlan, lastBuild int) {
	for i := 1; i < len(s.chunks); i++ {
		switch kw := s.chunks[i].ins.Keyword; {
		case i > lastBuild:
			sp.roles[i] = toRuntime
		case kw == "label" || kw == "expose" || kw == "cmd" || kw == "entrypoint" || kw == "healthcheck" ||
			kw == "volume" || kw == "stopsignal" || kw == "onbuild" || kw == "maintainer":
			sp.roles[i] = toRuntime
		default:
			sp.roles[i] = toBoth
		}
	}
}

// systemPackagesForRuntime handles a RUN that installs system packages
// before the build: the builder keeps it as is, and the runtime gets a RUN
// with only the runtime libraries and non-build packages, or nothing.
// It returns a reason when the RUN cannot be split.
func (s *splitter) systemPackagesForRuntime(sp *splitPlan, i int, alpine bool) string {
	sc, err := s.chunks[i].ins.Script()
	if err != nil {
		return "a RUN on line " + itoaLine(s.chunks[i].ins) + " cannot be read"
	}
	installs, ok := systemInstalls(sc)
	if !ok {
		return "the RUN on line " + itoaLine(s.chunks[i].ins) + " computes package names at build time"
	}
	sp.roles[i] = toBuilder
	pkgs, why := s.runtimePackages(installs)
	if why != "" {
		return why
	}
	if len(pkgs) > 0 {
		sp.runtimeBefore[i] = append(sp.runtimeBefore[i], installRun(s.f.Style, pkgs, alpine))
	}
	return ""
}

// installsSystemPackages reports whether a RUN installs apt or apk packages.
func installsSystemPackages(ins *dockerfile.Instruction) bool {
	sc, err := ins.Script()
	if err != nil {
		return false
	}
	installs, _ := systemInstalls(sc)
	return len(installs) > 0
}

func itoaLine(ins *dockerfile.Instruction) string { return fmt.Sprint(ins.Line) }

// shellWordsUse reports whether any RUN, CMD or ENTRYPOINT of the chunks
// from index from on mentions word (as a program path, e.g.
// /usr/local/bin/python), which would bypass a moved installation.
func (s *splitter) mentions(from int, word string) bool {
	for _, c := range s.chunks[from:] {
		switch c.ins.Keyword {
		case "run", "cmd", "entrypoint":
			if strings.Contains(c.ins.Node.Original, word) {
				return true
			}
		}
	}
	return false
}

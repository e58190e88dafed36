package transform

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/compose"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/servermode"
)

// imageRunMode decides whether the final image runs its app in production
// or as a development server: from its CMD and ENTRYPOINT with the ENV the
// stage sets, and from every compose service in the repository that builds
// this Dockerfile's final stage with its own command or environment.
// appDir is the application's folder in the build context, where
// package.json and the Procfile are read.
func imageRunMode(p *Pass, appDir string) servermode.Verdict {
	f := p.File
	final := f.FinalStage()
	var entrypoint, cmd []string
	var entrypointAt, cmdAt int
	env := map[string]string{}
	envWhere := map[string]string{}
	var chain []*dockerfile.Stage
	for st := final; st != nil; st = st.Parent() {
		chain = append(chain, st)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for _, ins := range chain[i].Instructions[1:] {
			switch c := ins.Command.(type) {
			case *instructions.EntrypointCommand:
				entrypoint, entrypointAt = startWords(c.CmdLine, c.PrependShell), ins.Line
				cmd = nil // ENTRYPOINT resets CMD
			case *instructions.CmdCommand:
				cmd, cmdAt = startWords(c.CmdLine, c.PrependShell), ins.Line
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = kv.Value
					envWhere[kv.Key] = fmt.Sprintf("%s:%d", f.Name, ins.Line)
				}
			}
		}
	}
	image := servermode.Run{
		Command:      joinStart(entrypoint, cmd),
		CommandWhere: fmt.Sprintf("%s:%d", f.Name, max(entrypointAt, cmdAt)),
		Env:          env,
		EnvWhere:     envWhere,
	}
	runs := []servermode.Run{image}
	for _, cs := range composeServices(p) {
		s := cs.Service
		run := servermode.Run{Command: image.Command, CommandWhere: image.CommandWhere, Env: map[string]string{}, EnvWhere: map[string]string{}}
		where := cs.where
		ep, c := entrypoint, cmd
		if s.Entrypoint.Set {
			ep, c = s.Entrypoint.Words(), nil
			run.CommandWhere = where
		}
		if s.Command.Set {
			c = s.Command.Words()
			run.CommandWhere = where
		}
		run.Command = joinStart(ep, c)
		for k, v := range env {
			run.Env[k], run.EnvWhere[k] = v, envWhere[k]
		}
		for _, e := range s.Environment {
			if e.HasValue {
				run.Env[e.Name], run.EnvWhere[e.Name] = e.Value, where
			}
		}
		runs = append(runs, run)
	}
	return servermode.Decide(appFacts(p, appDir), runs...)
}

// startWords turns CMD or ENTRYPOINT into words; the shell form runs under
// /bin/sh -c.
func startWords(line []string, shell bool) []string {
	if shell {
		return []string{"/bin/sh", "-c", strings.Join(line, " ")}
	}
	return line
}

// joinStart is what the container runs: an exec-form ENTRYPOINT takes CMD
// as arguments; a shell-form one ignores it.
func joinStart(entrypoint, cmd []string) []string {
	if len(entrypoint) == 0 {
		return cmd
	}
	if len(entrypoint) == 3 && entrypoint[0] == "/bin/sh" && entrypoint[1] == "-c" {
		return entrypoint
	}
	// An entrypoint script usually ends in exec "$@": read the command too.
	if isEntrypointScript(entrypoint) && len(cmd) > 0 {
		return cmd
	}
	return append(append([]string{}, entrypoint...), cmd...)
}

func isEntrypointScript(words []string) bool {
	base := path.Base(words[len(words)-1])
	return len(words) <= 2 && (strings.HasSuffix(base, ".sh") || strings.Contains(base, "entrypoint") || base == "tini" || base == "dumb-init")
}

// appFacts reads what servermode needs about the application from the build
// context.
func appFacts(p *Pass, appDir string) servermode.App {
	var app servermode.App
	facts := p.facts()
	app.Rails = facts.Framework == "rails"
	if p.Context == nil {
		return app
	}
	join := func(name string) string { return path.Join(appDir, name) }
	if data, err := p.Context.ReadHead(join("package.json"), 1<<20); err == nil {
		var pkg struct {
			Scripts map[string]string `json:"scripts"`
		}
		if json.Unmarshal(data, &pkg) == nil {
			app.Scripts = pkg.Scripts
		}
	}
	if data, err := p.Context.ReadHead(join("Procfile"), 64<<10); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, cmd, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "web" {
				app.Procfile = strings.TrimSpace(cmd)
				break
			}
		}
	}
	if !app.Rails {
		app.Rails = p.Context.Exists(join("config/application.rb")) && p.Context.Exists(join("config/environment.rb"))
	}
	return app
}

// composeService is a compose service and where it is defined.
type composeService struct {
	compose.Service
	where string
}

// composeServices are the compose services of the repository that build
// this Dockerfile's final stage. They are found from the build context's
// folder up to the repository root; a compose file that does not parse
// counts as no evidence.
func composeServices(p *Pass) []composeService {
	return composeServicesOf(p, p.File.FinalStage())
}

// composeServicesOf are the compose services that build the Dockerfile
// with st as their target (no target means the final stage).
func composeServicesOf(p *Pass, st *dockerfile.Stage) []composeService {
	final := p.File.FinalStage()
	var out []composeService
	for _, s := range composeBuilding(p) {
		t := s.Build.Target
		if t == "" && st == final || t != "" && strings.EqualFold(t, st.Name) {
			out = append(out, s)
		}
	}
	return out
}

// composeBuilding are all the compose services that build this Dockerfile,
// whatever their target.
func composeBuilding(p *Pass) []composeService {
	if p.Context == nil || p.Context.Dir == "" {
		return nil
	}
	got := p.Context.Memo("compose-projects", func() any {
		projects, _ := compose.Discover(p.Context.Dir)
		return projects
	})
	projects, _ := got.([]*compose.Project)
	if len(projects) == 0 {
		return nil
	}
	df := p.File.Name
	if _, err := os.Stat(df); err != nil || !filepath.IsAbs(df) && filepath.Dir(df) == "." {
		df = filepath.Join(p.Context.Dir, filepath.Base(df))
	}
	var out []composeService
	for _, proj := range projects {
		var names []string
		for _, f := range proj.Files {
			names = append(names, filepath.Base(f))
		}
		for _, s := range proj.ServicesBuilding(df) {
			out = append(out, composeService{s, strings.Join(names, " + ") + " service " + s.Name})
		}
	}
	return out
}

// appRoot is the application's folder in the build context.
func appRoot(p *Pass) string {
	if r := p.facts().Root; r != "" {
		return r
	}
	return "."
}

// startInstruction is the last CMD or ENTRYPOINT of the final stage, or nil.
func startInstruction(p *Pass) *dockerfile.Instruction {
	var out *dockerfile.Instruction
	for _, ins := range p.File.FinalStage().Instructions {
		if ins.Keyword == "cmd" || ins.Keyword == "entrypoint" {
			out = ins
		}
	}
	return out
}

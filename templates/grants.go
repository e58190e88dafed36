package templates

import (
	"fmt"
	"strings"

	"github.com/harden-dev/harden/accounts"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/runmodel"
)

// Grants are the folders the running app writes, which the image gives to
// its user (the rest stays root's): the same model of the running app and
// the same grants as harden fix (package runmodel). They are worked out
// from a first render of the Dockerfile (see Grant) and rendered by the
// "app-writes" block.
type Grants struct {
	// Owner is the chown value: "app:app", "node:node".
	Owner string
	// Dirs are made if missing and given to the user, without their
	// contents; Trees are given with everything in them.
	Dirs, Trees []string
	// Workdir is set when the app writes in its working directory itself:
	// compose.yaml then cannot make the root file system read-only.
	Workdir bool
}

// Run is the shell code of the RUN that grants them.
func (g Grants) Run() string {
	var cmds []string
	if len(g.Dirs) > 0 {
		cmds = append(cmds, "mkdir -p "+strings.Join(g.Dirs, " "), "chown "+g.Owner+" "+strings.Join(g.Dirs, " "))
	}
	if len(g.Trees) > 0 {
		cmds = append(cmds, "chown -R "+g.Owner+" "+strings.Join(g.Trees, " "))
	}
	return strings.Join(cmds, " && ")
}

// Any reports whether anything is granted.
func (g Grants) Any() bool { return len(g.Dirs) > 0 || len(g.Trees) > 0 }

// createUser is the debian-user block's command: the same account harden
// fix creates, with a home folder (interpreters and tools keep caches and
// settings there).
func createUser(u User) (string, error) {
	cmds, err := accounts.Create(accounts.Shadow, accounts.Account{Name: u.Name, UID: u.UID, GID: u.GID})
	if err != nil {
		return "", err
	}
	return strings.Join(cmds, " && "), nil
}

// Grant reads a first render of the Dockerfile as harden fix would read the
// image: the model of the running app (its code in ctx, the framework
// detection found) says what it writes, and the grants give exactly that
// to the user the Dockerfile switches to. Paths that are not plain (a
// project file could name anything) are left out with a note, and so is
// everything when the runtime image has no shell to chown with.
func (a *App) Grant(ctx *buildctx.Context, rendered []byte) error {
	f, err := dockerfile.Parse(Dockerfile, rendered)
	if err != nil {
		return err
	}
	final := f.FinalStage()
	ref, _, isImage := final.Image()
	facts := detect.Image("scratch")
	if isImage {
		facts = detect.Image(ref)
	}
	m := runmodel.Analyze(runmodel.Input{File: f, Stage: final, Context: ctx, Framework: a.Framework,
		Ecosystem: string(a.Ecosystem), Image: facts.RunImage()})
	user, owner, home := a.runtimeUser(m)
	if user.UID < 0 && user.Name == "" {
		return nil
	}
	own := runmodel.OwnershipOf(f, final, ctx, facts.RunImage().User)
	g, why := m.GrantsFor(user, home, own)
	if why != "" {
		a.note("%s", why)
		return nil
	}
	if !g.Empty() && (facts.Shell == detect.TriNo || facts.Distro == "distroless" || facts.Distro == "scratch") {
		a.note("the app writes %s, and %s has no shell to give them to its user: mount a volume there", strings.Join(append(g.Dirs, g.Trees...), " and "), facts.Ref)
		return nil
	}
	out := Grants{Owner: owner}
	for _, list := range []struct {
		from []string
		to   *[]string
	}{{g.Dirs, &out.Dirs}, {g.Trees, &out.Trees}} {
		for _, p := range list.from {
			if !plainPath().MatchString(strings.TrimPrefix(p, "/")) {
				a.note("the app writes %q, which is not a plain path: give it to the user by hand", p)
				continue
			}
			*list.to = append(*list.to, p)
			if p == m.Workdir {
				out.Workdir = true
			}
		}
	}
	a.Grants = out
	for _, r := range g.Reasons {
		a.note("the app writes %s: the image gives %s to its user", r, pathsOf(r))
	}
	return nil
}

// pathsOf is the paths part of a grant reason ("/a and /b (why)").
func pathsOf(reason string) string {
	p, _, _ := strings.Cut(reason, " (")
	return p
}

// runtimeUser is the account the rendered image runs as: the template's
// own user, the base image's (node), or nonroot on distroless.
func (a *App) runtimeUser(m *runmodel.Model) (runmodel.User, string, string) {
	for _, u := range m.Users {
		if u.Stage != "" {
			continue
		}
		owner := u.Name
		if owner == "" {
			owner = fmt.Sprint(u.UID)
		}
		home := u.Home
		if !u.HomeExists {
			home = ""
		}
		return runmodel.User{Name: u.Name, UID: u.UID, GID: u.GID}, owner + ":" + owner, home
	}
	return runmodel.User{UID: -1}, "", ""
}

// RenderApp renders the named files the way harden new does: a first
// render of the Dockerfile is read for what the running app writes (see
// Grant), then every file is rendered with those grants. ctx is the app's
// folder, nil for one that does not exist yet.
func (s *Source) RenderApp(ctx *buildctx.Context, app *App, names ...string) ([]File, error) {
	first, err := s.Render(app, Dockerfile)
	if err != nil {
		return nil, err
	}
	if err := app.Grant(ctx, first[0].Data); err != nil {
		return nil, fmt.Errorf("%s: %w", first[0].Template, err)
	}
	return s.Render(app, names...)
}

// ReadOnlyRoot reports whether compose.yaml can run the service with a
// read-only root file system: not when the image gives the app folders of
// its own to write, which a read-only root would take away again.
func (a *App) ReadOnlyRoot() bool {
	for _, d := range append(append([]string(nil), a.Grants.Dirs...), a.Grants.Trees...) {
		covered := false
		for _, w := range a.Writable {
			if runmodel.Under(d, w) {
				covered = true
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

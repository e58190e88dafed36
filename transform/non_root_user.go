package transform

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/accounts"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/runmodel"
)

// NonRootUser makes the running stage run as a non-root user that can do
// what the app did as root.
var NonRootUser = &Rule{
	ID:               "HD409",
	Name:             "non-root-user",
	Title:            "container runs as root",
	Severity:         Warning,
	SecuritySeverity: 6.0,
	Safety:           Structural,
	Hadolint:         []string{"DL3002"},
	Doc: Doc{
		Why: "A process running as root inside a container is root on the container's files and, " +
			"after a kernel or runtime escape, much closer to root on the host. An attacker who " +
			"finds a bug in the app gets a shell that can install tools and rewrite the app. " +
			"harden first models what the app does at run time (package runmodel): the folders it " +
			"writes (its working directory when it keeps a SQLite database, uploads or logs there; " +
			"folders a RUN makes and nothing fills; paths its entrypoint script and its own code " +
			"write; each framework's defaults, such as Rails' tmp/ and log/ or Next's .next/cache), " +
			"whether it uses a home folder, the ports it binds, and what needs root at start. " +
			"Then it reuses a non-root user the Dockerfile, another stage or the base image already " +
			"has (node, nonroot on distroless), or creates one with a home folder the way the " +
			"runtime's distro does (useradd on Debian, Ubuntu and RHEL, adduser on Alpine), keeps " +
			"the code owned by root and read-only, gives the user exactly the paths the app writes, " +
			"moves packages out of /root (pip --user, poetry's default virtualenvs), moves a port " +
			"below 1024 that an ENV or a flag sets to one above 1024 (an interface change it " +
			"states), and switches with a numeric USER after the last step that needs root. " +
			"Deployment files count: a stage that a compose service of the repository builds as its " +
			"target is hardened too, a service's user: or a Kubernetes manifest's runAsUser decides " +
			"the uid, and a service's ports and mounts count as the app's. " +
			"It leaves the user alone and says why when it cannot prove the app still works: a " +
			"server that starts as root and drops privileges itself (Apache, php-fpm, uWSGI with " +
			"uid=, stock nginx, gosu in an entrypoint), an entrypoint that needs root or that it " +
			"cannot read, a write into a system folder, a low port it cannot move, a bind mount of " +
			"the host's files, or a VOLUME or named volume whose existing data belongs to root " +
			"(`volumes: migrate` in .harden.yaml opts in, and the pull request then lists the " +
			"command operators run before upgrading). `harden detect` shows the model and its evidence.",
		Bad: "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n" +
			"RUN groupadd --system --gid 10001 app && useradd --system --create-home --home-dir /home/app --uid 10001 --gid app --shell /usr/sbin/nologin app\n" +
			"USER 10001:10001\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkNonRootUser,
}

func checkNonRootUser(p *Pass) {
	for _, st := range runningStages(p) {
		checkStageUser(p, st)
	}
}

// runningStages are the stages whose image runs: the final one, and any
// stage a compose service of the repository builds as its target. A stage
// other stages build on is left out: a USER there would also apply to
// their RUN steps.
func runningStages(p *Pass) []*dockerfile.Stage {
	f := p.File
	out := []*dockerfile.Stage{f.FinalStage()}
	for _, cs := range composeBuilding(p) {
		t := cs.Build.Target
		if t == "" {
			continue
		}
		st := f.StageByName(t)
		if st == nil || slices.Contains(out, st) {
			continue
		}
		if buildsOn(f, st) {
			p.Report(st.From, "stage "+st.Name+" runs ("+cs.where+" builds it as its target) as root; harden left it alone because other stages build on it, and a USER there would run their RUN steps as that user too: add USER at its end by hand, and USER root at the start of the stages built on it", nil)
			continue
		}
		out = append(out, st)
	}
	return out
}

// buildsOn reports whether another stage builds FROM st.
func buildsOn(f *dockerfile.File, st *dockerfile.Stage) bool {
	for _, other := range f.Stages {
		if other.Parent() == st {
			return true
		}
	}
	return false
}

// checkStageUser hardens one stage that runs.
func checkStageUser(p *Pass, st *dockerfile.Stage) {
	f := p.File
	chain := stageChainOf(st)
	user, userIns := lastUser(chain)
	if user != "" && !rootUser(user) {
		reportPrivilegedPorts(p, st)
		return
	}
	if exportsOnly(st) {
		return
	}
	runsAsRoot := "the container runs as root"
	if st != f.FinalStage() {
		runsAsRoot = "stage " + st.Name + " runs as root (a compose service builds it as its target)"
	}
	root := rootImage(st)
	var facts detect.ImageFacts
	switch {
	case root.Scratch:
		facts = detect.Image("scratch")
	case root.Known:
		facts = detect.Image(root.Ref)
	default:
		p.Report(st.From, runsAsRoot+"; the base image is set by an ARG without a default, so harden cannot tell how to add a user: add one and a USER instruction", nil)
		return
	}
	if user == "" && facts.NonRootDefault {
		return // the image already runs as its own non-root user
	}
	if facts.Toolchain == detect.TriYes {
		p.Report(st.From, runsAsRoot+"; harden left the user alone because the stage is a build image ("+facts.Ref+"), where tools keep caches in root's home: split off a runtime stage first", nil)
		return
	}
	if facts.Distro == "windows" {
		p.Report(st.From, runsAsRoot+"; Windows images manage users differently: use ContainerUser", nil)
		return
	}
	model := p.runModel(st, facts)
	at, msg := st.From, "the final stage has no USER, so the container runs as root"
	if st != f.FinalStage() {
		msg = "stage " + st.Name + " runs (a compose service builds it as its target) with no USER, so its container runs as root"
	}
	if userIns != nil && rootUser(user) {
		at, msg = userIns, "the image ends with USER "+user+", so the container runs as root"
	}
	plan, why := planUser(p, st, facts, model)
	if why != "" {
		p.Report(at, runsAsRoot+"; harden left the user alone because "+why, nil)
		return
	}
	p.Report(at, msg, &SuggestedFix{Description: plan.description, Edits: plan.edits, Notices: plan.notices})
}

// runModel builds the model of what the stage does at run time, with the
// compose services that run it.
func (p *Pass) runModel(st *dockerfile.Stage, facts detect.ImageFacts) *runmodel.Model {
	var deps []runmodel.Deployment
	for _, cs := range composeServicesOf(p, st) {
		deps = append(deps, deploymentOf(cs))
	}
	return runmodel.Analyze(runmodel.Input{File: p.File, Stage: st, Context: p.Context, Framework: p.facts().Framework,
		Ecosystem: string(p.facts().Ecosystem), Image: facts.RunImage(), Deployments: deps})
}

// deploymentOf is what a compose service tells the runtime model.
func deploymentOf(cs composeService) runmodel.Deployment {
	d := runmodel.Deployment{Where: cs.where, User: cs.User, Env: map[string]string{},
		Command: cs.Command.Words(), Entrypoint: cs.Entrypoint.Words()}
	for _, v := range cs.Volumes {
		d.Mounts = append(d.Mounts, runmodel.Mount{Target: v.Target, Kind: string(v.Type), ReadOnly: v.ReadOnly})
	}
	for _, port := range cs.Ports {
		if n := port.Number(); n > 0 {
			d.Ports = append(d.Ports, n)
		}
	}
	for _, e := range cs.Environment {
		if e.HasValue {
			d.Env[e.Name] = e.Value
		}
	}
	return d
}

// stageChainOf returns a stage and the stages it builds on, nearest first.
func stageChainOf(st *dockerfile.Stage) []*dockerfile.Stage {
	var out []*dockerfile.Stage
	for ; st != nil; st = st.Parent() {
		out = append(out, st)
	}
	return out
}

// lastUser returns the last USER of a chain of stages and its instruction.
func lastUser(chain []*dockerfile.Stage) (string, *dockerfile.Instruction) {
	for _, st := range chain {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			if ins := st.Instructions[i]; ins.Keyword == "user" && len(ins.Args()) > 0 {
				return ins.Args()[0], ins
			}
		}
	}
	return "", nil
}

// finalUser returns the last USER of the final stage or the stages it
// builds on, and its instruction.
func finalUser(f *dockerfile.File) (string, *dockerfile.Instruction) {
	return lastUser(finalChain(f))
}

// exportsOnly reports whether a stage only collects files for export
// (`--output`): it starts from scratch and runs nothing.
func exportsOnly(st *dockerfile.Stage) bool {
	for _, c := range stageChainOf(st) {
		if setsCommand(c) {
			return false
		}
	}
	root := rootImage(st)
	return root.Scratch
}

// setsCommand reports whether a stage sets its own CMD or ENTRYPOINT.
func setsCommand(st *dockerfile.Stage) bool {
	for _, in := range st.Instructions {
		if in.Keyword == "cmd" || in.Keyword == "entrypoint" {
			return true
		}
	}
	return false
}

// rootUser reports whether a USER value is root: "root" or uid 0, with
// or without a group.
func rootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "root" || name != "" && strings.Trim(name, "0") == ""
}

// account is the user the app will run as.
type account struct {
	ref   string // for USER
	owner string // for chown
	name  string
	uid   int // -1 when unknown
	// create are the commands that create it, nil when it exists.
	create []string
	// home is its home folder; makeHome is set when the plan must create
	// it (an existing user without one).
	home     string
	makeHome bool
	// setHome is set when HOME must be pointed at home because the
	// account's own entry names none that can exist.
	setHome bool
	// said is how the summary names it.
	said string
}

// userPlan is the set of edits that give a stage a non-root user.
type userPlan struct {
	edits       []dockerfile.Edit
	description string
	notices     []string
}

// planUser decides how the stage's app can run as non-root, or says why
// harden cannot prove it would still work.
func planUser(p *Pass, st *dockerfile.Stage, facts detect.ImageFacts, m *runmodel.Model) (userPlan, string) {
	if why := blockers(p, m); why != "" {
		return userPlan{}, why
	}
	tool := accounts.ToolFor(facts.Distro, facts.PackageManager)
	shell := facts.Shell != detect.TriNo && facts.Distro != "distroless" && facts.Distro != "scratch"
	acct, why := pickAccount(p, facts, m, tool, shell)
	if why != "" {
		return userPlan{}, why
	}

	var plan userPlan
	var notes []string
	style := p.File.Style

	// Packages under /root: move them where the user can read them.
	moved, why := moveOutOfRootHome(p, st, m, &plan)
	if why != "" {
		return userPlan{}, why
	}
	notes = append(notes, moved...)

	// Ports below 1024.
	portNotes, why := movePorts(p, st, m, &plan)
	if why != "" {
		return userPlan{}, why
	}

	// The paths the app writes.
	own := runmodel.OwnershipOf(p.File, st, p.Context, facts.RunImage().User)
	grants, why := m.GrantsFor(runmodel.User{Name: acct.name, UID: acct.uid}, acct.home, own)
	if why != "" {
		return userPlan{}, why
	}
	dirs, trees, owned := grants.Dirs, grants.Trees, grants.Reasons
	if (len(dirs) > 0 || len(trees) > 0 || acct.makeHome) && !shell {
		return userPlan{}, "the app writes " + strings.Join(append(dirs, trees...), ", ") + " and " + facts.Ref + " has no shell to give them to a user"
	}
	cmds := append([]string(nil), acct.create...)
	if acct.makeHome {
		dirs = append([]string{acct.home}, dirs...)
	}
	if len(dirs) > 0 {
		cmds = append(cmds, "mkdir -p "+strings.Join(dirs, " "), "chown "+acct.owner+" "+strings.Join(dirs, " "))
	}
	if len(trees) > 0 {
		cmds = append(cmds, "chown -R "+acct.owner+" "+strings.Join(trees, " "))
	}

	// New lines go after the last step that needs root, where USER goes.
	ins := st.Instructions
	var lines []string
	if acct.setHome {
		lines = append(lines, style.Instruction("ENV", "HOME="+acct.home))
	}
	if len(cmds) > 0 {
		lines = append(lines, style.Instruction("RUN", style.Chain(cmds)))
	}
	lines = append(lines, style.Instruction("USER", acct.ref))
	text := strings.Join(lines, style.EOL)
	if lastUser := lastUserIn(st); lastUser != nil && rootUser(lastUser.Args()[0]) && !hasRunAfter(st, lastUser) {
		plan.edits = append(plan.edits, dockerfile.Edit{Start: lastUser.KeywordStart, End: lastUser.ContentEnd(), New: text})
	} else {
		after := 0
		for i, in := range ins {
			switch in.Keyword {
			case "run", "copy", "add", "workdir", "user", "from":
				after = i
			}
		}
		if after+1 < len(ins) {
			at := insertionPoint(p.File, ins, after+1)
			plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: text + style.EOL})
		} else {
			last := ins[len(ins)-1]
			at := last.End
			add := text + style.EOL
			if at == len(p.File.Src) && !strings.HasSuffix(string(p.File.Src), "\n") {
				add = style.EOL + text
			}
			plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: add})
		}
	}

	desc := "the app now runs as " + acct.said
	switch {
	case len(owned) > 0:
		desc += "; it can write " + joinAnd(owned) + ", and the other files stay root's and read-only"
	case len(acct.create) > 0 || acct.makeHome:
		desc += "; the app's files stay root's and read-only"
	}
	desc += strings.Join(append(notes, portNotes...), "")
	if vols := m.Volumes(); len(vols) > 0 && p.MigrateVolumes {
		var paths []string
		for _, v := range vols {
			paths = append(paths, v.Path)
		}
		migrate := fmt.Sprintf("`docker run --rm -v DATA:%s busybox chown -R %s %s`", paths[0], strings.TrimSuffix(acct.ref, ":"), paths[0])
		desc += fmt.Sprintf("; existing containers keep root's data in %s (volumes: migrate), so before upgrading give it to the user: %s", joinAnd(paths), migrate)
		plan.notices = append(plan.notices, fmt.Sprintf("Existing containers keep root's data in %s: before upgrading, give it to the new user, for each volume: %s.", joinAnd(paths), migrate))
	}
	plan.description = desc
	return plan, ""
}

// blockers are what makes a USER unsafe whatever harden edits.
func blockers(p *Pass, m *runmodel.Model) string {
	if len(m.Drops) > 0 {
		d := m.Drops[0]
		where := ""
		if d.Why.File != "" {
			where = " (" + d.Why.String() + ")"
		}
		return d.Server + " starts as root and switches to its own user" + where + "; with USER it would fail to start. " + dropAdvice(d)
	}
	if len(m.NeedsRoot) > 0 {
		return "the app's start-up needs root: " + evidenceList(m.NeedsRoot) + "; do these steps in the build instead, then add USER"
	}
	if len(m.Unknown) > 0 {
		return "it cannot tell what the app writes: " + evidenceList(m.Unknown) + "; check which paths the app writes, give them to a non-root user and add USER"
	}
	for _, u := range m.RootHome {
		if u.Kind == "copy" && !movableUserBase(m, u) {
			return u.Why.String() + "; copy them outside /root (for Python packages, set PYTHONUSERBASE), then add USER"
		}
	}
	if vols := m.Volumes(); len(vols) > 0 && !p.MigrateVolumes {
		return volumeBlocker(p, vols)
	}
	return ""
}

// volumeBlocker explains why harden leaves the user of an image with
// mounted data alone: named volumes and VOLUMEs keep the root-owned data
// of existing containers, and a bind mount brings the host's files with
// the host's owners.
func volumeBlocker(p *Pass, vols []runmodel.Write) string {
	var named, bind []string
	for _, v := range vols {
		switch {
		case v.Mount == "bind":
			bind = append(bind, v.Path+" ("+v.Why.String()+")")
		case v.Why.File == p.File.Name:
			named = append(named, "VOLUME "+v.Path)
		default:
			named = append(named, v.Path+" ("+v.Why.String()+")")
		}
	}
	var parts []string
	if len(bind) > 0 {
		parts = append(parts, joinAnd(bind)+" "+plural(len(bind), "holds", "hold")+" the host's files, owned by the host's user, whom a user made in the image cannot stand in for: "+
			"run that service with user: set to the host user's uid, or add USER by hand once the two agree")
	}
	if len(named) > 0 {
		parts = append(parts, joinAnd(named)+" "+plural(len(named), "keeps", "keep")+" the data of existing containers, and root owns it: a non-root user could not write it after an upgrade. "+
			"To switch, give the data to the user first (for example `docker run --rm -v DATA:"+named0(vols)+" busybox chown -R 10001:10001 "+named0(vols)+"`), then set `volumes: migrate` in .harden.yaml so that harden adds the user")
	}
	return strings.Join(parts, "; ")
}

// named0 is the first mounted path that is not a bind mount.
func named0(vols []runmodel.Write) string {
	for _, v := range vols {
		if v.Mount != "bind" {
			return v.Path
		}
	}
	return vols[0].Path
}

// dropAdvice says how to run a self-dropping server unprivileged instead.
func dropAdvice(d runmodel.PrivilegeDrop) string {
	switch d.Server {
	case "nginx":
		return "Use nginxinc/nginx-unprivileged, which runs as uid 101 on port 8080, or keep root"
	case "apache2-foreground", "apache2ctl", "apachectl", "httpd", "httpd-foreground":
		return "Its workers already run as " + d.Setting + "; to run Apache itself unprivileged, make it Listen above 1024 and give it its pid and lock folders, then add USER"
	case "php-fpm":
		return "Its workers already run as the pool's user; to run the master unprivileged, give it its pid and log paths, then add USER"
	case "uwsgi":
		return "Its workers already run as that user; to drop the switch, remove " + d.Setting + " and add USER"
	case "gosu", "su-exec", "su", "runuser", "setpriv", "s6-setuidgid", "setuidgid", "chroot":
		return "The script prepares files as root and then runs the app as another user; move that preparation into the build and add USER"
	}
	return "Keep root, or configure " + d.Server + " with " + d.Setting + " removed and add USER"
}

func evidenceList(es []runmodel.Evidence) string {
	var out []string
	for _, e := range es {
		out = append(out, e.String())
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return strings.Join(out, "; ")
}

// pickAccount chooses the user: a uid the deployment manifests run as, a
// user the stage already creates, the base image's user, a user another
// stage creates (recreated here), or a new system user.
func pickAccount(p *Pass, facts detect.ImageFacts, m *runmodel.Model, tool accounts.Tool, shell bool) (account, string) {
	create := func(name string, uid, gid int, why string) (account, string) {
		if !shell || tool == accounts.None {
			return account{}, "harden does not know how to create a user in " + facts.Ref + " (distro " + facts.Distro + "); add one and a USER instruction"
		}
		a := accounts.Account{Name: name, UID: uid, GID: gid}
		cmds, err := accounts.Create(tool, a)
		if err != nil {
			return account{}, err.Error()
		}
		g := gid
		if g <= 0 {
			g = uid
		}
		return account{ref: fmt.Sprintf("%d:%d", uid, g), owner: name + ":" + name, name: name, uid: uid, create: cmds, home: a.HomeDir(),
			said: fmt.Sprintf("%s (uid %d), %s, created with %s with the home folder %s", name, uid, why, tool.Program(), a.HomeDir())}, ""
	}
	user := p.User
	for _, d := range m.Deployed {
		name, _, _ := strings.Cut(d.User, ":")
		if rootUser(name) || name == "" {
			continue
		}
		// The service runs the image as this user whatever USER says:
		// the files harden gives away must be that user's.
		if uid := atoi(name); uid >= 0 {
			for _, u := range m.Users {
				if u.UID == uid && u.Stage == "" {
					return existingAccount(u, m)
				}
			}
			return create(user.Name, uid, uid, "a new system user with the uid "+d.Why.File+" runs the container as")
		}
		for _, u := range m.Users {
			if u.Name == name && u.Stage == "" {
				return existingAccount(u, m)
			}
		}
		return account{}, d.Why.File + " runs the container as " + name + ", a user harden cannot find in the image; create it in the Dockerfile and add USER"
	}
	if m.RunAsUser != nil {
		uid := m.RunAsUser.Number
		for _, u := range m.Users {
			if u.UID == uid && u.Stage == "" {
				return existingAccount(u, m)
			}
		}
		return create(user.Name, uid, uid, "a new system user with the uid the Kubernetes manifests run the container as ("+m.RunAsUser.Why.String()+")")
	}
	for _, u := range m.Users {
		if u.Stage == "" && u.Why.File != "" {
			return existingAccount(u, m)
		}
	}
	if facts.User != nil {
		for _, u := range m.Users {
			if u.Why.File == "" && u.Stage == "" {
				return existingAccount(u, m)
			}
		}
	}
	switch {
	case facts.Distro == "scratch":
		return account{ref: "65532:65532", owner: "65532:65532", uid: 65532, said: "uid 65532 (scratch has no user database, so the uid is numeric)"}, ""
	case facts.Distro == "distroless":
		return account{ref: "65532:65532", owner: "nonroot:nonroot", name: "nonroot", uid: 65532, home: "/home/nonroot", said: "nonroot (uid 65532), the non-root user distroless images ship"}, ""
	}
	for _, u := range m.Users {
		if u.Stage != "" && u.Name != "" {
			uid, gid := u.UID, u.GID
			if uid < 0 {
				uid = user.UID
			}
			if gid < 0 {
				gid = uid
			}
			return create(u.Name, uid, gid, "the user stage "+u.Stage+" creates, now made in this stage too")
		}
	}
	if !shell {
		return account{}, "the base image has no shell to create a user in; add USER with a numeric uid"
	}
	return create(user.Name, user.UID, user.Group(), "a new system user")
}

// existingAccount uses a user the image already has.
func existingAccount(u runmodel.User, m *runmodel.Model) (account, string) {
	a := account{ref: u.Ref(), owner: u.Owner(), name: u.Name, uid: u.UID, home: u.Home}
	switch {
	case u.Name == "nobody":
		a.said = "nobody (uid 65534), whom the Dockerfile already gives its files"
	case u.Why.File == "" && u.Name != "":
		a.said = fmt.Sprintf("%s (uid %d), the non-root user the base image ships", u.Name, u.UID)
	case u.Why.File == "":
		a.said = fmt.Sprintf("uid %d, the non-root user the base image ships", u.UID)
	case u.UID >= 0:
		a.said = fmt.Sprintf("%s (uid %d), the user the Dockerfile already creates", u.Name, u.UID)
	default:
		a.said = u.Name + ", the user the Dockerfile already creates"
	}
	if m.Home != nil && !u.HomeExists {
		switch {
		case !strings.HasPrefix(u.Home, "/home/"):
			// No home (/nonexistent), or a shared folder such as
			// www-data's /var/www: HOME goes to a folder of its own.
			a.home = "/home/" + u.Name
			a.setHome = true
			a.makeHome = true
			a.said += ", with HOME set to a new " + a.home + " (" + m.Home.Why + ")"
		default:
			a.makeHome = true
			a.said += ", with its home folder " + u.Home + " made (" + m.Home.Why + ")"
		}
	}
	return a, ""
}

// movableUserBase reports whether a copy into /root is Python's user base
// (/root/.local) in an image that runs Python: harden can move it and set
// PYTHONUSERBASE.
func movableUserBase(m *runmodel.Model, u runmodel.RootHomeUse) bool {
	return strings.Contains(u.Why.Why, " /root/.local,") && slices.Contains(m.Programs, "python")
}

// pythonUserBase is where harden moves Python packages installed with
// --user: outside /root, readable by every user.
const pythonUserBase = "/opt/python-user"

// moveOutOfRootHome edits the stage so that packages installed under
// /root land where the app's user can read them, or says why it cannot.
func moveOutOfRootHome(p *Pass, st *dockerfile.Stage, m *runmodel.Model, plan *userPlan) ([]string, string) {
	var notes []string
	f := p.File
	style := f.Style
	for _, u := range m.RootHome {
		ins := instructionAtLine(f, u.Why.Line)
		if ins == nil || ins.Stage != st.Index && !inChain(st, ins) {
			return nil, u.Why.String() + ", in a stage harden does not rewrite"
		}
		switch u.Kind {
		case "pip-user":
			sc, err := ins.Script()
			if err != nil {
				return nil, u.Why.String()
			}
			removed := false
			for _, c := range sc.Commands {
				for i := 0; i < c.NArgs(); i++ {
					if a, lit := c.Arg(i); lit && a == "--user" {
						edits, err := removeArg(c, i)
						if err != nil {
							return nil, u.Why.String() + " and harden cannot edit it (" + err.Error() + ")"
						}
						plan.edits = append(plan.edits, edits...)
						removed = true
					}
				}
			}
			if !removed {
				return nil, u.Why.String() + " (PIP_USER is set); install without it, then add USER"
			}
			notes = append(notes, "; pip on line "+strconv.Itoa(ins.Line)+" installs into the image's site-packages instead of /root/.local, which only root can read")
		case "poetry-venv":
			if p.Context != nil && p.Context.Sent(".venv") {
				return nil, u.Why.String() + ", and the build context holds a .venv that COPY would copy over an in-project virtualenv; keep .venv out of the context, then add USER"
			}
			at := insertionPoint(f, f.Stages[ins.Stage].Instructions, indexIn(f.Stages[ins.Stage], ins))
			plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: style.Instruction("ENV", "POETRY_VIRTUALENVS_IN_PROJECT=true") + style.EOL})
			notes = append(notes, "; poetry makes its virtualenv in the project's .venv instead of under /root/.cache, which only root can read")
		case "pipx":
			at := insertionPoint(f, f.Stages[ins.Stage].Instructions, indexIn(f.Stages[ins.Stage], ins))
			plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: style.Instruction("ENV", "PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/usr/local/bin") + style.EOL})
			notes = append(notes, "; pipx installs under /opt/pipx and /usr/local/bin instead of /root/.local")
		case "copy":
			cp, ok := ins.Command.(*instructions.CopyCommand)
			if !ok || path.Clean(cp.DestPath) != "/root/.local" {
				return nil, u.Why.String()
			}
			args := ins.Args()
			destStart := strings.LastIndex(string(f.Src[:ins.ContentEnd()]), args[len(args)-1])
			if destStart < ins.ArgsStart() {
				return nil, u.Why.String()
			}
			plan.edits = append(plan.edits, dockerfile.Edit{Start: destStart, End: destStart + len(args[len(args)-1]), New: pythonUserBase})
			env := "PYTHONUSERBASE=" + pythonUserBase
			if pathIns := pathEnvWith(st, "/root/.local/bin"); pathIns != nil {
				text := string(f.Src[pathIns.Start:pathIns.End])
				plan.edits = append(plan.edits, dockerfile.Edit{Start: pathIns.Start, End: pathIns.End, New: strings.ReplaceAll(text, "/root/.local", pythonUserBase)})
			} else {
				env += ` PATH="` + pythonUserBase + `/bin:$PATH"`
			}
			plan.edits = append(plan.edits, dockerfile.Edit{Start: ins.End, End: ins.End, New: style.Instruction("ENV", env) + style.EOL})
			notes = append(notes, "; the packages copied to /root/.local now go to "+pythonUserBase+", which PYTHONUSERBASE names, since /root is private to root")
		}
	}
	return notes, ""
}

// pathEnvWith returns the ENV of the stage that puts dir on PATH.
func pathEnvWith(st *dockerfile.Stage, dir string) *dockerfile.Instruction {
	for _, in := range st.Instructions {
		if env, ok := in.Command.(*instructions.EnvCommand); ok {
			for _, kv := range env.Env {
				if kv.Key == "PATH" && strings.Contains(kv.Value, dir) {
					return in
				}
			}
		}
	}
	return nil
}

func inChain(st *dockerfile.Stage, ins *dockerfile.Instruction) bool {
	for _, c := range stageChainOf(st) {
		if c.Index == ins.Stage {
			return true
		}
	}
	return false
}

func indexIn(st *dockerfile.Stage, ins *dockerfile.Instruction) int {
	for i, in := range st.Instructions {
		if in == ins {
			return i
		}
	}
	return len(st.Instructions)
}

// instructionAtLine finds the instruction that starts on a line.
func instructionAtLine(f *dockerfile.File, line int) *dockerfile.Instruction {
	for _, in := range f.Instructions {
		if in.Line == line {
			return in
		}
	}
	return nil
}

// removeArg deletes argument i of a command with the space before it.
func removeArg(c *dockerfile.Command, i int) ([]dockerfile.Edit, error) {
	e := c.ReplaceArg(i, "")
	src := c.Script.Ins.File().Src
	for e.Start > 0 && (src[e.Start-1] == ' ' || src[e.Start-1] == '\t') {
		e.Start--
	}
	return []dockerfile.Edit{e}, nil
}

// movePorts moves ports below 1024 that the Dockerfile sets (an ENV the
// app reads, a flag of the start command) above 1024, or says why the
// port cannot move.
func movePorts(p *Pass, st *dockerfile.Stage, m *runmodel.Model, plan *userPlan) ([]string, string) {
	var notes []string
	taken := map[int]bool{}
	for _, port := range m.Ports {
		taken[port.Number] = true
	}
	for _, port := range m.Ports {
		if port.Number >= 1024 {
			continue
		}
		if port.Setting == "expose" && exposedElsewhere(m, port) {
			continue
		}
		to := 8000 + port.Number
		for taken[to] {
			to++
		}
		edits, ok := portEdits(p, st, port, to)
		if !ok {
			return nil, fmt.Sprintf("the app listens on port %d (%s), and only root can bind ports below 1024 where the runtime does not allow it (Docker 20.10 and later do, Kubernetes does not by default); "+
				"the port is set %s, which harden cannot change. Make the app listen above 1024, then add USER", port.Number, port.Why.String(), settingWhere(port.Setting))
		}
		taken[to] = true
		plan.edits = append(plan.edits, edits...)
		notes = append(notes, fmt.Sprintf("; the app now listens on port %d instead of %d, since a non-root user cannot bind ports below 1024 on Kubernetes and older runtimes: this changes the image's interface, so update port mappings, Services and probes", to, port.Number))
		plan.notices = append(plan.notices, fmt.Sprintf("The image's port changes from %d to %d (%s): update port mappings (-p, compose ports), Kubernetes Services and containerPorts, and health probes.", port.Number, to, port.Why.String()))
	}
	return notes, ""
}

// exposedElsewhere reports whether an EXPOSEd port is only documentation:
// the command or the environment sets another port for the app.
func exposedElsewhere(m *runmodel.Model, port runmodel.Port) bool {
	for _, q := range m.Ports {
		if q.Setting != "expose" && q.Setting != "kubernetes" && q.Number != port.Number {
			return true
		}
	}
	return false
}

func settingWhere(s string) string {
	switch s {
	case "expose":
		return "by the app itself (only EXPOSE mentions it)"
	case "config":
		return "in a server configuration"
	case "image":
		return "by the base image's server"
	case "kubernetes":
		return "in the Kubernetes manifests"
	case "compose":
		return "by a compose service"
	case "flag":
		return "by a command-line flag outside the Dockerfile"
	}
	return "by " + s
}

// portEdits finds where the Dockerfile sets a port and changes it: the
// ENV that sets the variable, the start command's flag, and the EXPOSE and
// HEALTHCHECK that name it.
func portEdits(p *Pass, st *dockerfile.Stage, port runmodel.Port, to int) ([]dockerfile.Edit, bool) {
	f := p.File
	var edits []dockerfile.Edit
	num := strconv.Itoa(port.Number)
	switch {
	case strings.HasPrefix(port.Setting, "env "):
		name := strings.TrimPrefix(port.Setting, "env ")
		ins := envSetting(st, name)
		if ins == nil {
			return nil, false
		}
		e, ok := replaceNumber(f, ins, num, to, name+"=")
		if !ok {
			return nil, false
		}
		edits = append(edits, e)
	case port.Setting == "flag" && port.Why.File == f.Name:
		ins := instructionAtLine(f, port.Why.Line)
		if ins == nil || ins.Keyword != "cmd" && ins.Keyword != "entrypoint" {
			return nil, false
		}
		e, ok := replaceNumber(f, ins, num, to, "")
		if !ok {
			return nil, false
		}
		edits = append(edits, e)
	default:
		return nil, false
	}
	for _, in := range st.Instructions {
		switch in.Keyword {
		case "expose", "healthcheck":
			if e, ok := replaceNumber(f, in, num, to, ""); ok {
				edits = append(edits, e)
			}
		}
	}
	return edits, true
}

// envSetting returns the last ENV of the stage chain that sets name.
func envSetting(st *dockerfile.Stage, name string) *dockerfile.Instruction {
	var found *dockerfile.Instruction
	for i := len(stageChainOf(st)) - 1; i >= 0; i-- {
		for _, in := range stageChainOf(st)[i].Instructions {
			if env, ok := in.Command.(*instructions.EnvCommand); ok {
				for _, kv := range env.Env {
					if kv.Key == name {
						found = in
					}
				}
			}
		}
	}
	return found
}

// replaceNumber replaces the one occurrence of a port number in an
// instruction's arguments (as a whole number, after prefix when given).
func replaceNumber(f *dockerfile.File, ins *dockerfile.Instruction, num string, to int, prefix string) (dockerfile.Edit, bool) {
	lg := ins.Logical()
	start := ins.ArgsStart()
	text := lg.Text[start:]
	found := -1
	for i := 0; i+len(num) <= len(text); i++ {
		if text[i:i+len(num)] != num {
			continue
		}
		if i > 0 && isDigit(text[i-1]) || i+len(num) < len(text) && isDigit(text[i+len(num)]) {
			continue
		}
		if prefix != "" && !strings.HasSuffix(strings.Trim(text[:i], `"'`), prefix) {
			continue
		}
		if found >= 0 {
			return dockerfile.Edit{}, false // ambiguous
		}
		found = i
	}
	if found < 0 {
		return dockerfile.Edit{}, false
	}
	at := start + found
	return dockerfile.Edit{Start: lg.Orig(at), End: lg.OrigEnd(at + len(num)), New: strconv.Itoa(to)}, true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// atoi reads a non-negative number, -1 when s is not one.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// insertionPoint is where a new instruction goes before ins[i]: above the
// comments that belong to ins[i].
func insertionPoint(f *dockerfile.File, ins []*dockerfile.Instruction, i int) int {
	if i >= len(ins) {
		return ins[len(ins)-1].End
	}
	at := ins[i].Start
	if i == 0 {
		return at
	}
	for n := ins[i].Line - 1; n > ins[i-1].EndLine; n-- {
		line := strings.TrimSpace(f.LineText(n))
		if !strings.HasPrefix(line, "#") {
			break
		}
		at = f.LineStart(n)
	}
	return at
}

func joinWorkdir(wd, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(wd, p)
}

func underDir(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func lastUserIn(st *dockerfile.Stage) *dockerfile.Instruction {
	for i := len(st.Instructions) - 1; i >= 0; i-- {
		if in := st.Instructions[i]; in.Keyword == "user" && len(in.Args()) > 0 {
			return in
		}
	}
	return nil
}

func hasRunAfter(st *dockerfile.Stage, ins *dockerfile.Instruction) bool {
	for _, in := range st.Instructions {
		if in.Index > ins.Index && in.Keyword == "run" {
			return true
		}
	}
	return false
}

// reportPrivilegedPorts warns about EXPOSE below 1024 in a non-root image:
// binding them needs root or CAP_NET_BIND_SERVICE outside Docker's defaults.
func reportPrivilegedPorts(p *Pass, st *dockerfile.Stage) {
	for _, in := range st.Instructions {
		ex, ok := in.Command.(*instructions.ExposeCommand)
		if !ok {
			continue
		}
		for _, port := range ex.Ports {
			num, _, _ := strings.Cut(port, "/")
			if n, err := strconv.Atoi(num); err == nil && n > 0 && n < 1024 {
				p.findings = append(p.findings, Finding{
					Rule: p.Rule, Severity: Warning, File: p.File.Name, Line: in.Line, Column: 1, EndLine: in.EndLine,
					Message: fmt.Sprintf("port %d is below 1024: a non-root user can bind it only where the runtime allows unprivileged low ports (Docker does, Kubernetes does not by default); listen on a port above 1024", n),
				})
			}
		}
	}
}

// joinAnd joins phrases as "a, b and c".
func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

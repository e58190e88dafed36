package transform

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
)

// NonRootUser makes the final stage run as a non-root user.
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
			"harden creates a system user the way the runtime's distro does it (groupadd/useradd " +
			"on Debian and Ubuntu, addgroup/adduser on Alpine), uses the user an image already " +
			"ships (node, nonroot on distroless), gives that user the app's files and the folders it " +
			"writes (WORKDIR, VOLUMEs), and switches to it after the last step that needs root.",
		Bad:  "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nWORKDIR /app\nRUN groupadd --system --gid 10001 app && useradd --system --no-create-home --uid 10001 --gid app --shell /usr/sbin/nologin app && mkdir -p /app && chown app:app /app\nCOPY --chown=app:app . .\nUSER 10001:10001\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkNonRootUser,
}

func checkNonRootUser(p *Pass) {
	f := p.File
	st := f.FinalStage()
	if user, _ := finalUser(f); user != "" && !rootUser(user) {
		reportPrivilegedPorts(p, st)
		return
	}
	root := rootImage(st)
	var facts detect.ImageFacts
	if root.Scratch {
		facts = detect.Image("scratch")
	} else if root.Known {
		facts = detect.Image(root.Ref)
	} else {
		p.Report(st.From, "the container runs as root; the base image is set by an ARG without a default, so harden cannot tell how to add a user: add one and a USER instruction", nil)
		return
	}
	if user, _ := finalUser(f); user == "" && facts.NonRootDefault {
		return // the image already runs as its own non-root user
	}
	if facts.Toolchain == detect.TriYes {
		p.Report(st.From, "the container runs as root; harden left the user alone because the final stage is a build image ("+facts.Ref+"), where tools keep caches in root's home: split off a runtime stage first", nil)
		return
	}
	if facts.Port > 0 && facts.Port < 1024 && !setsCommand(st) {
		p.Report(st.From, fmt.Sprintf("the container runs as root; %s's server binds port %d as root and drops privileges itself: make it listen above 1024, then add USER", facts.Ref, facts.Port), nil)
		return
	}
	plan, why := planUser(p, st, facts)
	if why != "" {
		p.Report(st.From, "the container runs as root; "+why, nil)
		return
	}
	at, msg := st.From, "the final stage has no USER, so the container runs as root"
	if user, ins := finalUser(f); ins != nil && rootUser(user) {
		at, msg = ins, "the image ends with USER "+user+", so the container runs as root"
	}
	p.Report(at, msg, &SuggestedFix{
		Description: plan.description,
		Edits:       plan.edits,
	})
}

// existingUser returns a non-root user the final stage's chain already
// switches to somewhere, so that harden reuses it instead of creating a
// second one.
func existingUser(f *dockerfile.File) string {
	for _, st := range finalChain(f) {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			in := st.Instructions[i]
			if in.Keyword == "user" && len(in.Args()) > 0 && !rootUser(in.Args()[0]) && !strings.Contains(in.Args()[0], "$") {
				return in.Args()[0]
			}
			if name := createdUser(in); name != "" {
				return name
			}
		}
	}
	return ""
}

// createdUser returns the account a RUN creates with useradd or adduser.
func createdUser(in *dockerfile.Instruction) string {
	if in.Keyword != "run" {
		return ""
	}
	sc, err := in.Script()
	if err != nil {
		return ""
	}
	name := ""
	for _, c := range sc.Commands {
		if n := c.Name(); n != "useradd" && n != "adduser" {
			continue
		}
		// The account name is the last word; options take values, so a
		// literal last word that is not an option is the name.
		if last, lit := c.Arg(c.NArgs() - 1); lit && c.NArgs() > 1 && !strings.HasPrefix(last, "-") && !strings.ContainsAny(last, "$/") {
			name = last
		}
	}
	return name
}

// finalUser returns the last USER of the final stage or the stages it
// builds on, and its instruction.
func finalUser(f *dockerfile.File) (string, *dockerfile.Instruction) {
	for _, st := range finalChain(f) {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			if ins := st.Instructions[i]; ins.Keyword == "user" && len(ins.Args()) > 0 {
				return ins.Args()[0], ins
			}
		}
	}
	return "", nil
}

// rootUser reports whether a USER value is root: "root" or uid 0, with
// or without a group.
// numericUser is the USER value for a known account. Numbers let
// Kubernetes' runAsNonRoot verify the user without reading /etc/passwd.
func numericUser(uid, gid int) string { return fmt.Sprintf("%d:%d", uid, gid) }

// setsCommand reports whether a stage sets its own CMD or ENTRYPOINT.
func setsCommand(st *dockerfile.Stage) bool {
	for _, in := range st.Instructions {
		if in.Keyword == "cmd" || in.Keyword == "entrypoint" {
			return true
		}
	}
	return false
}

func rootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "root" || name != "" && strings.Trim(name, "0") == ""
}

// userPlan is the set of edits that give a stage a non-root user.
type userPlan struct {
	edits       []dockerfile.Edit
	description string
}

func planUser(p *Pass, st *dockerfile.Stage, facts detect.ImageFacts) (userPlan, string) {
	f := p.File
	style := f.Style
	user := p.User
	var create []string // shell commands that create the user, or nil
	var userRef, owner string
	existing := existingUser(f)
	switch {
	case existing != "":
		userRef, owner = existing, existing
		if !strings.Contains(owner, ":") {
			owner += ":" + existing
		}
	case facts.Distro == "windows":
		return userPlan{}, "Windows images manage users differently; use ContainerUser"
	case facts.User != nil && facts.User.Name != "":
		userRef, owner = numericUser(facts.User.UID, facts.User.UID), facts.User.Name+":"+facts.User.Name
	case facts.User != nil:
		userRef = strconv.Itoa(facts.User.UID)
		owner = userRef + ":" + userRef
	case facts.Distro == "scratch":
		userRef, owner = "65532:65532", "65532:65532"
	case facts.Distro == "distroless":
		userRef, owner = "65532:65532", "nonroot:nonroot"
	case facts.Shell == detect.TriNo:
		return userPlan{}, "the base image has no shell to create a user in; add USER with a numeric uid"
	case facts.Distro == "debian" || facts.Distro == "ubuntu" || facts.PackageManager == "dnf" || facts.PackageManager == "yum" || facts.Distro == "ubi":
		create = []string{
			fmt.Sprintf("groupadd --system --gid %d %s", user.Group(), user.Name),
			fmt.Sprintf("useradd --system --no-create-home --uid %d --gid %s --shell /usr/sbin/nologin %s", user.UID, user.Name, user.Name),
		}
		userRef, owner = numericUser(user.UID, user.Group()), user.Name+":"+user.Name
	case facts.Distro == "alpine" || facts.Distro == "busybox" || facts.Distro == "wolfi":
		create = []string{
			fmt.Sprintf("addgroup -S -g %d %s", user.Group(), user.Name),
			fmt.Sprintf("adduser -S -D -H -u %d -G %s -s /sbin/nologin %s", user.UID, user.Name, user.Name),
		}
		userRef, owner = numericUser(user.UID, user.Group()), user.Name+":"+user.Name
	default:
		return userPlan{}, "harden does not know how to create a user in " + facts.Ref + " (distro " + facts.Distro + "); add one and a USER instruction"
	}
	shell := facts.Shell != detect.TriNo && facts.Distro != "distroless" && facts.Distro != "scratch"
	createsUser := len(create) > 0

	var plan userPlan
	ins := st.Instructions
	// Folders the app writes: its WORKDIR and VOLUMEs.
	workdir := stageWorkdir(st)
	var owned []string
	if workdir != "/" {
		owned = append(owned, workdir)
	}
	for _, in := range ins {
		if v, ok := in.Command.(*instructions.VolumeCommand); ok {
			for _, vol := range v.Volumes {
				if path.IsAbs(vol) && !strings.Contains(vol, "$") {
					owned = append(owned, path.Clean(vol))
				}
			}
		}
	}
	if len(owned) > 0 && shell {
		create = append(create, "mkdir -p "+strings.Join(owned, " "), "chown "+owner+" "+strings.Join(owned, " "))
	}

	// The user must exist before the first COPY that names it and before
	// any USER line.
	createAt := len(ins)
	for i, in := range ins {
		switch in.Keyword {
		case "copy", "add", "cmd", "entrypoint", "expose", "healthcheck", "user":
			createAt = i
		default:
			continue
		}
		break
	}
	if len(create) > 0 {
		at := insertionPoint(f, ins, createAt)
		plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: style.Instruction("RUN", style.Chain(create)) + style.EOL})
	}

	// App files copied into the working directory belong to the user.
	chowned := 0
	wd := "/"
	for _, in := range ins {
		if in.Keyword == "workdir" && len(in.Args()) > 0 {
			wd = joinWorkdir(wd, in.Args()[0])
		}
		if in.Keyword != "copy" && in.Keyword != "add" {
			continue
		}
		if _, has := in.Flag("chown"); has {
			continue
		}
		args := in.Args()
		if len(args) < 2 || wd == "/" || !underDir(joinWorkdir(wd, args[len(args)-1]), wd) {
			continue
		}
		at := in.KeywordStart + len(in.RawKeyword())
		plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: " --chown=" + owner})
		chowned++
	}

	// USER goes after the last step that needs root; a trailing USER root
	// is replaced.
	userLine := style.Instruction("USER", userRef)
	last := ins[len(ins)-1]
	if lastUser := lastUserIn(st); lastUser != nil && rootUser(lastUser.Args()[0]) && !hasRunAfter(st, lastUser) {
		plan.edits = append(plan.edits, dockerfile.Edit{Start: lastUser.KeywordStart, End: lastUser.ContentEnd(), New: userLine})
	} else {
		after := 0
		for i, in := range ins {
			switch in.Keyword {
			case "run", "copy", "add", "workdir", "user", "from":
				after = i
			}
		}
		if after+1 < len(ins) {
			at := insertionPoint(f, ins, after+1)
			plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: userLine + style.EOL})
		} else {
			at := last.End
			text := userLine + style.EOL
			if at == len(f.Src) && !strings.HasSuffix(string(f.Src), "\n") {
				text = style.EOL + userLine
			}
			plan.edits = append(plan.edits, dockerfile.Edit{Start: at, End: at, New: text})
		}
	}

	switch {
	case existing != "":
		plan.description = "the app now runs as " + userRef + ", the user the Dockerfile already creates"
	case createsUser:
		plan.description = fmt.Sprintf("the app now runs as %s (uid %d), a system user created with %s", user.Name, user.UID, strings.Fields(create[1])[0])
	case facts.Distro == "scratch":
		plan.description = "the app now runs as uid 65532 (scratch has no user database, so the uid is numeric)"
	case facts.User != nil && facts.User.Name != "":
		plan.description = fmt.Sprintf("the app now runs as %s (uid %d), the non-root user the base image ships", facts.User.Name, facts.User.UID)
	default:
		plan.description = "the app now runs as " + userRef + ", the non-root user the base image ships"
	}
	if chowned > 0 {
		plan.description += fmt.Sprintf("; %d COPY %s the files to it", chowned, plural(chowned, "gives", "give"))
	}
	if len(owned) > 0 && shell {
		plan.description += "; it owns " + strings.Join(owned, ", ")
	}
	return plan, ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// insertionPoint is where a new instruction goes before ins[i]: above the
// comments that belong to ins[i].
func insertionPoint(f *dockerfile.File, ins []*dockerfile.Instruction, i int) int {
	if i >= len(ins) {
		return ins[len(ins)-1].End
	}
	at := ins[i].Start
	for n := ins[i].Line - 1; n > ins[i-1].EndLine; n-- {
		line := strings.TrimSpace(f.LineText(n))
		if !strings.HasPrefix(line, "#") {
			break
		}
		at = f.LineStart(n)
	}
	return at
}

func stageWorkdir(st *dockerfile.Stage) string {
	wd := "/"
	for _, in := range st.Instructions {
		if in.Keyword == "workdir" && len(in.Args()) > 0 && !strings.Contains(in.Args()[0], "$") {
			wd = joinWorkdir(wd, in.Args()[0])
		}
	}
	return wd
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

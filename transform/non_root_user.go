package transform

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
)

// NonRootUser flags final images that run as root: no USER in the final
// stage (or the stages it builds on), or a last USER of root or 0.
var NonRootUser = &Rule{
	ID:       "HD409",
	Name:     "non-root-user",
	Title:    "container runs as root",
	Severity: Warning,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3002"},
	Doc: Doc{
		Why: "Without a USER instruction a container runs as root. Root in a container is the " +
			"same uid 0 as on the host, kept in only by namespaces and capabilities: an app bug " +
			"becomes a root shell that can modify the image's files, and a kernel or runtime " +
			"escape becomes root on the node. Many clusters (Kubernetes runAsNonRoot, OpenShift) " +
			"refuse such images outright. Create an unprivileged user in the final stage, give " +
			"it the files it writes, and end with `USER` (numeric uid:gid works best with " +
			"runAsNonRoot). Base images that ship a user still start as root: node images " +
			"need `USER node`, distroless images `USER nonroot` (or a :nonroot tag).",
		Bad: "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nRUN groupadd --system app && useradd --system --no-create-home --gid app --uid 10001 app\n" +
			"WORKDIR /app\nCOPY --chown=app:app . .\nUSER app\nCMD [\"python\", \"app.py\"]\n",
	},
	Check: checkNonRootUser,
}

func checkNonRootUser(p *Pass) {
	final := p.File.FinalStage()
	img := rootImage(final)
	if isWindowsImage(img.Ref) {
		return
	}
	if last := lastUser(p.File); last != nil {
		user := last.Command.(*instructions.UserCommand).User
		if rootUser(user) {
			p.Report(last, "the image ends with USER "+user+", so the container runs as root; switch to an unprivileged user after the steps that need root", nil)
		}
		return
	}
	if img.Known && nonRootByDefault(img.Ref) {
		return
	}
	p.Report(final.From, "the final stage has no USER, so the container runs as root; "+userAdvice(img), nil)
}

// lastUser is the USER instruction in force at the end of the final stage,
// looking through the stages it builds on.
func lastUser(f *dockerfile.File) *dockerfile.Instruction {
	for _, st := range finalChain(f) {
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			if st.Instructions[i].Keyword == "user" {
				return st.Instructions[i]
			}
		}
	}
	return nil
}

// rootUser reports whether a USER value is root: "root", "0", with or
// without a group.
func rootUser(user string) bool {
	name, _, _ := strings.Cut(user, ":")
	return name == "root" || strings.Trim(name, "0") == "" && name != ""
}

// nonRootByDefault reports whether a base image already starts as a
// non-root user, so that the final stage needs no USER of its own.
func nonRootByDefault(ref string) bool {
	name, tag, _ := SplitImage(strings.ToLower(ref))
	switch {
	case strings.Contains(name, "distroless"):
		return strings.Contains(tag, "nonroot")
	case strings.HasPrefix(name, "cgr.dev/chainguard/"):
		return !strings.HasSuffix(tag, "-dev") && tag != "latest-dev"
	case strings.HasSuffix(name, "nginx-unprivileged"):
		return true
	}
	return false
}

// userAdvice suggests how to add a user for the image family at hand.
func userAdvice(img chainImage) string {
	name, _, _ := SplitImage(strings.ToLower(img.Ref))
	last := name[strings.LastIndex(name, "/")+1:]
	switch {
	case img.Scratch:
		return "add USER 65532:65532 (scratch has no user database, so use a numeric uid)"
	case strings.Contains(name, "distroless"):
		return "add USER nonroot:nonroot or use the :nonroot tag"
	case last == "node":
		return "node images ship a node user: add USER node"
	case last == "alpine" || strings.Contains(img.Ref, "alpine"):
		return "create one with addgroup -S app && adduser -S -D -H -G app app, then add USER app"
	}
	return "create one with groupadd --system app && useradd --system --no-create-home --gid app app, then add USER app"
}

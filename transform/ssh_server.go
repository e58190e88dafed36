package transform

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
)

// SSHServer flags SSH servers in images: EXPOSE 22 and installing
// openssh-server or dropbear.
var SSHServer = &Rule{
	ID:               "HD410",
	Name:             "ssh-server",
	Title:            "SSH server in the image",
	Severity:         Warning,
	SecuritySeverity: 6.0,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "A container should run one app. An SSH daemon beside it is a second network " +
			"service with its own credentials to manage and patch, needs root to start, and is " +
			"the first thing scanners knock on. To get a shell in a running container use " +
			"`docker exec` or `kubectl exec`, and `kubectl debug` or an ephemeral debug " +
			"container for images without a shell.",
		Bad:  "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends openssh-server\nEXPOSE 22\nCMD [\"/usr/sbin/sshd\", \"-D\"]\n",
		Good: "FROM debian:bookworm-slim\nCOPY app /usr/local/bin/app\nEXPOSE 8080\nCMD [\"app\"]\n",
	},
	Check: checkSSHServer,
}

// sshPackages are SSH server packages across distributions.
var sshPackages = map[string]bool{"openssh-server": true, "dropbear": true, "openssh": true, "openssh-server-pam": true}

func checkSSHServer(p *Pass) {
	for _, ins := range p.File.Instructions {
		expose, ok := ins.Command.(*instructions.ExposeCommand)
		if !ok {
			continue
		}
		for _, port := range expose.Ports {
			num, proto, _ := strings.Cut(port, "/")
			if num == "22" && (proto == "" || strings.EqualFold(proto, "tcp")) {
				p.Report(ins, "EXPOSE 22 publishes SSH; use docker exec or kubectl exec for a shell instead of running sshd in the container", nil)
			}
		}
	}
	p.Commands(func(c *dockerfile.Command) {
		if pkg := installsPackage(c, sshPackages); pkg != "" {
			p.ReportAt(c, "installs "+pkg+", an SSH server; use docker exec or kubectl exec for a shell instead", nil)
		}
	})
}

// installsPackage returns the first package from want that a package-manager
// install command names, or "".
func installsPackage(c *dockerfile.Command, want map[string]bool) string {
	var sub string
	var at int
	var ok bool
	switch c.Name() {
	case "apt-get", "apt":
		sub, at, ok = aptGet(c, true)
	case "apk", "dnf", "yum", "microdnf", "zypper":
		sub, at, ok = subcommand(c)
	default:
		return ""
	}
	if !ok || sub != "install" && sub != "add" && sub != "in" {
		return ""
	}
	for _, a := range positionalArgs(c, at) {
		name, _, _ := strings.Cut(a, "=") // apt version pins: pkg=1.2
		if want[name] {
			return name
		}
	}
	return ""
}

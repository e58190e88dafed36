package runmodel

import (
	"path"
	"strings"
)

// Deployment is how a deployment file of the repository (a compose
// service) runs the stage: its user, mounts, ports, command and
// environment override or add to what the Dockerfile says.
type Deployment struct {
	// Where names it for evidence: "compose.yaml service web".
	Where string
	// User is the service's user: setting, "" when it sets none.
	User string
	// Mounts are the paths the service mounts into the container.
	Mounts []Mount
	// Ports are the container ports the service publishes.
	Ports []int
	// Command and Entrypoint replace the image's when set (exec words).
	Command, Entrypoint []string
	// Env is the service's environment.
	Env map[string]string
}

// Mount is one mount of a deployment.
type Mount struct {
	Target string
	// Kind is "volume" (a named volume), "bind" (a host folder) or
	// "tmpfs" (memory, writable by everyone).
	Kind     string
	ReadOnly bool
}

// deployments applies what the deployments say: their mounts hold data the
// app writes (or, for tmpfs, that everyone may write), their ports are
// bound, their users run the app, and their commands run too.
func (a *analysis) deployments(r *runner) {
	for _, d := range a.in.Deployments {
		at := Evidence{File: d.Where}
		for _, m := range d.Mounts {
			if m.ReadOnly || m.Target == "" || !path.IsAbs(m.Target) {
				continue
			}
			target := path.Clean(m.Target)
			switch m.Kind {
			case "tmpfs":
				a.tmpfs = append(a.tmpfs, target)
			default:
				why := "it mounts the named volume at " + target
				if m.Kind == "bind" {
					why = "it mounts a folder of the host at " + target
				}
				a.m.addWrite(Write{Path: target, Kind: CreatesIn, Volume: true, Mount: m.Kind, Copied: true, Why: Evidence{File: d.Where, Why: why}})
			}
		}
		for _, p := range d.Ports {
			a.m.addPort(Port{Number: p, Setting: "compose", Why: Evidence{File: d.Where, Why: "the service publishes container port " + itoa(p)}})
		}
		if d.User != "" {
			a.m.Deployed = append(a.m.Deployed, DeployedUser{User: d.User, Why: Evidence{File: d.Where, Why: "user: " + d.User}})
		}
		words := append(append([]string(nil), d.Entrypoint...), d.Command...)
		if len(words) > 0 {
			at.Why = "the service runs " + strings.Join(words, " ")
			r.follow(words, at, 0)
		}
	}
}

// deploymentEnv lays the services' environment over the image's, so that
// scripts and the app's own defaults read the values they run with.
func (a *analysis) deploymentEnv() {
	for _, d := range a.in.Deployments {
		for k, v := range d.Env {
			a.st.env[k] = v
		}
	}
}

// DeployedUser is a user a deployment runs the image as.
type DeployedUser struct {
	User string   `json:"user"`
	Why  Evidence `json:"why"`
}

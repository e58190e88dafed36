// Package build drives a BuildKit daemon: it finds and probes the daemon,
// solves a Dockerfile held in memory with the dockerfile.v0 frontend, exports
// the result as an OCI layout and measures the image it produced.
package build

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Default daemon locations, in the order they are tried when neither an
// explicit address nor BUILDKIT_HOST is given.
const (
	// DefaultAddress is where a root buildkitd listens unless configured otherwise.
	DefaultAddress = "unix:///run/buildkit/buildkitd.sock"
	// DockerSocket is where a Docker engine (which embeds BuildKit) listens.
	DockerSocket = "/var/run/docker.sock"
	// EnvHost is the variable buildctl and harden both read.
	EnvHost = "BUILDKIT_HOST"
)

// Source says where an Address came from, so error messages can tell the user
// which setting to change.
type Source string

const (
	SourceFlag    Source = "--buildkit-host"
	SourceEnv     Source = EnvHost
	SourceDefault Source = "default"
)

// Address is a resolved BuildKit endpoint.
type Address struct {
	// URL is what the BuildKit client dials, e.g. unix:///run/buildkit/buildkitd.sock,
	// tcp://host:1234 or docker-container://buildx_buildkit_default.
	URL string
	// Source is where URL came from.
	Source Source
	// DockerEngine is set when URL is a Docker engine socket: the engine speaks
	// HTTP and hands BuildKit's gRPC over after an upgrade, so it needs its own
	// dialers rather than a plain gRPC connection.
	DockerEngine bool
	// Tried lists the default locations that were considered (only for
	// SourceDefault), so an "unreachable" message can name them all.
	Tried []string
}

func (a Address) String() string { return a.URL }

// environment is what resolution reads from the machine; tests replace it.
type environment struct {
	getenv func(string) string
	exists func(path string) bool
}

var hostEnv = environment{
	getenv: os.Getenv,
	exists: func(p string) bool { _, err := os.Stat(p); return err == nil },
}

// ResolveAddress picks the daemon address: explicit (a --buildkit-host value)
// wins, then $BUILDKIT_HOST, then the first default socket that exists:
// buildkitd's root socket, the rootless socket under $XDG_RUNTIME_DIR, and a
// Docker engine's socket ($DOCKER_HOST when it is a unix socket, else
// /var/run/docker.sock). When none exists it returns buildkitd's socket so the
// connection error names the most likely place.
func ResolveAddress(explicit string) Address {
	return hostEnv.resolve(explicit)
}

func (e environment) resolve(explicit string) Address {
	if explicit != "" {
		return classify(explicit, SourceFlag, e)
	}
	if v := e.getenv(EnvHost); v != "" {
		return classify(v, SourceEnv, e)
	}

	var candidates []Address
	candidates = append(candidates, Address{URL: DefaultAddress})
	if xdg := e.getenv("XDG_RUNTIME_DIR"); xdg != "" {
		candidates = append(candidates, Address{URL: "unix://" + filepath.Join(xdg, "buildkit", "buildkitd.sock")})
	}
	dockerSock := DockerSocket
	if dh := e.getenv("DOCKER_HOST"); strings.HasPrefix(dh, "unix://") {
		dockerSock = strings.TrimPrefix(dh, "unix://")
	}
	candidates = append(candidates, Address{URL: "unix://" + dockerSock, DockerEngine: true})

	tried := make([]string, len(candidates))
	for i, c := range candidates {
		tried[i] = c.URL
	}
	for _, c := range candidates {
		if e.exists(strings.TrimPrefix(c.URL, "unix://")) {
			c.Source, c.Tried = SourceDefault, tried
			return c
		}
	}
	return Address{URL: DefaultAddress, Source: SourceDefault, Tried: tried}
}

// classify turns a user-given address into an Address. Besides every scheme
// BuildKit's client knows (unix, tcp, and the connection helpers such as
// docker-container://), it accepts docker://[/path/to/docker.sock] for a Docker
// engine, and recognises a unix socket named docker.sock as one.
func classify(raw string, src Source, e environment) Address {
	a := Address{URL: raw, Source: src}
	u, err := url.Parse(raw)
	if err != nil {
		return a // the client reports the parse error with the address in it
	}
	switch u.Scheme {
	case "docker":
		sock := u.Path
		if sock == "" {
			sock = DockerSocket
			if dh := e.getenv("DOCKER_HOST"); strings.HasPrefix(dh, "unix://") {
				sock = strings.TrimPrefix(dh, "unix://")
			}
		}
		a.URL, a.DockerEngine = "unix://"+sock, true
	case "unix":
		a.DockerEngine = filepath.Base(u.Path) == "docker.sock"
	}
	return a
}

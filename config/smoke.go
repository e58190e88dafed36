package config

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/harden-dev/harden/buildjob"
)

// Smoke is the smoke check a repository asks for: how `harden fix
// --verify`, `harden report` and `fix --build` tell that a started image
// works. A command line's --smoke wins over Command.
type Smoke struct {
	// Command runs inside the started container and must exit 0 (shell
	// quoting, no expansion), for jobs and CLIs that serve no port.
	Command string
	// Port is the TCP port that must answer, instead of the image's EXPOSE.
	Port int
	// HTTPPath makes the check an HTTP GET of this path on the port, which
	// must answer with a status below 500.
	HTTPPath string
	// Timeout is how long the app gets to answer or the command to finish.
	Timeout time.Duration
	// Line is where the smoke key is, for messages.
	Line int
}

// maxSmokeTimeout bounds smoke.timeout: a check that needs longer than this
// is a deployment test, not a smoke check.
const maxSmokeTimeout = time.Hour

func (p parser) smoke(c *Config, n *yaml.Node) error {
	s := &Smoke{Line: n.Line}
	err := p.mapping(n, "smoke", func(key, val *yaml.Node) error {
		v, err := p.scalar(val, "smoke."+key.Value)
		if err != nil {
			return err
		}
		switch key.Value {
		case "command":
			if _, err := buildjob.ParseSmokeCommand(v); err != nil {
				return p.errorf(val, "smoke.command: %v", err)
			}
			s.Command = v
		case "port":
			port, err := strconv.Atoi(v)
			if err != nil || port < 1 || port > 65535 {
				return p.errorf(val, "smoke.port %q must be a TCP port number from 1 to 65535", v)
			}
			s.Port = port
		case "http_path":
			if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " \t\n") {
				return p.errorf(val, "smoke.http_path %q must be a path that starts with / and has no spaces", v)
			}
			s.HTTPPath = v
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > maxSmokeTimeout {
				return p.errorf(val, "smoke.timeout %q must be a duration such as 45s or 2m, at most %s", v, maxSmokeTimeout)
			}
			s.Timeout = d
		default:
			return p.errorf(key, "unknown key smoke.%s (want command, port, http_path or timeout)", key.Value)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.Command != "" && (s.Port != 0 || s.HTTPPath != "") {
		return p.errorf(n, "smoke.command replaces the port check: give a command, or port and http_path, not both")
	}
	c.Smoke = s
	return nil
}

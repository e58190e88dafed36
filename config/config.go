// Package config reads .harden.yaml, a repository's standing decisions about
// harden: rules turned off or given another severity, its own base-image
// mapping (mirrors, golden images) and the runtime user to create.
//
//	# .harden.yaml
//	rules:
//	  missing-healthcheck: off   # Kubernetes probes health itself
//	  HD407: error               # a severity: info, warning or error
//	base_images:
//	  python:3.12: registry.example.com/python:3.12-slim
//	  node: registry.example.com/node
//	user:
//	  name: app
//	  uid: 10001
//	  gid: 10001                 # optional, defaults to uid
//	volumes: migrate             # VOLUME data is moved to the user; harden may add one
//	smoke:                       # how fix --verify and report start the images
//	  port: 8080                 # wait for this port instead of EXPOSE
//	  http_path: /healthz        # and GET this path; an answer below 500 passes
//	  timeout: 60s               # how long the app gets to answer
//	  # command: python -c "import app"   # or run this inside; it must exit 0
//
// Decoding is strict: an unknown key, an unknown rule or a bad value is an
// error naming the file and line, so that a typo never silently disables a
// gate. The file is found by walking up from the Dockerfile (see Find).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/internal/lazyre"
	"github.com/harden-dev/harden/transform"
)

// FileName is the name harden looks for; AltFileName is accepted too.
const (
	FileName    = ".harden.yaml"
	AltFileName = ".harden.yml"
)

// maxSize bounds the file: configuration is a few lines, and anything
// larger is a mistake that should not be read into memory.
const maxSize = 1 << 20

// Config is one .harden.yaml. The zero value (and a nil *Config) means
// "no configuration": every rule on at its own severity.
type Config struct {
	// Path is the file the configuration was read from.
	Path string
	// Rules holds a setting per rule ID.
	Rules map[string]RuleSetting
	// BaseImages maps an image reference ("python:3.12") or a repository
	// ("python") to the image to use instead.
	BaseImages map[string]string
	// User is the runtime user to create, or nil for harden's default.
	User *User
	// MigrateVolumes is set by `volumes: migrate`: the operators move the
	// data of existing VOLUMEs to the runtime user on upgrade, so harden
	// may add a user to images that declare VOLUMEs (by default it leaves
	// them alone, since root owns that data).
	MigrateVolumes bool
	// Smoke is how a started image is checked; nil means the default check.
	Smoke *Smoke
}

// RuleSetting is what the configuration says about one rule.
type RuleSetting struct {
	// Off turns the rule off.
	Off bool
	// Severity overrides the rule's own when set.
	Severity *transform.Severity
	// Line is where the setting is, for messages.
	Line int
}

// User is the unprivileged user the runtime stage should run as.
type User struct {
	Name string
	UID  int
	GID  int // equals UID unless the file says otherwise
}

// Error is a configuration file harden cannot use.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and parses a configuration file.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if len(data) > maxSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is over %d KiB: not a harden configuration", maxSize>>10)}
	}
	return Parse(path, data)
}

// Parse parses configuration text; name is used in errors and as Path.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{Path: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil // an empty file: no settings
		}
		return nil, yamlError(name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := more.Line
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, &Error{File: name, Line: line, Msg: "more than one YAML document; harden reads one"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return c, nil // a file holding only comments
	}
	p := parser{file: name}
	err := p.mapping(root, "the file", func(key, val *yaml.Node) error {
		switch key.Value {
		case "rules":
			return p.rules(c, val)
		case "base_images":
			return p.baseImages(c, val)
		case "user":
			return p.user(c, val)
		case "smoke":
			return p.smoke(c, val)
		case "volumes":
			v, err := p.scalar(val, "volumes")
			if err != nil {
				return err
			}
			switch v {
			case "migrate":
				c.MigrateVolumes = true
			case "keep-root":
				c.MigrateVolumes = false
			default:
				return p.errorf(val, "volumes: unknown value %q (want migrate or keep-root)", v)
			}
			return nil
		}
		return p.errorf(key, "unknown key %q (want rules, base_images, user, volumes or smoke)", key.Value)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// yamlLine pulls the line number out of the YAML library's messages
// ("yaml: line 3: ...") so that syntax errors read like every other error.
var yamlLine = lazyre.New(`^yaml: line (\d+): (.*)$`)

func yamlError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

type parser struct{ file string }

func (p parser) errorf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// mapping walks a mapping node's pairs in order, rejecting anything else,
// duplicate keys and non-string keys.
func (p parser) mapping(n *yaml.Node, what string, fn func(key, val *yaml.Node) error) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "rules:" with nothing under it
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s must be a mapping of keys to values", what)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			return p.errorf(key, "keys in %s must be plain strings", what)
		}
		if first, dup := seen[key.Value]; dup {
			return p.errorf(key, "%q appears twice in %s (first on line %d)", key.Value, what, first)
		}
		seen[key.Value] = key.Line
		if err := fn(key, val); err != nil {
			return err
		}
	}
	return nil
}

func (p parser) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errorf(n, "%s must be a single value", what)
	}
	return n.Value, nil
}

func (p parser) rules(c *Config, n *yaml.Node) error {
	c.Rules = map[string]RuleSetting{}
	firstLine := map[string]int{}
	return p.mapping(n, "rules", func(key, val *yaml.Node) error {
		r, ok := transform.Lookup(key.Value)
		if !ok {
			return p.errorf(key, "unknown rule %q (see `harden rules`)", key.Value)
		}
		if line, dup := firstLine[r.ID]; dup {
			return p.errorf(key, "%s is set twice (also on line %d, as %s)", r.ID, line, r.Name)
		}
		firstLine[r.ID] = key.Line
		v, err := p.scalar(val, "rules."+key.Value)
		if err != nil {
			return err
		}
		set := RuleSetting{Line: key.Line}
		switch strings.ToLower(v) {
		case "off", "false", "no", "disabled":
			set.Off = true
		case "on", "true", "yes", "enabled":
		default:
			sev, err := transform.ParseSeverity(v)
			if err != nil {
				return p.errorf(val, "rules.%s: %q is not off, on or a severity (info, warning, error)", key.Value, v)
			}
			set.Severity = &sev
		}
		c.Rules[r.ID] = set
		return nil
	})
}

func (p parser) baseImages(c *Config, n *yaml.Node) error {
	c.BaseImages = map[string]string{}
	return p.mapping(n, "base_images", func(key, val *yaml.Node) error {
		from := strings.TrimSpace(key.Value)
		to, err := p.scalar(val, "base_images."+from)
		if err != nil {
			return err
		}
		to = strings.TrimSpace(to)
		toTag := baseimage.Parse(to).Tag
		switch {
		case from == "" || to == "":
			return p.errorf(key, "base_images entries need an image on both sides")
		case strings.ContainsAny(from+to, " \t"):
			return p.errorf(val, "base_images.%s: an image reference has no spaces", from)
		case toTag == "latest":
			return p.errorf(val, "base_images.%s maps to %s; harden never introduces :latest, pin a version", from, to)
		case hasTagOrDigest(from) && !hasTagOrDigest(to):
			// A repository-wide entry ("python: mirror/python") may name a
			// repository, since harden keeps the version; an entry for a
			// pinned image must stay pinned.
			return p.errorf(val, "base_images.%s maps a pinned image to %s, which means :latest; pin a version", from, to)
		}
		c.BaseImages[from] = to
		return nil
	})
}

// hasTagOrDigest reports whether an image reference pins a tag or digest
// (a registry port is not a tag).
func hasTagOrDigest(ref string) bool {
	r := baseimage.Parse(ref)
	return r.Tag != "" || r.Digest != ""
}

// userName is what useradd and adduser accept on every distribution.
var userName = lazyre.New(`^[a-z_][a-z0-9_-]{0,31}$`)

func (p parser) user(c *Config, n *yaml.Node) error {
	u := &User{GID: -1}
	uidSet := false
	err := p.mapping(n, "user", func(key, val *yaml.Node) error {
		v, err := p.scalar(val, "user."+key.Value)
		if err != nil {
			return err
		}
		switch key.Value {
		case "name":
			if !userName().MatchString(v) {
				return p.errorf(val, "user.name %q is not a valid user name (lower-case letters, digits, _ and -, at most 32, not starting with a digit)", v)
			}
			if v == "root" {
				return p.errorf(val, "user.name cannot be root: the point is an unprivileged user")
			}
			u.Name = v
		case "uid", "gid":
			id, err := strconv.Atoi(v)
			if err != nil || id < 1 || id > 2147483647 {
				return p.errorf(val, "user.%s %q must be a number from 1 to 2147483647 (0 is root)", key.Value, v)
			}
			if key.Value == "uid" {
				u.UID, uidSet = id, true
			} else {
				u.GID = id
			}
		default:
			return p.errorf(key, "unknown key user.%s (want name, uid or gid)", key.Value)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if u.Name == "" || !uidSet {
		return p.errorf(n, "user needs both name and uid")
	}
	if u.GID < 0 {
		u.GID = u.UID
	}
	c.User = u
	return nil
}

// Package compose reads the Docker Compose files of a repository: each
// service's build (context, Dockerfile, target), command, entrypoint,
// environment, volumes, user and ports, as far as harden's rules need them
// to know how an image is run.
//
// It implements the parts of the Compose specification that say how a
// service runs, not the whole of it: variables (${VAR}) are kept as
// written, extends and include are not followed, and profiles are ignored
// (every service counts). A file that does not parse is an error naming
// it; callers treat that as "no compose evidence", never as a guess.
package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultFiles are the file names `docker compose` reads in a folder when
// no -f is given, in its order of preference (the first one found is used).
var DefaultFiles = []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}

// OverrideFiles are merged over the default file when present.
var OverrideFiles = []string{"compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"}

// MaxFileSize bounds a compose file harden reads.
const MaxFileSize = 1 << 20

// Project is the services that one set of compose files defines: a base
// file and the files layered over it, as `docker compose -f a -f b` would
// merge them.
type Project struct {
	// Files are the compose files, base first, as paths on disk.
	Files []string
	// Dir is the folder relative paths in the files are resolved against
	// (the base file's folder), absolute.
	Dir      string
	Services []Service
}

// Service is one service of a project.
type Service struct {
	Name string
	// Image is the image the service runs (with build, the tag it builds).
	Image string
	// Build is nil when the service only runs an image.
	Build *Build
	// Command and Entrypoint override the image's CMD and ENTRYPOINT when
	// set.
	Command    Command
	Entrypoint Command
	// Environment is the service's environment, in file order.
	Environment []EnvVar
	// EnvFiles are the env_file paths as written (relative to Dir).
	EnvFiles []string
	Volumes  []Volume
	// User is the user the container runs as ("1000:1000", "node"), "" for
	// the image's.
	User  string
	Ports []Port
}

// Build says how a service's image is built.
type Build struct {
	// Context is the build context as written ("." when only a Dockerfile is
	// named), and Dockerfile the Dockerfile as written ("" for the default
	// Dockerfile).
	Context, Dockerfile string
	// Target is the stage the build stops at, "" for the last one.
	Target string
	// ContextDir and DockerfilePath are resolved against the project's Dir:
	// the Dockerfile relative to the context, as Compose does. Remote
	// contexts (git URLs) leave both empty.
	ContextDir, DockerfilePath string
}

// Command is a command or entrypoint override. Exec holds the list form;
// Shell the string form, which Compose splits like a shell would.
type Command struct {
	Set   bool
	Shell string
	Exec  []string
}

// Words returns the command as words: the list form as is, the string form
// split on blanks with simple quotes removed.
func (c Command) Words() []string {
	if c.Exec != nil {
		return c.Exec
	}
	return splitWords(c.Shell)
}

// EnvVar is one environment entry. HasValue is false for a bare name,
// which takes its value from the shell that runs compose.
type EnvVar struct {
	Name, Value string
	HasValue    bool
}

// VolumeType is how a volume is mounted.
type VolumeType string

const (
	NamedVolume VolumeType = "volume"
	BindMount   VolumeType = "bind"
	Tmpfs       VolumeType = "tmpfs"
)

// Volume is a mount into the container.
type Volume struct {
	Type VolumeType
	// Source is the named volume or the host path as written ("" for an
	// anonymous volume and tmpfs).
	Source string
	// Target is the path inside the container.
	Target   string
	ReadOnly bool
}

// Port is a published or exposed container port.
type Port struct {
	// Target is the container port (or range, "3000-3005").
	Target string
	// Published is the host port, "" when none is given.
	Published string
	HostIP    string
	// Protocol is "tcp" unless the file says otherwise.
	Protocol string
}

// Env returns the value of an environment variable and whether the service
// sets it with a value.
func (s *Service) Env(name string) (string, bool) {
	for i := len(s.Environment) - 1; i >= 0; i-- {
		if e := s.Environment[i]; e.Name == name {
			return e.Value, e.HasValue
		}
	}
	return "", false
}

// Discover finds the compose projects that apply to a folder: those in dir
// and in each folder above it up to the repository root (the nearest
// folder holding .git), nearest first. Without a repository root only dir
// is searched. In each folder the default file and its override make one
// project, and every other compose.<name>.yaml or docker-compose.<name>.yml
// is a project of its own layered over the default file, as
// `docker compose -f docker-compose.yml -f docker-compose.prod.yml` uses it.
func Discover(dir string) ([]*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	dirs := []string{abs}
	if root := repoRoot(abs); root != "" {
		for d := abs; d != root; {
			d = filepath.Dir(d)
			dirs = append(dirs, d)
		}
	}
	var out []*Project
	for _, d := range dirs {
		ps, err := discoverIn(d)
		if err != nil {
			return out, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// repoRoot is the nearest folder at or above dir holding .git, or "".
func repoRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func discoverIn(dir string) ([]*Project, error) {
	base := firstExisting(dir, DefaultFiles)
	override := firstExisting(dir, OverrideFiles)
	var extra []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !isVariantFile(name) {
			continue
		}
		extra = append(extra, filepath.Join(dir, name))
	}
	sort.Strings(extra)
	var out []*Project
	if base != "" {
		files := []string{base}
		if override != "" {
			files = append(files, override)
		}
		p, err := Load(files...)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for _, f := range extra {
		files := []string{f}
		if base != "" {
			files = []string{base, f}
		}
		p, err := Load(files...)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// isVariantFile matches compose.<name>.yaml and docker-compose.<name>.yml
// other than the default and override files.
func isVariantFile(name string) bool {
	ext := filepath.Ext(name)
	if ext != ".yml" && ext != ".yaml" {
		return false
	}
	stem := strings.TrimSuffix(name, ext)
	for _, prefix := range []string{"compose.", "docker-compose."} {
		if rest, ok := strings.CutPrefix(stem, prefix); ok && rest != "" && rest != "override" {
			return true
		}
	}
	return false
}

func firstExisting(dir string, names []string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// Load reads compose files and merges them in order, later files
// overriding earlier ones the way Compose merges -f files: a service's
// single values are replaced, environment entries are merged by name,
// volumes by target and ports are added.
func Load(files ...string) (*Project, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("compose: no files")
	}
	dir, err := filepath.Abs(filepath.Dir(files[0]))
	if err != nil {
		return nil, err
	}
	p := &Project{Files: files, Dir: dir}
	byName := map[string]*Service{}
	var order []string
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if st.Size() > MaxFileSize {
			return nil, fmt.Errorf("%s: %d bytes, over the %d KiB harden reads of a compose file", f, st.Size(), MaxFileSize>>10)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		services, names, err := parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, name := range names {
			s := services[name]
			if prev, ok := byName[name]; ok {
				mergeService(prev, s)
				continue
			}
			byName[name] = s
			order = append(order, name)
		}
	}
	for _, name := range order {
		s := byName[name]
		if s.Build != nil {
			s.Build.resolve(p.Dir)
		}
		p.Services = append(p.Services, *s)
	}
	return p, nil
}

// Parse reads one compose document; relative paths are resolved against
// dir. It is Load for text that is not in a file.
func Parse(data []byte, dir string) (*Project, error) {
	services, names, err := parse(data)
	if err != nil {
		return nil, err
	}
	p := &Project{Dir: dir}
	for _, name := range names {
		s := services[name]
		if s.Build != nil {
			s.Build.resolve(dir)
		}
		p.Services = append(p.Services, *s)
	}
	return p, nil
}

func (b *Build) resolve(dir string) {
	if strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "git@") {
		return
	}
	ctx := b.Context
	if ctx == "" {
		ctx = "."
	}
	if !filepath.IsAbs(ctx) {
		ctx = filepath.Join(dir, filepath.FromSlash(ctx))
	}
	b.ContextDir = filepath.Clean(ctx)
	df := b.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(b.ContextDir, filepath.FromSlash(df))
	}
	b.DockerfilePath = filepath.Clean(df)
}

// ServicesBuilding returns the services that build the Dockerfile at
// dockerfile (a path on disk), in file order.
func (p *Project) ServicesBuilding(dockerfile string) []Service {
	abs, err := filepath.Abs(dockerfile)
	if err != nil {
		return nil
	}
	var out []Service
	for _, s := range p.Services {
		if s.Build != nil && s.Build.DockerfilePath == abs {
			out = append(out, s)
		}
	}
	return out
}

func mergeService(dst, src *Service) {
	if src.Image != "" {
		dst.Image = src.Image
	}
	if src.Build != nil {
		if dst.Build == nil {
			dst.Build = src.Build
		} else {
			if src.Build.Context != "" {
				dst.Build.Context = src.Build.Context
			}
			if src.Build.Dockerfile != "" {
				dst.Build.Dockerfile = src.Build.Dockerfile
			}
			if src.Build.Target != "" {
				dst.Build.Target = src.Build.Target
			}
		}
	}
	if src.Command.Set {
		dst.Command = src.Command
	}
	if src.Entrypoint.Set {
		dst.Entrypoint = src.Entrypoint
	}
	for _, e := range src.Environment {
		replaced := false
		for i := range dst.Environment {
			if dst.Environment[i].Name == e.Name {
				dst.Environment[i], replaced = e, true
			}
		}
		if !replaced {
			dst.Environment = append(dst.Environment, e)
		}
	}
	dst.EnvFiles = append(dst.EnvFiles, src.EnvFiles...)
	for _, v := range src.Volumes {
		replaced := false
		for i := range dst.Volumes {
			if dst.Volumes[i].Target == v.Target {
				dst.Volumes[i], replaced = v, true
			}
		}
		if !replaced {
			dst.Volumes = append(dst.Volumes, v)
		}
	}
	if src.User != "" {
		dst.User = src.User
	}
	dst.Ports = append(dst.Ports, src.Ports...)
}

// parse reads the services of one document, keeping their order.
func parse(data []byte) (map[string]*Service, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Content) == 0 {
		return map[string]*Service{}, nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("line %d: a compose file is a mapping", root.Line)
	}
	services := map[string]*Service{}
	var names []string
	svcNode := mapValue(root, "services")
	if svcNode == nil {
		return services, nil, nil
	}
	if svcNode.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("line %d: services is not a mapping", svcNode.Line)
	}
	for i := 0; i+1 < len(svcNode.Content); i += 2 {
		name := svcNode.Content[i].Value
		s, err := parseService(name, svcNode.Content[i+1])
		if err != nil {
			return nil, nil, fmt.Errorf("service %s: %w", name, err)
		}
		services[name] = s
		names = append(names, name)
	}
	return services, names, nil
}

func parseService(name string, n *yaml.Node) (*Service, error) {
	s := &Service{Name: name}
	if n.Kind != yaml.MappingNode {
		return s, nil // "svc:" with no body
	}
	var err error
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "image":
			s.Image = scalar(v)
		case "build":
			s.Build = parseBuild(v)
		case "command":
			s.Command, err = parseCommand(v)
		case "entrypoint":
			s.Entrypoint, err = parseCommand(v)
		case "environment":
			s.Environment, err = parseEnvironment(v)
		case "env_file":
			s.EnvFiles = parseEnvFiles(v)
		case "volumes":
			s.Volumes, err = parseVolumes(v)
		case "user":
			s.User = scalar(v)
		case "ports":
			s.Ports, err = parsePorts(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s (line %d): %w", key, v.Line, err)
		}
	}
	return s, nil
}

func parseBuild(v *yaml.Node) *Build {
	b := &Build{}
	switch v.Kind {
	case yaml.ScalarNode:
		b.Context = v.Value
	case yaml.MappingNode:
		b.Context = scalar(mapValue(v, "context"))
		b.Dockerfile = scalar(mapValue(v, "dockerfile"))
		b.Target = scalar(mapValue(v, "target"))
	}
	return b
}

func parseCommand(v *yaml.Node) (Command, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return Command{}, nil
		}
		return Command{Set: true, Shell: v.Value}, nil
	case yaml.SequenceNode:
		c := Command{Set: true, Exec: []string{}}
		for _, w := range v.Content {
			c.Exec = append(c.Exec, scalar(w))
		}
		return c, nil
	}
	return Command{}, fmt.Errorf("want a string or a list")
}

func parseEnvironment(v *yaml.Node) ([]EnvVar, error) {
	var out []EnvVar
	switch v.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			val := v.Content[i+1]
			e := EnvVar{Name: v.Content[i].Value}
			if !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
				e.Value, e.HasValue = scalar(val), true
			}
			out = append(out, e)
		}
	case yaml.SequenceNode:
		for _, item := range v.Content {
			name, value, ok := strings.Cut(scalar(item), "=")
			out = append(out, EnvVar{Name: name, Value: value, HasValue: ok})
		}
	default:
		return nil, fmt.Errorf("want a mapping or a list")
	}
	return out, nil
}

func parseEnvFiles(v *yaml.Node) []string {
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}
	case yaml.SequenceNode:
		var out []string
		for _, item := range v.Content {
			if item.Kind == yaml.MappingNode {
				out = append(out, scalar(mapValue(item, "path")))
			} else {
				out = append(out, scalar(item))
			}
		}
		return out
	}
	return nil
}

func parseVolumes(v *yaml.Node) ([]Volume, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("want a list")
	}
	var out []Volume
	for _, item := range v.Content {
		if item.Kind == yaml.MappingNode {
			vol := Volume{
				Type:   VolumeType(scalar(mapValue(item, "type"))),
				Source: scalar(mapValue(item, "source")),
				Target: scalar(mapValue(item, "target")),
			}
			vol.ReadOnly = scalar(mapValue(item, "read_only")) == "true"
			if vol.Type == "" {
				vol.Type = NamedVolume
			}
			out = append(out, vol)
			continue
		}
		out = append(out, shortVolume(scalar(item)))
	}
	return out, nil
}

// shortVolume reads "[SOURCE:]TARGET[:MODE]".
func shortVolume(s string) Volume {
	parts := strings.Split(s, ":")
	v := Volume{Type: NamedVolume}
	switch len(parts) {
	case 1:
		v.Target = parts[0] // anonymous volume
		return v
	case 2:
		if strings.HasPrefix(parts[1], "/") {
			v.Source, v.Target = parts[0], parts[1]
		} else {
			v.Target = parts[0]
			v.ReadOnly = hasMode(parts[1], "ro")
			return v
		}
	default:
		v.Source, v.Target = parts[0], parts[1]
		v.ReadOnly = hasMode(parts[2], "ro")
	}
	if isHostPath(v.Source) {
		v.Type = BindMount
	}
	return v
}

func hasMode(modes, m string) bool {
	for _, x := range strings.Split(modes, ",") {
		if x == m {
			return true
		}
	}
	return false
}

// isHostPath tells a bind mount's source from a volume name: Compose
// treats sources that start with ".", "/" or "~" (or a variable) as paths.
func isHostPath(src string) bool {
	return strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") || strings.HasPrefix(src, "$")
}

func parsePorts(v *yaml.Node) ([]Port, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("want a list")
	}
	var out []Port
	for _, item := range v.Content {
		if item.Kind == yaml.MappingNode {
			p := Port{
				Target:    scalar(mapValue(item, "target")),
				Published: scalar(mapValue(item, "published")),
				HostIP:    scalar(mapValue(item, "host_ip")),
				Protocol:  scalar(mapValue(item, "protocol")),
			}
			if p.Protocol == "" {
				p.Protocol = "tcp"
			}
			out = append(out, p)
			continue
		}
		out = append(out, shortPort(scalar(item)))
	}
	return out, nil
}

// shortPort reads "[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]"; an IPv6 host
// address is written in brackets.
func shortPort(s string) Port {
	p := Port{Protocol: "tcp"}
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s, p.Protocol = s[:i], s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		if end := strings.Index(s, "]:"); end > 0 {
			p.HostIP, s = s[1:end], s[end+2:]
		}
	}
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		p.Target = parts[0]
	case 2:
		p.Published, p.Target = parts[0], parts[1]
	default:
		p.HostIP, p.Published, p.Target = strings.Join(parts[:len(parts)-2], ":"), parts[len(parts)-2], parts[len(parts)-1]
	}
	return p
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar is a node's text: numbers and booleans as written, "" for null
// or a collection.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// splitWords splits a command string on blanks, keeping quoted parts
// together; Compose splits command strings the same way (no expansion).
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// Number is the container port, 0 when it is not one (a range or a variable).
func (p Port) Number() int {
	n, err := strconv.Atoi(p.Target)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

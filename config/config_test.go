package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harden-dev/harden/transform"
)

func TestParse(t *testing.T) {
	src := `# harden settings for this repository
rules:
  missing-healthcheck: off   # Kubernetes probes health itself
  HD407: error
  DL3002: Warning
  pipefail: on
base_images:
  python:3.12: registry.example.com/python:3.12-slim
  node: registry.example.com/node
user:
  name: app
  uid: 10001
`
	c, err := Parse(".harden.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Rules["HD412"].Off || c.Rules["HD412"].Line != 3 {
		t.Errorf("missing-healthcheck: got %+v, want off on line 3", c.Rules["HD412"])
	}
	if s := c.Rules["HD407"].Severity; s == nil || *s != transform.Error {
		t.Errorf("HD407 severity = %v, want error", s)
	}
	if s := c.Rules[transform.NonRootUser.ID].Severity; s == nil || *s != transform.Warning {
		t.Errorf("DL3002 should set non-root-user's severity, got %v", s)
	}
	if set := c.Rules["HD413"]; set.Off || set.Severity != nil {
		t.Errorf("pipefail: on should change nothing, got %+v", set)
	}
	if got := c.BaseImages["python:3.12"]; got != "registry.example.com/python:3.12-slim" {
		t.Errorf("base_images[python:3.12] = %q", got)
	}
	if got := c.BaseImages["node"]; got != "registry.example.com/node" {
		t.Errorf("base_images[node] = %q", got)
	}
	if c.User == nil || *c.User != (User{Name: "app", UID: 10001, GID: 10001}) {
		t.Errorf("user = %+v", c.User)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "---\n", "rules:\n"} {
		c, err := Parse("x.yaml", []byte(src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if len(c.Rules) != 0 || c.User != nil || len(c.BaseImages) != 0 {
			t.Errorf("%q: got settings %+v", src, c)
		}
	}
}

// TestParseErrors checks that every mistake names the file and the line
// and says what was expected.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"rule:\n  HD407: off\n", ".harden.yaml:1: unknown key \"rule\" (want rules, base_images, user, volumes or smoke)"},
		{"rules:\n  HD999: off\n", ".harden.yaml:2: unknown rule \"HD999\" (see `harden rules`)"},
		{"rules:\n  HD407: loud\n", ".harden.yaml:2: rules.HD407: \"loud\" is not off, on or a severity (info, warning, error)"},
		{"rules:\n  HD407: off\n  sudo-in-run: error\n", ".harden.yaml:3: HD407 is set twice (also on line 2, as sudo-in-run)"},
		{"rules:\n  HD407: off\n  HD407: on\n", ".harden.yaml:3: \"HD407\" appears twice in rules (first on line 2)"},
		{"rules:\n  - HD407\n", ".harden.yaml:2: rules must be a mapping of keys to values"},
		{"rules:\n  HD407: [off]\n", ".harden.yaml:2: rules.HD407 must be a single value"},
		{"base_images:\n  python:3.12: python:latest\n", ".harden.yaml:2: base_images.python:3.12 maps to python:latest; harden never introduces :latest, pin a version"},
		{"base_images:\n  python:3.12: python\n", ".harden.yaml:2: base_images.python:3.12 maps a pinned image to python, which means :latest; pin a version"},
		{"user:\n  name: app\n", ".harden.yaml:2: user needs both name and uid"},
		{"user:\n  name: root\n  uid: 1\n", ".harden.yaml:2: user.name cannot be root: the point is an unprivileged user"},
		{"user:\n  name: App User\n  uid: 1\n", ".harden.yaml:2: user.name \"App User\" is not a valid user name (lower-case letters, digits, _ and -, at most 32, not starting with a digit)"},
		{"user:\n  name: app\n  uid: 0\n", ".harden.yaml:3: user.uid \"0\" must be a number from 1 to 2147483647 (0 is root)"},
		{"user:\n  name: app\n  uid: 10001\n  shell: /bin/sh\n", ".harden.yaml:4: unknown key user.shell (want name, uid or gid)"},
		{"volumes: always\n", ".harden.yaml:1: volumes: unknown value \"always\" (want migrate or keep-root)"},
		{"rules: {HD407: off\n", ".harden.yaml:1: invalid YAML: did not find expected ',' or '}'"},
		{"rules:\n  HD407: off\n---\nrules: {}\n", ".harden.yaml:3: more than one YAML document; harden reads one"},
		{"- rules\n", ".harden.yaml:1: the file must be a mapping of keys to values"},
	}
	for _, tt := range tests {
		_, err := Parse(".harden.yaml", []byte(tt.src))
		if err == nil {
			t.Errorf("%q: no error, want %q", tt.src, tt.want)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %T is not a *config.Error", tt.src, err)
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.src, err.Error(), tt.want)
		}
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	svc := filepath.Join(repo, "services", "api")
	must(t, os.MkdirAll(svc, 0o755))
	must(t, os.MkdirAll(filepath.Join(repo, ".git"), 0o755))
	// A file above the repository must never be picked up.
	must(t, os.WriteFile(filepath.Join(root, FileName), []byte("rules: {HD407: off}\n"), 0o644))

	if got, err := Find(svc); err != nil || got != "" {
		t.Fatalf("Find with no file in the repository = %q, %v; want nothing", got, err)
	}
	must(t, os.WriteFile(filepath.Join(repo, AltFileName), []byte("rules: {HD407: error}\n"), 0o644))
	if got, _ := Find(svc); got != filepath.Join(repo, AltFileName) {
		t.Errorf("Find = %q, want the repository's .harden.yml", got)
	}
	must(t, os.WriteFile(filepath.Join(svc, FileName), []byte("rules: {HD412: off}\n"), 0o644))
	if got, _ := Find(svc); got != filepath.Join(svc, FileName) {
		t.Errorf("Find = %q, want the nearest file", got)
	}

	var cache Cache
	a, err := cache.ForDir(svc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cache.ForDir(svc)
	if a != b || !a.Rules["HD412"].Off {
		t.Errorf("Cache.ForDir: got %p and %p (%+v), want the same loaded config", a, b, a)
	}
	if c, err := cache.ForDir(filepath.Join(repo, "services")); err != nil || c == nil || c.Rules["HD407"].Severity == nil {
		t.Errorf("Cache.ForDir(services) = %+v, %v; want the repository file", c, err)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	must(t, os.WriteFile(p, []byte("rules:\n  nope: off\n"), 0o644))
	_, err := Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: ") {
		t.Errorf("Load error = %v, want it to start with %s:2:", err, p)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want not-exist", err)
	}
}

func TestSelectAndSeverities(t *testing.T) {
	c, err := Parse("x", []byte("rules:\n  sudo-in-run: off\n  pipefail: off\n  HD409: error\n"))
	if err != nil {
		t.Fatal(err)
	}
	has := func(rules []*transform.Rule, r *transform.Rule) bool { return slices.Contains(rules, r) }
	all := c.Select(nil, nil)
	if has(all, transform.SudoInRun) || has(all, transform.Pipefail) || !has(all, transform.NonRootUser) {
		t.Errorf("Select(nil) kept or dropped the wrong rules")
	}
	if len(all) != len(transform.All())-2 {
		t.Errorf("Select(nil) has %d rules, want %d", len(all), len(transform.All())-2)
	}
	if kept := c.Select([]*transform.Rule{transform.SudoInRun}, []string{"DL3004"}); !has(kept, transform.SudoInRun) {
		t.Errorf("a rule named on the command line must stay on")
	}
	var none *Config
	if got := none.Select(nil, nil); len(got) != len(transform.All()) {
		t.Errorf("a nil config must keep every rule")
	}

	opts := transform.Options{Severity: map[string]transform.Severity{"HD401": transform.Info}}
	shared := opts.Severity
	c.Apply(&opts, nil)
	if opts.Severity["HD409"] != transform.Error || opts.Severity["HD401"] != transform.Info {
		t.Errorf("Apply severities = %v", opts.Severity)
	}
	if _, leaked := shared["HD409"]; leaked {
		t.Errorf("Apply changed the caller's severity map")
	}
	findings, err := transform.Check("Dockerfile", []byte("FROM alpine:3.20\nRUN sudo true\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Rule == transform.SudoInRun {
			t.Errorf("sudo-in-run is off but reported")
		}
		if f.Rule == transform.NonRootUser && f.Severity != transform.Error {
			t.Errorf("non-root-user severity = %v, want error", f.Severity)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestVolumesMigrate(t *testing.T) {
	for src, want := range map[string]bool{"volumes: migrate\n": true, "volumes: keep-root\n": false, "rules: {}\n": false} {
		c, err := Parse(".harden.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if c.MigrateVolumes != want {
			t.Errorf("%q: MigrateVolumes %v, want %v", src, c.MigrateVolumes, want)
		}
	}
}

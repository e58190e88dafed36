package compose

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadMergesOverride(t *testing.T) {
	p, err := Load("testdata/repo/docker-compose.yml", "testdata/repo/docker-compose.override.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 3 {
		t.Fatalf("%d services, want 3", len(p.Services))
	}
	api := p.Services[0]
	if api.Name != "api" || api.Build == nil || api.Build.Target != "runtime" || api.Build.Dockerfile != "Dockerfile.prod" {
		t.Fatalf("api build: %+v", api.Build)
	}
	abs, _ := filepath.Abs("testdata/repo/services/api/Dockerfile.prod")
	if api.Build.DockerfilePath != abs {
		t.Errorf("DockerfilePath %s, want %s", api.Build.DockerfilePath, abs)
	}
	// The override's string command replaces the list.
	if got := api.Command.Words(); !reflect.DeepEqual(got, []string{"bin/rails", "server", "-b", "0.0.0.0", "-e", "development"}) {
		t.Errorf("command %q", got)
	}
	if v, ok := api.Env("RAILS_ENV"); !ok || v != "development" {
		t.Errorf("RAILS_ENV %q %v", v, ok)
	}
	if v, ok := api.Env("SECRET_KEY_BASE"); ok || v != "" {
		t.Errorf("SECRET_KEY_BASE has no value in the file, got %q %v", v, ok)
	}
	if v, _ := api.Env("PORT"); v != "3000" {
		t.Errorf("PORT %q", v)
	}
	if !reflect.DeepEqual(api.EnvFiles, []string{".env", ".env.local"}) {
		t.Errorf("env files %q", api.EnvFiles)
	}
	wantVolumes := []Volume{
		{Type: NamedVolume, Source: "uploads", Target: "/app/storage"},
		{Type: BindMount, Source: "./services/api/log", Target: "/app/log", ReadOnly: true},
		{Type: BindMount, Source: "./config", Target: "/app/config", ReadOnly: true},
		{Type: NamedVolume, Target: "/app/tmp"},
		{Type: BindMount, Source: "./services/api", Target: "/app"},
	}
	if !reflect.DeepEqual(api.Volumes, wantVolumes) {
		t.Errorf("volumes\n got %+v\nwant %+v", api.Volumes, wantVolumes)
	}
	if api.User != "1000:1000" {
		t.Errorf("user %q", api.User)
	}
	wantPorts := []Port{{Target: "3000", Published: "3000", Protocol: "tcp"}, {Target: "9394", Published: "9394", HostIP: "127.0.0.1", Protocol: "tcp"}}
	if !reflect.DeepEqual(api.Ports, wantPorts) {
		t.Errorf("ports %+v", api.Ports)
	}
	web := p.Services[1]
	if web.Build.Context != "services/web" || web.Build.Dockerfile != "" {
		t.Errorf("web build %+v", web.Build)
	}
	if v, ok := web.Env("NODE_ENV"); v != "development" || !ok {
		t.Errorf("NODE_ENV %q", v)
	}
	if _, ok := web.Env("DEBUG"); ok {
		t.Error("DEBUG has no value")
	}
	if got := web.Ports; !reflect.DeepEqual(got, []Port{{Target: "5173", Published: "5173", HostIP: "127.0.0.1", Protocol: "tcp"}, {Target: "8080", Protocol: "tcp"}}) {
		t.Errorf("web ports %+v", got)
	}
	if web.Ports[0].Number() != 5173 {
		t.Error("port number")
	}
	if db := p.Services[2]; db.Build != nil || db.Image != "postgres:16" {
		t.Errorf("db %+v", db)
	}
}

func TestDiscoverAndLink(t *testing.T) {
	root := t.TempDir()
	copyTree(t, "testdata/repo", root)
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	projects, err := Discover(filepath.Join(root, "services", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 2 {
		t.Fatalf("%d projects, want the default one and docker-compose.prod.yml", len(projects))
	}
	if n := len(projects[0].Files); n != 2 {
		t.Errorf("default project has %d files, want the file and its override", n)
	}
	df := filepath.Join(root, "services", "web", "Dockerfile")
	dev := projects[0].ServicesBuilding(df)
	prod := projects[1].ServicesBuilding(df)
	if len(dev) != 1 || len(prod) != 1 {
		t.Fatalf("services building web: %d and %d", len(dev), len(prod))
	}
	if got := dev[0].Command.Words(); !reflect.DeepEqual(got, []string{"npm", "run", "dev"}) {
		t.Errorf("default command %q", got)
	}
	if got := prod[0].Command.Words(); !reflect.DeepEqual(got, []string{"node", "server.js"}) {
		t.Errorf("prod command %q", got)
	}
	if v, _ := prod[0].Env("NODE_ENV"); v != "production" {
		t.Errorf("prod NODE_ENV %q", v)
	}
	if got := projects[0].ServicesBuilding(filepath.Join(root, "services", "api", "Dockerfile")); len(got) != 0 {
		t.Errorf("api builds Dockerfile.prod, not Dockerfile: %+v", got)
	}
	// Without a repository root only the folder itself is searched.
	lone := t.TempDir()
	if ps, err := Discover(lone); err != nil || len(ps) != 0 {
		t.Errorf("empty folder: %v %v", ps, err)
	}
}

func TestParseErrorsAndShortForms(t *testing.T) {
	if _, err := Parse([]byte("services: [1, 2]\n"), "."); err == nil {
		t.Error("services as a list should be an error")
	}
	if _, err := Parse([]byte("services:\n  a:\n    environment: 3\n"), "."); err == nil {
		t.Error("environment as a number should be an error")
	}
	p, err := Parse([]byte("services:\n  a:\n    entrypoint: [\"/entry.sh\"]\n    command: 'sh -c \"rails s\"'\n    volumes: [\"/data:ro\", \"~/x:/x\"]\n    ports: [\"[::1]:80:8080/udp\"]\n  b:\n"), "/src")
	if err != nil {
		t.Fatal(err)
	}
	a := p.Services[0]
	if !a.Entrypoint.Set || a.Entrypoint.Exec[0] != "/entry.sh" {
		t.Errorf("entrypoint %+v", a.Entrypoint)
	}
	if got := a.Command.Words(); !reflect.DeepEqual(got, []string{"sh", "-c", "rails s"}) {
		t.Errorf("command words %q", got)
	}
	if a.Volumes[0] != (Volume{Type: NamedVolume, Target: "/data", ReadOnly: true}) || a.Volumes[1].Type != BindMount {
		t.Errorf("volumes %+v", a.Volumes)
	}
	if a.Ports[0] != (Port{Target: "8080", Published: "80", HostIP: "::1", Protocol: "udp"}) {
		t.Errorf("port %+v", a.Ports[0])
	}
	if p.Services[1].Name != "b" || p.Services[1].Command.Set {
		t.Errorf("empty service %+v", p.Services[1])
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

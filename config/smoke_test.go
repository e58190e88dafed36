package config

import (
	"testing"
	"time"
)

func TestParseSmoke(t *testing.T) {
	c, err := Parse(".harden.yaml", []byte("rules:\n  HD407: off\nsmoke:\n  port: 8080\n  http_path: /healthz\n  timeout: 90s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Smoke == nil || *c.Smoke != (Smoke{Port: 8080, HTTPPath: "/healthz", Timeout: 90 * time.Second, Line: 4}) {
		t.Errorf("smoke = %+v", c.Smoke)
	}
	c, err = Parse(".harden.yaml", []byte("smoke:\n  command: python -c 'import app'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Smoke == nil || c.Smoke.Command != "python -c 'import app'" {
		t.Errorf("smoke = %+v", c.Smoke)
	}
	if c, err := Parse(".harden.yaml", []byte("rules: {}\n")); err != nil || c.Smoke != nil {
		t.Errorf("no smoke key: %+v, %v", c, err)
	}
}

func TestParseSmokeErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"smoke:\n  port: http\n", `.harden.yaml:2: smoke.port "http" must be a TCP port number from 1 to 65535`},
		{"smoke:\n  port: 70000\n", `.harden.yaml:2: smoke.port "70000" must be a TCP port number from 1 to 65535`},
		{"smoke:\n  http_path: healthz\n", `.harden.yaml:2: smoke.http_path "healthz" must be a path that starts with / and has no spaces`},
		{"smoke:\n  timeout: 30\n", `.harden.yaml:2: smoke.timeout "30" must be a duration such as 45s or 2m, at most 1h0m0s`},
		{"smoke:\n  timeout: 2h\n", `.harden.yaml:2: smoke.timeout "2h" must be a duration such as 45s or 2m, at most 1h0m0s`},
		{"smoke:\n  command: echo $HOME\n", `.harden.yaml:2: smoke.command: "echo $HOME": expansions such as $VAR would happen on this machine, not in the container; use sh -c '...' inside single quotes`},
		{"smoke:\n  command: a | b\n", `.harden.yaml:2: smoke.command: "a | b": want a plain command with arguments; use sh -c '...' for pipes, redirections or variables`},
		{"smoke:\n  command: id\n  port: 80\n", `.harden.yaml:2: smoke.command replaces the port check: give a command, or port and http_path, not both`},
		{"smoke:\n  url: /x\n", `.harden.yaml:2: unknown key smoke.url (want command, port, http_path or timeout)`},
		{"smoke:\n  port: [80]\n", `.harden.yaml:2: smoke.port must be a single value`},
		{"smoke: yes\n", `.harden.yaml:1: smoke must be a mapping of keys to values`},
		{"smoke:\n  port: 80\n  port: 81\n", `.harden.yaml:3: "port" appears twice in smoke (first on line 2)`},
	} {
		_, err := Parse(".harden.yaml", []byte(tt.src))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.src, err, tt.want)
		}
	}
}

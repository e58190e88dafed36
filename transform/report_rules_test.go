package transform

import (
	"strings"
	"testing"
)

// Table tests for the judgements the report-only rules make on single
// values; the golden cases show them in context.

func TestSecretName(t *testing.T) {
	secret := []string{"DB_PASSWORD", "db_pass", "NPM_TOKEN", "GITHUBTOKEN", "API_KEY", "aws-secret-access-key", "CLIENT_SECRET", "SECRET_KEY_BASE", "JAVA_KEYSTORE_PASSWORD", "HF_TOKEN", "STRIPE_APIKEY", "GOOGLE_CREDENTIALS"}
	notSecret := []string{"PATH", "PWD", "GPG_KEY", "TOKENIZERS_PARALLELISM", "DB_PASSWORD_FILE", "API_KEY_ID", "SECRET_NAME", "PASSWORD_MIN_LENGTH", "BYPASS_CACHE", "NODE_VERSION", "KEY", "PUBLIC_KEY_URL", ""}
	for _, n := range secret {
		if !secretName(n) {
			t.Errorf("secretName(%q) = false, want true", n)
		}
	}
	for _, n := range notSecret {
		if secretName(n) {
			t.Errorf("secretName(%q) = true, want false", n)
		}
	}
}

func TestWorldWritableMode(t *testing.T) {
	tests := map[string]bool{
		"777": true, "0777": true, "666": true, "772": true, "1777": false, "755": false, "0644": false,
		"o+w": true, "a+rwx": true, "ugo=rwx": true, "u+x,o+w": true, "a+wt": false, "+w": false,
		"go-w": false, "u+rwx": false, "file.txt": false, "o+rx": false,
	}
	for mode, want := range tests {
		if got := worldWritableMode(mode); got != want {
			t.Errorf("worldWritableMode(%q) = %v, want %v", mode, got, want)
		}
	}
}

func TestInvalidPortSpec(t *testing.T) {
	valid := []string{"80", "8080/tcp", "53/udp", "5000-5010", "0", "65535", "${PORT}", "9000/SCTP"}
	invalid := []string{"65536", "80800", "80/http", "90-80", "80:80", "http", "-1", "80-"}
	for _, s := range valid {
		if why := invalidPortSpec(s); why != "" {
			t.Errorf("invalidPortSpec(%q) = %q, want valid", s, why)
		}
	}
	for _, s := range invalid {
		if invalidPortSpec(s) == "" {
			t.Errorf("invalidPortSpec(%q) = valid, want a reason", s)
		}
	}
}

func TestRootUser(t *testing.T) {
	tests := map[string]bool{"root": true, "0": true, "root:root": true, "0:0": true, "00": true, "app": false, "10001": false, "10001:0": false, "node": false, "rootless": false}
	for user, want := range tests {
		if got := rootUser(user); got != want {
			t.Errorf("rootUser(%q) = %v, want %v", user, got, want)
		}
	}
}

func TestSecretIn(t *testing.T) {
	tests := map[string]string{
		"https://user:pw@example.com/x":             "a password in a URL",
		"https://user:${PW}@example.com/x":          "",
		"https://user:$PW@example.com/x":            "",
		"ssh://git@github.com/org/repo.git":         "",
		"AKIAIOSFODNN7EXAMPLE":                      "an AWS access key",
		"xoxb-1234567890-abcdefghij":                "a Slack token",
		"-----BEGIN OPENSSH PRIVATE KEY-----":       "a private key",
		"-----BEGIN CERTIFICATE-----":               "",
		"sha256:24454f830cdb571e2c4ad15481119c43b3": "",
		"ghp_" + strings.Repeat("a1", 18):           "a GitHub token",
		"github_pat_" + strings.Repeat("A_", 11):    "a GitHub token",
		"glpat-" + strings.Repeat("x-", 10):         "a GitLab token",
		"rk_live_" + strings.Repeat("9", 20):        "a Stripe live key",
		"key=AIza" + strings.Repeat("Z", 35):        "a Google API key",
		"npm_" + strings.Repeat("n", 36):            "an npm token",
		"pypi-" + strings.Repeat("p", 50):           "a PyPI token",
		"postgres://app:hunter2@db:5432/app":        "a password in a URL",
	}
	kinds := map[string]bool{}
	for text, want := range tests {
		if got := secretIn(text); got.kind != want || got.local {
			t.Errorf("secretIn(%q) = %+v, want %q", text, got, want)
		}
		kinds[want] = true
	}
	// Placeholders for a server on the build machine itself are told apart;
	// one real URL beside them makes the text a real secret.
	for text, local := range map[string]bool{
		"postgres://postgres:postgres@localhost:5432/app":                 true,
		"postgresql://user:pass@127.0.0.1/db":                             true,
		"mysql://root:root@[::1]:3306/app":                                true,
		"redis://default:dummy@0.0.0.0:6379/0":                            true,
		"postgres://u:p@/app?host=/var/run/postgresql":                    true,
		"postgres://u:p@app.localhost/db":                                 true,
		"postgres://u:p@127.0.0.1.example.com/db":                         false,
		"postgres://u:p@localhost.example.com/db":                         false,
		"postgres://u:p@localhost/a https://deploy:pw@pypi.example.com/x": false,
	} {
		if got := secretIn(text); got.kind != "a password in a URL" || got.local != local {
			t.Errorf("secretIn(%q) = %+v, want local %v", text, got, local)
		}
	}
	// The markers that spare the patterns must not hide a shape: every
	// shape is matched by one of the samples above.
	for _, shape := range secretShapes {
		if !kinds[shape.kind] {
			t.Errorf("no sample of %s", shape.kind)
		}
	}
}

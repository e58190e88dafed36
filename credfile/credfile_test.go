package credfile

import (
	"testing"
	"testing/fstest"
)

// Each file of a realistic checkout, judged with its content: the names
// alone would flag every one of them.
func TestCheck(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n"
	pgp := "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n-----END PGP PRIVATE KEY BLOCK-----\n"
	withKeyBag := string([]byte{0x30, 0x82, 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02})
	fsys := fstest.MapFS{}
	for _, c := range []struct {
		path, content string
		holds         bool
	}{
		// .docker: a project's own configuration, or a docker login.
		{".docker/apache/vhost.conf", "<VirtualHost *:80>\n</VirtualHost>\n", false},
		{".docker/entrypoint.sh", "#!/bin/sh\nexec \"$@\"\n", false},
		{".docker/php/php.ini", "memory_limit = 256M\n", false},
		{".docker/config.json", `{"credsStore": "desktop"}`, false},
		{".docker/config.json.login", `{"auths": {"r": {"auth": "eA=="}}}`, false},
		{"ci/.docker/config.json", `{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}`, true},
		{"ci2/.docker/config.json", `{"auths": {"r": {"identitytoken": "abc"}}}`, true},
		// .aws: credentials always; config only with keys in it.
		{".aws/credentials", "[default]\n", true},
		{".aws/config", "[default]\nregion = eu-west-1\n", false},
		{"b/.aws/config", "[default]\naws_secret_access_key = abc\n", true},
		// .kube: a kubeconfig with a token, or the project's nginx config.
		{".kube/config", "users:\n- user:\n    token: abc\n", true},
		{"c/.kube/config", "users:\n- user:\n    exec:\n      command: aws\n", false},
		{".kube/nginx/default.conf", "server {}\n", false},
		// .ssh: keys, or what is public there.
		{".ssh/known_hosts", "github.com ssh-ed25519 AAAA\n", false},
		{".ssh/config", "Host *\n", false},
		{".ssh/authorized_keys", "ssh-ed25519 AAAA\n", false},
		{".ssh/deploy.pub", "ssh-ed25519 AAAA\n", false},
		{".ssh/deploy", key, true},
		{".ssh/id_ed25519", "", true},
		// .gnupg: the private keys, not the public keyring.
		{".gnupg/private-keys-v1.d/ABC.key", "x", true},
		{".gnupg/pubring.kbx", "x", false},
		{"keys/signing.asc.key", pgp, true},
		// .env: public front-end settings, or anything else.
		{"web/.env.production", "VITE_API_URL=https://api.example.com\n# comment\nNEXT_PUBLIC_X=1\nREACT_APP_Y=\"2\"\n", false},
		{"web2/.env.production", "VITE_API_URL=https://api.example.com\nDB_PASSWORD=hunter2\n", true},
		{"api/.env", "SECRET_KEY=\nexport TOKEN=\n", false},
		{"api2/.env", "export DATABASE_URL=postgres://u:p@db/app\n", true},
		{".env.example", "SECRET_KEY=changeme\n", false},
		// PKCS#12: a keystore with a key, a truststore of certificates.
		{"certs/keystore.p12", withKeyBag, true},
		{"certs/truststore.p12", "\x30\x82\x04\x5e", false},
		// rc files, keys by extension.
		{".npmrc", "//registry.npmjs.org/:_authToken=abc\n", true},
		{"d/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", false},
		{"tls/ca.pem", "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n", false},
		{"tls/server.key", "-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n", true},
		{"infra/terraform.tfstate", "{}", true},
		{"app.py", "print(1)\n", false},
	} {
		fsys[c.path] = &fstest.MapFile{Data: []byte(c.content)}
		if _, holds := Check(fsys, c.path); holds != c.holds {
			t.Errorf("Check(%s) = %v, want %v", c.path, holds, c.holds)
		}
	}
}

func TestFindAndFolders(t *testing.T) {
	fsys := fstest.MapFS{
		"site/.docker/vhost.conf":  {Data: []byte("<VirtualHost>")},
		"site/.docker/config.json": {Data: []byte(`{"credsStore": "pass"}`)},
		"ops/.ssh/known_hosts":     {Data: []byte("x")},
		"ops/.ssh/id_rsa":          {Data: []byte("x")},
	}
	if p, _ := Find(fsys, "site/.docker", nil); p != "" {
		t.Errorf("Find(site/.docker) = %s, want nothing", p)
	}
	if p, r := Find(fsys, "ops/.ssh", nil); p != "ops/.ssh/id_rsa" || r.Kind != "an SSH private key" {
		t.Errorf("Find(ops/.ssh) = %s, want ops/.ssh/id_rsa", p)
	}
	if p, _ := Find(fsys, "ops/.ssh", func(p string) bool { return p == "ops/.ssh/id_rsa" }); p != "" {
		t.Errorf("Find skipping the key = %s, want nothing", p)
	}
	for p, want := range map[string]bool{".ssh": true, "home/.aws/": true, ".kube": true, ".gnupg": true, ".docker": false, "src": false} {
		if _, got := UsuallyHoldsWhole(p); got != want {
			t.Errorf("UsuallyHoldsWhole(%s) = %v, want %v", p, got, want)
		}
	}
	for p, want := range map[string]bool{".docker": true, "a/.ssh/keys": true, "src/docker": false} {
		if got := InToolFolder(p); got != want {
			t.Errorf("InToolFolder(%s) = %v, want %v", p, got, want)
		}
	}
}

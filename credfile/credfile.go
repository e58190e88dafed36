// Package credfile knows which files hold credentials: by name where the
// name is proof (.aws/credentials, id_ed25519), and by content where it is
// not (.docker/config.json holds registry logins only when docker login
// wrote one; most .pem files are public certificates).
//
// Tools keep credentials in folders named for them, next to files that
// are not secret at all, and projects reuse those names for their own
// configuration: a .docker/ folder in a repository usually holds a web
// server's site config and an entrypoint script, a .kube/ folder may hold
// an nginx config, .ssh/ holds known_hosts and config beside the keys. So
// a folder's name is never proof on its own: each file in it is judged.
package credfile

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// Rule says how to tell whether one file holds a credential.
type Rule struct {
	// Kind is what the file holds when it holds a credential, as a noun
	// phrase for messages: "an SSH private key", "registry credentials";
	// empty when the file's name says it (.env).
	Kind string
	// Always is set when the name is proof: the file exists to hold it.
	Always bool
	// Holds decides from the start of the file (up to MaxSniff bytes)
	// when the name is not proof.
	Holds func(head []byte) bool
	// Usually is set when such a file, unread, usually holds a credential:
	// a caller that cannot read it (no build context) may report it as
	// likely.
	Usually bool
}

// MaxSniff is how much of a file Holds needs. Keys and rc files are a few
// kilobytes; a key behind a megabyte of certificates is not worth a slower
// scan.
const MaxSniff = 1 << 20

// In reports whether a file with this rule and content holds a credential.
func (r *Rule) In(head []byte) bool {
	return r.Always || r.Holds != nil && r.Holds(head)
}

var (
	privateKeyBlock = lazyre.New(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`)
	// npm, yarn and netrc tokens and passwords written out (not read from
	// a variable).
	rcPassword = lazyre.New(`(?m)(?:_authToken|_auth|_password|^\s*password)\s*[=:]\s*["']?[^$"'\s]|\bpassword\s+[^$\s]|npmAuthToken\s*:\s*["']?[^$"'\s]`)
	// A Docker client config with a login: docker login writes "auth"
	// (base64 user:password) or an identity token; a config that only
	// names a credential helper or proxies holds none.
	dockerLogin = lazyre.New(`"(?:auth|identitytoken|registrytoken)"\s*:\s*"[^"]`)
	// AWS keys in the config file (allowed there too) or cached tokens.
	awsKey = lazyre.New(`(?mi)^\s*aws_(?:secret_access_key|session_token)\s*=\s*\S|"(?:SecretAccessKey|accessToken)"\s*:\s*"[^"]`)
	// A kubeconfig user with a key, a token or a password.
	kubeCredential = lazyre.New(`(?m)^\s*(?:client-key-data|token|password|refresh-token|access-token|id-token)\s*:\s*["']?[^\s"'$]`)
)

// PKCS#12 bag types, DER-encoded with their OID tag: a key bag or a
// shrouded (password-encrypted) key bag. Their OIDs stay readable without
// the password; a truststore of certificates has neither.
var (
	keyBagOID         = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01}
	shroudedKeyBagOID = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02}
)

func holdsPrivateKey(head []byte) bool { return privateKeyBlock().Match(head) }

func match(re func() *regexp.Regexp) func([]byte) bool {
	return func(head []byte) bool { return re().Match(head) }
}

var (
	sshKey      = &Rule{Kind: "an SSH private key", Always: true}
	gitCreds    = &Rule{Kind: "git credentials", Always: true}
	pgpass      = &Rule{Kind: "PostgreSQL passwords", Always: true}
	dockercfg   = &Rule{Kind: "registry credentials", Always: true}
	tfstate     = &Rule{Kind: "Terraform state, with the secrets of every resource", Always: true}
	rcFile      = &Rule{Kind: "a token or password", Holds: match(rcPassword), Usually: true}
	keyFile     = &Rule{Kind: "a private key", Holds: holdsPrivateKey}
	pkcs12      = &Rule{Kind: "a private key", Holds: holdsKeyBag, Usually: true}
	truststore  = &Rule{Kind: "a private key", Holds: holdsKeyBag}
	dotenv      = &Rule{Holds: holdsSecretEnv, Usually: true}
	dockerCfg   = &Rule{Kind: "registry credentials", Holds: match(dockerLogin), Usually: true}
	awsCreds    = &Rule{Kind: "AWS access keys", Always: true}
	awsOther    = &Rule{Kind: "AWS access keys", Holds: match(awsKey)}
	kubeconfig  = &Rule{Kind: "cluster credentials", Holds: match(kubeCredential), Usually: true}
	kubeOther   = &Rule{Kind: "cluster credentials", Holds: match(kubeCredential)}
	sshFile     = &Rule{Kind: "an SSH private key", Holds: holdsPrivateKey, Usually: true}
	gpgSecret   = &Rule{Kind: "GnuPG private keys", Always: true}
	azureToken  = &Rule{Kind: "Azure tokens", Always: true}
	gcloudCreds = &Rule{Kind: "Google Cloud credentials", Always: true}
)

// sshPublicNames are the files in .ssh that hold no secret.
var sshPublicNames = map[string]bool{"config": true, "known_hosts": true, "known_hosts.old": true, "authorized_keys": true, "authorized_keys2": true, "environment": true, "rc": true}

// azureTokenFiles are the Azure CLI's token caches; its other files
// (config, azureProfile.json, clouds.config) hold settings.
var azureTokenFiles = map[string]bool{"accessTokens.json": true, "msal_token_cache.json": true, "msal_token_cache.bin": true, "service_principal_entries.json": true, "service_principal_entries.bin": true}

// gcloudCredentialFiles are the gcloud CLI's credential stores.
var gcloudCredentialFiles = map[string]bool{"application_default_credentials.json": true, "credentials.db": true, "access_tokens.db": true}

// Lookup returns the rule for the file at p (slash-separated, relative to
// a build context or any root), or nil when a file there never holds a
// credential harden knows of.
func Lookup(p string) *Rule {
	p = strings.Trim(path.Clean("/"+p), "/")
	name := path.Base(p)
	lower := strings.ToLower(name)
	if folder, rel, ok := toolFolder(p); ok {
		return inToolFolder(folder, rel)
	}
	switch {
	case isEnvFile(name):
		return dotenv
	case IsSSHKeyName(name):
		return sshKey
	case name == ".git-credentials":
		return gitCreds
	case name == ".pgpass":
		return pgpass
	case name == ".dockercfg":
		return dockercfg
	case name == ".npmrc" || name == ".pypirc" || name == ".netrc" || name == "_netrc" || name == ".yarnrc" || name == ".yarnrc.yml":
		return rcFile
	case strings.HasSuffix(lower, ".tfstate") || strings.HasSuffix(lower, ".tfstate.backup"):
		return tfstate
	case strings.HasSuffix(lower, ".p12") || strings.HasSuffix(lower, ".pfx"):
		if strings.Contains(lower, "trust") || strings.Contains(lower, "cacerts") {
			return truststore // named for certificates: only its content could say otherwise
		}
		return pkcs12
	case strings.HasSuffix(lower, ".pem") || strings.HasSuffix(lower, ".key") || strings.HasSuffix(lower, ".p8"):
		return keyFile
	}
	return nil
}

// toolFolders are the folders command-line tools keep their logins in.
var toolFolders = map[string]bool{".docker": true, ".aws": true, ".kube": true, ".ssh": true, ".gnupg": true, ".azure": true, "gcloud": true, ".gcloud": true}

// toolFolder finds the innermost tool folder on p's path, and p relative
// to it.
func toolFolder(p string) (folder, rel string, ok bool) {
	parts := strings.Split(p, "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if toolFolders[parts[i]] {
			return parts[i], strings.Join(parts[i+1:], "/"), true
		}
	}
	return "", "", false
}

// inToolFolder judges a file by the tool folder it sits in: only the
// files where the tool writes logins count.
func inToolFolder(folder, rel string) *Rule {
	name := path.Base(rel)
	switch folder {
	case ".docker":
		if rel == "config.json" {
			return dockerCfg
		}
	case ".aws":
		if rel == "credentials" {
			return awsCreds
		}
		return awsOther
	case ".kube":
		if rel == "config" {
			return kubeconfig
		}
		return kubeOther
	case ".ssh":
		if IsSSHKeyName(name) {
			return sshKey
		}
		if sshPublicNames[name] || strings.HasPrefix(name, "known_hosts") || strings.HasSuffix(name, ".pub") {
			return nil
		}
		return sshFile
	case ".gnupg":
		if strings.HasPrefix(rel, "private-keys-v1.d/") || name == "secring.gpg" {
			return gpgSecret
		}
	case ".azure":
		if azureTokenFiles[name] {
			return azureToken
		}
	case "gcloud", ".gcloud":
		if gcloudCredentialFiles[name] || strings.HasPrefix(rel, "legacy_credentials/") {
			return gcloudCreds
		}
	}
	// Anything else in a tool folder is judged as it would be elsewhere:
	// a private key is a private key wherever it sits.
	return Lookup(name)
}

// UsuallyHoldsWhole reports whether a folder at p, copied whole and
// unread, usually brings credentials along, and what kind. A .docker
// folder in a repository is more often the project's own configuration (a
// web server's site config, an entrypoint script) than a docker login, so
// only folders whose everyday content is keys count.
func UsuallyHoldsWhole(p string) (kind string, ok bool) {
	switch path.Base(strings.TrimSuffix(p, "/")) {
	case ".ssh":
		return "SSH private keys", true
	case ".aws":
		return "AWS access keys", true
	case ".gnupg":
		return "GnuPG private keys", true
	case ".kube":
		return "cluster credentials", true
	}
	return "", false
}

// IsSSHKeyName matches OpenSSH's default private key names; the .pub
// halves are public.
func IsSSHKeyName(name string) bool {
	for _, base := range []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"} {
		if name == base || strings.HasPrefix(name, base+"_") || strings.HasPrefix(name, base+".") && !strings.HasSuffix(name, ".pub") {
			return true
		}
	}
	return false
}

// envExamples are .env.* suffixes that, by convention, document variables
// without holding real values.
var envExamples = map[string]bool{"example": true, "sample": true, "template": true, "tpl": true, "dist": true, "defaults": true, "schema": true}

// isEnvFile recognises .env and .env.production, but not .env.example.
func isEnvFile(name string) bool {
	if name == ".env" {
		return true
	}
	suffix, ok := strings.CutPrefix(name, ".env.")
	return ok && !envExamples[strings.ToLower(suffix)]
}

// publicEnvPrefixes mark variables that front-end build tools embed into
// the JavaScript they ship to every browser, so by design they hold no
// secret: Vite, Next.js, Create React App, Vue CLI, Nuxt, Expo, Gatsby,
// SvelteKit and Astro (PUBLIC_), Storybook.
var publicEnvPrefixes = []string{"VITE_", "NEXT_PUBLIC_", "REACT_APP_", "VUE_APP_", "NUXT_PUBLIC_", "EXPO_PUBLIC_", "GATSBY_", "PUBLIC_", "STORYBOOK_"}

var envAssignment = lazyre.New(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$`)

// holdsSecretEnv reports whether a dotenv file may hold a secret: it
// assigns a value to a variable that is not public by design. A file of
// public front-end settings (VITE_API_URL=...), or of empty values, holds
// none; any other value may be one, since names alone do not tell.
func holdsSecretEnv(head []byte) bool {
	for line := range bytes.SplitSeq(head, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		m := envAssignment().FindSubmatch(line)
		if m == nil {
			continue
		}
		value := strings.Trim(strings.TrimSpace(string(m[2])), `"'`)
		if value == "" || isPublicEnv(string(m[1])) {
			continue
		}
		return true
	}
	return false
}

func isPublicEnv(name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range publicEnvPrefixes {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}

func holdsKeyBag(head []byte) bool {
	return bytes.Contains(head, shroudedKeyBagOID) || bytes.Contains(head, keyBagOID)
}

// Check reports whether the file at p in fsys holds a credential, and by
// which rule, reading it only when its name is not proof.
func Check(fsys fs.FS, p string) (*Rule, bool) {
	r := Lookup(p)
	if r == nil {
		return nil, false
	}
	if r.Always {
		return r, true
	}
	f, err := fsys.Open(p)
	if err != nil {
		return r, false
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, MaxSniff))
	return r, err == nil && r.In(head)
}

// MaxFolderFiles bounds the files Find looks at in one folder: tool
// folders hold a handful.
const MaxFolderFiles = 1000

// Find walks the folder dir in fsys and returns the first regular file
// that holds a credential, with its rule; skip leaves paths out (files a
// .dockerignore excludes). It gives up after MaxFolderFiles files.
func Find(fsys fs.FS, dir string, skip func(p string) bool) (string, *Rule) {
	var found string
	var rule *Rule
	seen := 0
	_ = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() || skip != nil && skip(p) {
			return nil
		}
		if seen++; seen > MaxFolderFiles {
			return fs.SkipAll
		}
		if r, ok := Check(fsys, p); ok {
			found, rule = p, r
			return fs.SkipAll
		}
		return nil
	})
	return found, rule
}

// InToolFolder reports whether p is a folder a tool keeps its logins in
// (.ssh, .aws, .docker, ...) or is inside one.
func InToolFolder(p string) bool {
	for _, elem := range strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/") {
		if toolFolders[elem] {
			return true
		}
	}
	return false
}

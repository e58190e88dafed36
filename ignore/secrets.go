package ignore

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/credfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// Secret is a file or folder in the build context that looks like it holds
// credentials.
type Secret struct {
	// Path is relative to the context root, slash-separated; folders end
	// in "/".
	Path string `json:"path"`
	// Kind says what it looks like, e.g. "SSH private key".
	Kind string `json:"kind"`
}

// kindNpmToken is the one secret harden's ignore entries leave in place:
// npm may need the file's registry settings during the build.
const kindNpmToken = "npm registry token"

// Excludable reports whether harden's ignore entries exclude this kind of
// secret. An .npmrc with a token is not excluded, since npm may need its
// registry settings during the build; the token itself must move out.
func (s Secret) Excludable() bool { return s.Kind != kindNpmToken }

// maxSniff bounds how much of a candidate file is read to decide whether it
// holds a private key or a token. Keys and rc files are a few kilobytes;
// certificate bundles can be larger, and a key hidden behind a megabyte of
// certificates is not worth a slower scan of every context.
const maxSniff = 1 << 20

// credentialFolders are folders whose whole content is credentials, keyed
// by name.
var credentialFolders = map[string]string{
	".aws":    "AWS credentials folder",
	".azure":  "Azure credentials folder",
	".gcloud": "Google Cloud credentials folder",
	".kube":   "Kubernetes credentials folder",
	".ssh":    "SSH keys folder",
	".gnupg":  "GnuPG keyring",
}

// gcloudFiles mark a plain "gcloud" folder (as in ~/.config/gcloud) as a
// credentials folder; a "gcloud" package in a source tree has none of them.
var gcloudFiles = []string{"application_default_credentials.json", "credentials.db", "access_tokens.db", "legacy_credentials"}

// envExamples are .env.* suffixes that, by convention, document variables
// without holding real values.
var envExamples = map[string]bool{"example": true, "sample": true, "template": true, "dist": true, "defaults": true, "schema": true, "tpl": true}

var (
	privateKeyBlock = lazyre.New(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----`)
	npmToken        = lazyre.New(`(?m)^\s*[^#;\s][^=]*(_authToken|_auth|_password)\s*=\s*\S`)
	pypircPassword  = lazyre.New(`(?m)^\s*password\s*[=:]\s*\S`)
)

// classify says whether the context path p (slash-separated) looks like a
// secret, reading the file through fsys when its name alone cannot tell.
// Folders are classified by name and, for gcloud, by what they contain.
func classify(fsys fs.FS, p string, dir bool) (string, bool) {
	name := path.Base(p)
	if dir {
		// A tool's folder is a secret as a whole only when a file in it
		// holds a login: projects keep their own configuration in .kube/
		// or .ssh/ (known_hosts) too.
		if kind, ok := credentialFolders[name]; ok {
			if found, _ := credfile.Find(fsys, p, nil); found != "" {
				return kind, true
			}
			return "", false
		}
		if name == "gcloud" && containsAny(fsys, p, gcloudFiles) {
			return "Google Cloud credentials folder", true
		}
		return "", false
	}
	lower := strings.ToLower(name)
	switch {
	case name == ".env" || strings.HasPrefix(name, ".env."):
		if envExamples[strings.ToLower(strings.TrimPrefix(name, ".env."))] {
			return "", false
		}
		// Only public front-end settings (VITE_API_URL=...) or empty
		// values: nothing secret to keep out.
		if _, holds := credfile.Check(fsys, p); !holds {
			return "", false
		}
		return "dotenv file", true
	case isSSHKeyName(name):
		return "SSH private key", true
	case name == ".git-credentials":
		return "git credentials", true
	case name == ".netrc" || name == "_netrc":
		return "netrc credentials", true
	case name == ".pgpass":
		return "PostgreSQL passwords", true
	case name == ".dockercfg":
		return "Docker registry credentials", true
	case name == "config.json" && path.Base(path.Dir(p)) == ".docker":
		if _, holds := credfile.Check(fsys, p); !holds { // a credential helper's name, proxies
			return "", false
		}
		return "Docker registry credentials", true
	case strings.HasSuffix(lower, ".p12") || strings.HasSuffix(lower, ".pfx"):
		// A truststore of certificates is a PKCS#12 file too.
		if _, holds := credfile.Check(fsys, p); !holds {
			return "", false
		}
		return "PKCS#12 key bundle", true
	case name == ".npmrc":
		return sniffed(fsys, p, npmToken, kindNpmToken)
	case name == ".pypirc":
		return sniffed(fsys, p, pypircPassword, "PyPI credentials")
	case strings.HasSuffix(lower, ".tfstate") || strings.HasSuffix(lower, ".tfstate.backup"):
		return "Terraform state", true
	case isKeyFileName(lower):
		return sniffed(fsys, p, privateKeyBlock, "private key")
	}
	return "", false
}

// isSSHKeyName matches OpenSSH's default private key names; the .pub halves
// are public.
func isSSHKeyName(name string) bool {
	for _, base := range []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"} {
		if name == base || strings.HasPrefix(name, base+"_") || strings.HasPrefix(name, base+".") && !strings.HasSuffix(name, ".pub") {
			return true
		}
	}
	return false
}

// isKeyFileName matches the extensions private keys are usually stored
// under; only the content tells a key from a certificate.
func isKeyFileName(lower string) bool {
	for _, ext := range []string{".pem", ".key", ".p8"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// sniffed reports kind when the start of the file matches re.
func sniffed(fsys fs.FS, p string, re func() *regexp.Regexp, kind string) (string, bool) {
	head, err := readHead(fsys, p, maxSniff)
	if err != nil || !re().Match(head) {
		return "", false
	}
	return kind, true
}

// isPublicCertificate reports whether a .pem/.key-style file holds only
// certificates or public keys: harden's key patterns must not hide the CA
// bundle an app reads at run time.
func isPublicCertificate(fsys fs.FS, p string) bool {
	if !isKeyFileName(strings.ToLower(path.Base(p))) {
		return false
	}
	head, err := readHead(fsys, p, maxSniff)
	if err != nil || privateKeyBlock().Match(head) {
		return false
	}
	return bytes.Contains(head, []byte("-----BEGIN CERTIFICATE-----")) || bytes.Contains(head, []byte("-----BEGIN PUBLIC KEY-----"))
}

func readHead(fsys fs.FS, p string, n int64) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

func containsAny(fsys fs.FS, dir string, names []string) bool {
	for _, n := range names {
		if _, err := fs.Stat(fsys, path.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// FindSecrets lists the secret-looking files and folders that reach the
// builder when the context fsys is filtered through patterns (an ignore
// file's patterns as ignorefile.ReadAll returns them). A folder that is a
// secret as a whole is listed once, not file by file. partial is true when
// the walk stopped at maxEntries (0 means DefaultMaxEntries).
func FindSecrets(fsys fs.FS, patterns []string, maxEntries int) (secrets []Secret, partial bool, err error) {
	return findSecrets(newContextTree(fsys), patterns, maxEntries)
}

// FindSecretsIn is FindSecrets over a build context through its ignore
// file, keeping the listing for ForDockerfile with Options.Context.
func FindSecretsIn(ctx *buildctx.Context, maxEntries int) (secrets []Secret, partial bool, err error) {
	return findSecrets(sharedTree(ctx), ctx.IgnorePatterns, maxEntries)
}

func findSecrets(tree *contextTree, patterns []string, maxEntries int) (secrets []Secret, partial bool, err error) {
	fsys := tree.fsys
	var inside string // a folder already reported; its contents are not listed again
	partial, err = tree.walkSent(newMatchers().list(patterns), maxEntries, func(e sentEntry) error {
		if inside != "" && strings.HasPrefix(e.path, inside) {
			return nil
		}
		inside = ""
		if !e.dir && !e.mode.IsRegular() {
			return nil // symlinks and devices hold no secret of their own
		}
		if kind, ok := classify(fsys, e.path, e.dir); ok {
			p := e.path
			if e.dir {
				p += "/"
				inside = p
			}
			secrets = append(secrets, Secret{Path: p, Kind: kind})
		}
		return nil
	})
	return secrets, partial, err
}

package build

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	bkclient "github.com/moby/buildkit/client"
)

// TLS is how harden authenticates to a BuildKit daemon on tcp:// with
// (mutual) TLS. The fields are buildctl's flags of the same names.
type TLS struct {
	// CACert verifies the daemon's certificate (--tlscacert); empty uses
	// the system's roots.
	CACert string `json:"cacert,omitempty"`
	// Cert and Key are the client's certificate and key (--tlscert,
	// --tlskey), which a daemon started with --tlscacert requires.
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	// ServerName is the name the daemon's certificate must carry
	// (--tlsservername); empty means the address's host.
	ServerName string `json:"servername,omitempty"`
	// Dir holds ca.pem, cert.pem and key.pem, or cert-manager's ca.crt,
	// tls.crt and tls.key (--tlsdir); it excludes CACert, Cert and Key.
	Dir string `json:"dir,omitempty"`
	// Source says where the settings came from (flags or the environment),
	// for messages.
	Source Source `json:"source,omitempty"`
}

// Environment variables for the TLS settings. buildctl has only flags;
// bots that reach a shared daemon set these once for every harden run.
const (
	EnvTLSCACert     = "BUILDKIT_TLS_CACERT"
	EnvTLSCert       = "BUILDKIT_TLS_CERT"
	EnvTLSKey        = "BUILDKIT_TLS_KEY"
	EnvTLSServerName = "BUILDKIT_TLS_SERVERNAME"
	EnvTLSDir        = "BUILDKIT_TLS_DIR"
)

// SourceTLSFlags and SourceTLSEnv say where TLS settings came from.
const (
	SourceTLSFlags Source = "the --tls flags"
	SourceTLSEnv   Source = "the BUILDKIT_TLS_* variables"
)

// IsZero reports whether no setting is given.
func (t TLS) IsZero() bool {
	return t.CACert == "" && t.Cert == "" && t.Key == "" && t.ServerName == "" && t.Dir == ""
}

// ResolveTLS picks the TLS settings: the flags when any is given, else the
// BUILDKIT_TLS_* variables. The two are not mixed, so that what a command
// line says is all that applies.
func ResolveTLS(flags TLS) TLS {
	return hostEnv.resolveTLS(flags)
}

func (e environment) resolveTLS(flags TLS) TLS {
	if !flags.IsZero() {
		flags.Source = SourceTLSFlags
		return flags
	}
	t := TLS{
		CACert: e.getenv(EnvTLSCACert), Cert: e.getenv(EnvTLSCert), Key: e.getenv(EnvTLSKey),
		ServerName: e.getenv(EnvTLSServerName), Dir: e.getenv(EnvTLSDir),
	}
	if !t.IsZero() {
		t.Source = SourceTLSEnv
	}
	return t
}

// Check validates the settings as buildctl does, and that the files exist,
// so that a typo reads as such rather than as an unreachable daemon.
func (t TLS) Check() error {
	what := func(flag, env string) string {
		if t.Source == SourceTLSEnv {
			return env
		}
		return flag
	}
	if t.Dir != "" && (t.CACert != "" || t.Cert != "" || t.Key != "") {
		return fmt.Errorf("%s names the files; give it or %s, %s and %s, not both",
			what("--tlsdir", EnvTLSDir), what("--tlscacert", EnvTLSCACert), what("--tlscert", EnvTLSCert), what("--tlskey", EnvTLSKey))
	}
	if (t.Cert == "") != (t.Key == "") {
		return fmt.Errorf("%s and %s go together: the client certificate and its key", what("--tlscert", EnvTLSCert), what("--tlskey", EnvTLSKey))
	}
	for _, f := range []struct{ path, flag, env string }{
		{t.CACert, "--tlscacert", EnvTLSCACert}, {t.Cert, "--tlscert", EnvTLSCert}, {t.Key, "--tlskey", EnvTLSKey},
	} {
		if f.path == "" {
			continue
		}
		if fi, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s: %w", what(f.flag, f.env), err)
		} else if fi.IsDir() {
			return fmt.Errorf("%s %s is a folder; %s takes a folder", what(f.flag, f.env), f.path, what("--tlsdir", EnvTLSDir))
		}
	}
	if t.Dir != "" {
		if _, _, _, err := t.dirFiles(); err != nil {
			return fmt.Errorf("%s %s: %w", what("--tlsdir", EnvTLSDir), t.Dir, err)
		}
	}
	return nil
}

// dirFiles finds the three files in Dir under either naming buildctl knows.
func (t TLS) dirFiles() (ca, cert, key string, err error) {
	oneOf := func(names ...string) (string, error) {
		for _, n := range names {
			p := filepath.Join(t.Dir, n)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			} else if !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
		return "", fmt.Errorf("holds neither %s nor %s", names[0], names[1])
	}
	if ca, err = oneOf("ca.pem", "ca.crt"); err != nil {
		return
	}
	if cert, err = oneOf("cert.pem", "tls.crt"); err != nil {
		return
	}
	key, err = oneOf("key.pem", "tls.key")
	return
}

// clientOpts turns the settings into BuildKit client options for addr. They
// apply to tcp:// only: a unix socket is protected by its permissions and a
// connection helper (kube-pod://, docker-container://, ssh://) brings its
// own transport. Settings from flags on another scheme are a mistake worth
// saying; the environment's are left unused, since bots set them once for
// every address they use.
func (t TLS) clientOpts(addr Address) ([]bkclient.ClientOpt, error) {
	if t.IsZero() {
		return nil, nil
	}
	if u, err := url.Parse(addr.URL); err != nil || u.Scheme != "tcp" || addr.DockerEngine {
		if t.Source == SourceTLSEnv {
			return nil, nil
		}
		return nil, fmt.Errorf("the TLS settings (--tlscacert, --tlscert, --tlskey, --tlsservername, --tlsdir) apply to tcp:// addresses, and BuildKit is at %s (from %s)", addr.URL, addr.Source)
	}
	if err := t.Check(); err != nil {
		return nil, err
	}
	ca, cert, key := t.CACert, t.Cert, t.Key
	if t.Dir != "" {
		var err error
		if ca, cert, key, err = t.dirFiles(); err != nil {
			return nil, err
		}
	}
	var opts []bkclient.ClientOpt
	if ca != "" {
		opts = append(opts, bkclient.WithServerConfig(t.ServerName, ca))
	} else {
		// buildctl would trust no one here; the system's roots are what a
		// daemon with a public certificate needs.
		opts = append(opts, bkclient.WithServerConfigSystem(t.ServerName))
	}
	if cert != "" {
		opts = append(opts, bkclient.WithCredentials(cert, key))
	}
	return opts, nil
}

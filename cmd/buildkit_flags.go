package cmd

import (
	"github.com/spf13/pflag"

	"github.com/harden-dev/harden/buildjob"
)

// addTLSFlags binds buildctl's TLS flags, under buildctl's names, for the
// commands that reach BuildKit (report, fix --build, fix --verify). With
// none given, harden-build reads the same settings from BUILDKIT_TLS_*.
func addTLSFlags(fl *pflag.FlagSet, t *buildjob.TLS) {
	fl.StringVar(&t.CACert, "tlscacert", "", "CA certificate `file` that signed a tcp:// BuildKit's certificate (default: $BUILDKIT_TLS_CACERT)")
	fl.StringVar(&t.Cert, "tlscert", "", "client certificate `file` for a tcp:// BuildKit (default: $BUILDKIT_TLS_CERT)")
	fl.StringVar(&t.Key, "tlskey", "", "client key `file` for a tcp:// BuildKit (default: $BUILDKIT_TLS_KEY)")
	fl.StringVar(&t.ServerName, "tlsservername", "", "`name` a tcp:// BuildKit's certificate must carry (default: $BUILDKIT_TLS_SERVERNAME, else the address's host)")
	fl.StringVar(&t.Dir, "tlsdir", "", "`folder` holding ca.pem, cert.pem and key.pem, or ca.crt, tls.crt and tls.key (default: $BUILDKIT_TLS_DIR)")
}

// checkTLSFlags refuses what buildctl refuses: a folder and files at once.
func checkTLSFlags(t buildjob.TLS) error {
	if t.Dir != "" && (t.CACert != "" || t.Cert != "" || t.Key != "") {
		return usageError("--tlsdir names the files; give it or --tlscacert, --tlscert and --tlskey, not both")
	}
	if (t.Cert == "") != (t.Key == "") {
		return usageError("--tlscert and --tlskey go together: the client certificate and its key")
	}
	return nil
}

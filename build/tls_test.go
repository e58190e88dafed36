package build

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/internal/bktest"
)

func TestResolveTLSFlagsWinWhole(t *testing.T) {
	env := fakeEnv(map[string]string{EnvTLSCACert: "/env/ca.pem", EnvTLSCert: "/env/cert.pem", EnvTLSKey: "/env/key.pem"})
	got := env.resolveTLS(TLS{ServerName: "bk.internal"})
	if got != (TLS{ServerName: "bk.internal", Source: SourceTLSFlags}) {
		t.Errorf("one flag given: the environment must not fill in the rest: %+v", got)
	}
	got = env.resolveTLS(TLS{})
	if got != (TLS{CACert: "/env/ca.pem", Cert: "/env/cert.pem", Key: "/env/key.pem", Source: SourceTLSEnv}) {
		t.Errorf("no flag: the environment's settings: %+v", got)
	}
	if got := fakeEnv(nil).resolveTLS(TLS{}); !got.IsZero() || got.Source != "" {
		t.Errorf("neither: no TLS, got %+v", got)
	}
}

func TestTLSCheckSaysWhatIsWrongInTheUsersTerms(t *testing.T) {
	dir := t.TempDir()
	files, err := bktest.NewTLSFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	certManager := t.TempDir()
	for from, to := range map[string]string{files.CA: "ca.crt", files.ClientCert: "tls.crt", files.ClientKey: "tls.key"} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(certManager, to), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, ok := range []TLS{
		{CACert: files.CA, Cert: files.ClientCert, Key: files.ClientKey},
		{CACert: files.CA},
		{Dir: dir},
		{Dir: certManager, ServerName: "localhost"},
	} {
		if err := ok.Check(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		tls  TLS
		want string
	}{
		{TLS{Dir: dir, CACert: files.CA, Source: SourceTLSFlags}, "--tlsdir names the files; give it or --tlscacert"},
		{TLS{Dir: dir, Key: files.ClientKey, Source: SourceTLSEnv}, EnvTLSDir + " names the files; give it or " + EnvTLSCACert},
		{TLS{Cert: files.ClientCert}, "--tlscert and --tlskey go together"},
		{TLS{CACert: filepath.Join(dir, "nope.pem")}, "--tlscacert: stat " + filepath.Join(dir, "nope.pem")},
		{TLS{CACert: dir}, "is a folder; --tlsdir takes a folder"},
		{TLS{Dir: t.TempDir(), Source: SourceTLSEnv}, EnvTLSDir + " "},
		{TLS{Dir: t.TempDir()}, "holds neither ca.pem nor ca.crt"},
	} {
		if err := tc.tls.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want one containing %q", tc.tls, err, tc.want)
		}
	}
}

func TestTLSAppliesToTCPOnly(t *testing.T) {
	unix := Address{URL: "unix:///run/buildkit/buildkitd.sock", Source: SourceEnv}
	kube := Address{URL: "kube-pod://buildkitd-0?namespace=ci", Source: SourceFlag}
	flags := TLS{CACert: "/ca.pem", Source: SourceTLSFlags}
	for _, addr := range []Address{unix, kube} {
		if _, err := flags.clientOpts(addr); err == nil || !strings.Contains(err.Error(), "apply to tcp:// addresses") || !strings.Contains(err.Error(), addr.URL) {
			t.Errorf("TLS flags with %s: err = %v", addr.URL, err)
		}
		env := TLS{CACert: "/ca.pem", Source: SourceTLSEnv}
		if opts, err := env.clientOpts(addr); err != nil || opts != nil {
			t.Errorf("TLS variables with %s are for other addresses: %v, %v", addr.URL, opts, err)
		}
	}
	if _, err := flags.clientOpts(Address{URL: "tcp://127.0.0.1:1234", Source: SourceFlag}); err == nil || !strings.Contains(err.Error(), "--tlscacert") {
		t.Errorf("a missing CA file on tcp:// must be named: %v", err)
	}
}

// A daemon that wants a client certificate refuses a client without one,
// and says that TLS was in play; with the right files the handshake gets
// through (what answers afterwards is not BuildKit here, so the probe
// still fails, but no longer on TLS).
func TestConnectWithTLSReachesTheHandshake(t *testing.T) {
	files, err := bktest.NewTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := tls.LoadX509KeyPair(files.ServerCert, files.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, NextProtos: []string{"h2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	handshakes := make(chan error, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handshakes <- c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	addr := "tcp://" + ln.Addr().String()
	connect := func(t TLS) error {
		_, err := Connect(context.Background(), addr, ConnectOptions{ProbeTimeout: 2 * time.Second, TLS: t})
		return err
	}

	err = connect(TLS{CACert: files.CA, Source: SourceTLSFlags})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "with TLS from the --tls flags") {
		t.Errorf("without a client certificate: %v", err)
	}
	if hs := <-handshakes; hs == nil {
		t.Error("the server accepted a client without a certificate")
	}
	_ = connect(TLS{Dir: files.Dir, Source: SourceTLSEnv})
	select {
	case hs := <-handshakes:
		if hs != nil {
			t.Errorf("with the client certificate from --tlsdir the handshake failed: %v", hs)
		}
	case <-time.After(5 * time.Second):
		t.Error("no connection arrived")
	}
}

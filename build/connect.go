package build

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bkclient "github.com/moby/buildkit/client"

	// Connection helpers register URL schemes with BuildKit's client, exactly as
	// buildctl enables them, so remote and shared builders work unchanged.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// DefaultProbeTimeout bounds the first request to the daemon. gRPC connects
// lazily, so without a probe a missing daemon would only show up as a hung or
// failed build much later.
const DefaultProbeTimeout = 5 * time.Second

// ErrUnreachable is matched (errors.Is) by every error Connect returns when no
// daemon answers at the resolved address.
var ErrUnreachable = errors.New("buildkit daemon unreachable")

// UnreachableError explains which address was tried and how to get a daemon.
type UnreachableError struct {
	Addr Address
	Err  error
	// TLS is where the TLS settings in use came from; empty without TLS.
	TLS Source
}

func (e *UnreachableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot reach BuildKit at %s (from %s): %v\n", e.Addr.URL, e.Addr.Source, e.Err)
	if len(e.Addr.Tried) > 1 {
		fmt.Fprintf(&b, "  looked for a daemon at: %s\n", strings.Join(e.Addr.Tried, ", "))
	}
	if e.TLS != "" {
		fmt.Fprintf(&b, "  with TLS from %s: check the CA, the client certificate and key, and the server name\n", e.TLS)
	}
	b.WriteString("  start one as root with `buildkitd &` (runc and buildkitd installed),\n")
	b.WriteString("  or from the harden repository: scripts/e2e-setup.sh && scripts/buildkitd-dev.sh,\n")
	b.WriteString("  or point --buildkit-host / BUILDKIT_HOST at a running builder\n")
	b.WriteString("  (e.g. docker-container://buildx_buildkit_default or tcp://host:1234)")
	return b.String()
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) true without hiding the cause.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Client is a connection to a BuildKit daemon that answered a probe.
type Client struct {
	bk   *bkclient.Client
	Addr Address
	// Workers describes the daemon's workers (platforms, labels) as reported
	// by the probe.
	Workers []*bkclient.WorkerInfo
}

// ConnectOptions tune Connect; the zero value is fine.
type ConnectOptions struct {
	// ProbeTimeout bounds the readiness probe; zero means DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// TLS authenticates to a daemon on tcp:// (see ResolveTLS).
	TLS TLS
}

// Connect resolves host (see ResolveAddress), dials it and checks that a
// daemon answers within the probe timeout. Errors for a missing or dead daemon
// match ErrUnreachable.
func Connect(ctx context.Context, host string, opts ConnectOptions) (*Client, error) {
	return ConnectAddress(ctx, ResolveAddress(host), opts)
}

// ConnectAddress is Connect for an already resolved address.
func ConnectAddress(ctx context.Context, addr Address, opts ConnectOptions) (*Client, error) {
	timeout := opts.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	copts, err := opts.TLS.clientOpts(addr)
	if err != nil {
		return nil, err
	}
	var tlsFrom Source
	if len(copts) > 0 {
		tlsFrom = opts.TLS.Source
	}
	url := addr.URL
	if addr.DockerEngine {
		copts = dockerEngineOpts(strings.TrimPrefix(addr.URL, "unix://"))
		url = "" // the dialers above carry the address
	}
	bk, err := bkclient.New(ctx, url, copts...)
	if err != nil {
		// New only fails on malformed addresses or unknown helper schemes.
		return nil, &UnreachableError{Addr: addr, Err: err, TLS: tlsFrom}
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	workers, err := bk.ListWorkers(pctx)
	if err != nil {
		bk.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up; not the daemon's fault
		}
		return nil, &UnreachableError{Addr: addr, Err: err, TLS: tlsFrom}
	}
	if len(workers) == 0 {
		bk.Close()
		return nil, &UnreachableError{Addr: addr, Err: errors.New("daemon has no workers"), TLS: tlsFrom}
	}
	return &Client{bk: bk, Addr: addr, Workers: workers}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.bk.Close() }

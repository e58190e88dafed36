package build

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	bkclient "github.com/moby/buildkit/client"
)

// dockerEngineOpts lets BuildKit's client talk to the BuildKit embedded in a
// Docker engine. The engine serves HTTP on its socket; POST /grpc upgraded to
// h2c carries the control API and POST /session carries the client session,
// which is how docker buildx reaches it. Doing the upgrade by hand avoids
// pulling in the Docker client library for two requests.
func dockerEngineOpts(sock string) []bkclient.ClientOpt {
	return []bkclient.ClientOpt{
		bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return dialUpgrade(ctx, sock, "/grpc", "h2c", nil)
		}),
		bkclient.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return dialUpgrade(ctx, sock, "/session", proto, meta)
		}),
	}
}

// dialUpgrade connects to a unix socket, asks for a protocol upgrade on path
// and returns the raw connection once the server switched protocols.
func dialUpgrade(ctx context.Context, sock, path, proto string, header map[string][]string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://docker"+path, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", proto)

	// Bound the handshake by ctx; the upgraded stream itself must not be.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("docker engine %s: POST %s: %w", sock, path, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("docker engine %s: POST %s: %w", sock, path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		conn.Close()
		return nil, fmt.Errorf("docker engine %s: POST %s: %s: %s", sock, path, resp.Status, body)
	}
	conn.SetDeadline(time.Time{})
	return &bufferedConn{Conn: conn, r: br}, nil
}

// bufferedConn keeps bytes the HTTP reader buffered past the response header.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

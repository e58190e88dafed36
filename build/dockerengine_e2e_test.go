package build_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/grpchijack"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
)

// fakeDockerEngine serves the two endpoints through which a Docker engine
// exposes its BuildKit (POST /grpc and POST /session, upgraded to raw
// streams) and forwards them to a plain buildkitd, so the Docker engine
// dialers are tested without Docker.
func fakeDockerEngine(t *testing.T, env *bktest.Env) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "harden-docker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	bk, err := bkclient.New(context.Background(), env.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	upgrade := func(w http.ResponseWriter, r *http.Request, backend func(ctx context.Context) (net.Conn, error)) {
		if r.Header.Get("Connection") != "Upgrade" || r.Header.Get("Upgrade") == "" {
			http.Error(w, "upgrade required", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		be, err := backend(ctx)
		if err != nil {
			cancel()
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		front, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			cancel()
			be.Close()
			return
		}
		rw.WriteString("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\n\r\n")
		rw.Flush()
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer cancel()
			splice(front, rw.Reader, be)
		}()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /grpc", func(w http.ResponseWriter, r *http.Request) {
		upgrade(w, r, func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", strings.TrimPrefix(env.Addr, "unix://"))
		})
	})
	mux.HandleFunc("POST /session", func(w http.ResponseWriter, r *http.Request) {
		upgrade(w, r, func(ctx context.Context) (net.Conn, error) {
			meta := map[string][]string{}
			for k, v := range r.Header {
				if strings.HasPrefix(k, "X-Docker-Expose-Session") {
					meta[k] = v
				}
			}
			return grpchijack.Dialer(bk.ControlClient())(ctx, r.Header.Get("Upgrade"), meta)
		})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		bk.Close()
	})
	return sock
}

// splice copies both ways until either side closes.
func splice(front net.Conn, buffered *bufio.Reader, back net.Conn) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(back, buffered); done <- struct{}{} }()
	go func() { io.Copy(front, back); done <- struct{}{} }()
	<-done
	front.Close()
	back.Close()
	<-done
}

func TestBuildThroughDockerEngineSocket(t *testing.T) {
	env := bktest.Start(t)
	sock := fakeDockerEngine(t, env)
	for _, addr := range []string{"docker://" + sock, "unix://" + sock} {
		c, err := build.Connect(context.Background(), addr, build.ConnectOptions{})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if !c.Addr.DockerEngine {
			t.Errorf("%s was not recognised as a Docker engine", addr)
		}
		// A COPY needs the session (file sync), so both endpoints are exercised.
		ctxDir := contextDir(t, map[string][]byte{"hello.txt": []byte("hello")})
		res, err := c.Build(context.Background(), build.Request{Name: "via-docker", Dockerfile: []byte("FROM busybox\nCOPY hello.txt /\n"), ContextDir: ctxDir})
		c.Close()
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		res.Cleanup()
	}
}

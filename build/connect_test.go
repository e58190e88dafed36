package build_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
)

func TestConnectUnreachableIsTypedAndFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()

	for _, addr := range []string{"unix:///nonexistent/buildkitd.sock", "tcp://" + closedPort, "docker:///nonexistent/docker.sock"} {
		start := time.Now()
		_, err := build.Connect(context.Background(), addr, build.ConnectOptions{ProbeTimeout: 3 * time.Second})
		if !errors.Is(err, build.ErrUnreachable) {
			t.Fatalf("%s: want ErrUnreachable, got %v", addr, err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("%s: took %s to give up", addr, d)
		}
		msg := err.Error()
		for _, want := range []string{strings.TrimPrefix(addr, "docker://"), "--buildkit-host", "buildkitd", "scripts/e2e-setup.sh"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message lacks %q:\n%s", addr, want, msg)
			}
		}
	}
}

func TestConnectHonoursCallerCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := build.Connect(ctx, "unix:///nonexistent/buildkitd.sock", build.ConnectOptions{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, build.ErrUnreachable) {
		t.Fatalf("a cancelled caller is not an unreachable daemon: %v", err)
	}
}

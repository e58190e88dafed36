package bktest_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/smoke"
)

func TestMain(m *testing.M) { bktest.Main(m) }

func buildDir(t *testing.T, c *build.Client, name, dockerfile, dir string) *build.Result {
	t.Helper()
	res, err := c.Build(context.Background(), build.Request{Name: name, Dockerfile: []byte(dockerfile), ContextDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Cleanup() })
	return res
}

func smokeCheck(t *testing.T, res *build.Result) *smoke.Report {
	t.Helper()
	img, err := res.Image()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := smoke.Run(context.Background(), img, smoke.Options{Run: 2 * time.Second, Timeout: 15 * time.Second, Grace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The stand-ins make the difference hardening makes visible: a naive Python
// image on the fat base, with apt lists and pip's cache, against the same app
// on the slim base as a non-root user. Both come from the mirror for docker.io.
func TestPythonStandInsShowHardeningThroughBuildKit(t *testing.T) {
	env := bktest.Start(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("flask\ngunicorn\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print('hi')\n"), 0o644)

	naive := buildDir(t, c, "naive", `FROM python:3.11
RUN apt-get update
RUN apt-get install -y build-essential
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
EXPOSE 8000
CMD python app.py
`, dir)
	// The stand-in serves on $PORT; a free one keeps this test clear of
	// whatever else on the host uses 8000 (smoke checks share its network).
	port := freePort(t)
	hardened := buildDir(t, c, "hardened", fmt.Sprintf(`FROM python:3.11-slim
RUN groupadd -r app && useradd -r -g app -d /app app
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=app:app . .
USER app
ENV PORT=%d
EXPOSE %d
CMD ["python", "app.py"]
`, port, port), dir)
	n, h := naive.Stats, hardened.Stats
	if h.CompressedSize*2 > n.CompressedSize || h.UncompressedSize*2 > n.UncompressedSize {
		t.Errorf("hardened %d/%d bytes should be well under half of naive %d/%d", h.CompressedSize, h.UncompressedSize, n.CompressedSize, n.UncompressedSize)
	}
	if !n.IsRoot() || h.IsRoot() || h.User != "app" {
		t.Errorf("users: naive %q, hardened %q", n.User, h.User)
	}
	rep := smokeCheck(t, hardened)
	if !rep.Passed || rep.UID != 999 || rep.Check != fmt.Sprintf("tcp port %d", port) {
		t.Errorf("hardened smoke: %+v", rep)
	}
}

// A Go multi-stage build onto the distroless stand-in, pulled through the
// gcr.io mirror: the binary the go shim "builds" really serves and stops.
func TestGolangToDistrolessThroughBuildKit(t *testing.T) {
	env := bktest.Start(t)
	c, err := build.Connect(context.Background(), env.Addr, build.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/api\n\ngo 1.22\n"), 0o644)
	port := freePort(t)
	res := buildDir(t, c, "go", fmt.Sprintf(`FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod .
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/api .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/api /api
ENV PORT=%d
EXPOSE %d
ENTRYPOINT ["/api"]
`, port, port), dir)
	rep := smokeCheck(t, res)
	if !rep.Passed || rep.UID != 65532 || rep.StopsOnSIGTERM == nil || !*rep.StopsOnSIGTERM {
		t.Errorf("distroless smoke: %+v", rep)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

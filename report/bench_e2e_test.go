package report_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/harden-dev/harden/report"
)

// What harden report costs on top of BuildKit: the same two Dockerfiles
// (a naive Python app and harden's fix of it) built through report.Run
// (solve, OCI layout, measuring every layer; no smoke check) and through
// buildctl (solve, OCI tar), warm and without cache. Run with
//
//	go test -run '^$' -bench Overhead -benchtime 5x ./report/
func BenchmarkOverhead(b *testing.B) {
	c, env := connect(b)
	dir := b.TempDir()
	files := map[string]string{
		"requirements.txt": "flask\ngunicorn\n",
		"app.py":           "print('hi')\n",
		"Dockerfile.original": `FROM python:3.11
RUN apt-get update
RUN apt-get install -y libpq-dev
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
`,
		"Dockerfile.hardened": `FROM python:3.11 AS builder
WORKDIR /app
COPY requirements.txt ./
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN groupadd --system --gid 10001 app && useradd --system --no-create-home --uid 10001 --gid app app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY --chown=10001:10001 . .
USER 10001:10001
CMD ["python", "app.py"]
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	in := report.Input{ContextDir: dir, Original: []byte(files["Dockerfile.original"]), Hardened: []byte(files["Dockerfile.hardened"])}
	tarOut := filepath.Join(b.TempDir(), "image.tar")
	buildctl := func(b *testing.B, dockerfile string, noCache bool) {
		args := []string{"--addr", env.Addr, "build", "--frontend", "dockerfile.v0",
			"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=" + dockerfile,
			"--output", "type=oci,dest=" + tarOut, "--progress", "quiet"}
		if noCache {
			args = append(args, "--no-cache")
		}
		if msg, err := exec.Command(env.Bin.Buildctl, args...).CombinedOutput(); err != nil {
			b.Fatalf("buildctl: %v\n%s", err, msg)
		}
	}

	for _, noCache := range []bool{false, true} {
		suffix := "/warm"
		if noCache {
			suffix = "/no-cache"
		}
		b.Run("report"+suffix, func(b *testing.B) {
			if _, err := report.Run(context.Background(), c, in, report.Options{}); err != nil { // fill the cache
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := report.Run(context.Background(), c, in, report.Options{NoCache: noCache})
				if err != nil || r.Failed() {
					b.Fatalf("%v %+v %+v", err, r.Original.Error, r.Hardened.Error)
				}
			}
		})
		b.Run("buildctl"+suffix, func(b *testing.B) {
			buildctl(b, "Dockerfile.original", false)
			buildctl(b, "Dockerfile.hardened", false)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buildctl(b, "Dockerfile.original", noCache)
				buildctl(b, "Dockerfile.hardened", noCache)
			}
		})
	}
}

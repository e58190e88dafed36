#!/usr/bin/env bash
# Runs `harden report` on realistic images: the Debian bookworm bases of the
# e2e tests (internal/bktest, made with debootstrap: python:3.11 carries
# Debian's python3 with compilers and -dev headers, python:3.11-slim only
# python3, venv and pip), served through the loopback registry of the e2e
# environment, and a copy of testdata/examples/python-flask whose app needs
# only the standard library (PyPI, and so Flask, is out of reach here). Run
# as root; the bases are built once (minutes) and cached. Arguments go to
# harden report, e.g.
#   scripts/demo-report.sh --format markdown
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'demo-report: %s\n' "$*" >&2; }
die() { printf 'demo-report: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: debootstrap, buildkitd and the smoke check need it"
# runc, buildkitd, debootstrap and the realistic bases (built once, cached).
scripts/e2e-setup.sh >&2

tmp=$(mktemp -d)
bk_pid=
cleanup() {
	if [ -n "$bk_pid" ]; then
		kill "$bk_pid" 2>/dev/null || true
		wait "$bk_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/harden" ./cmd/harden
go build -o "$tmp/harden-build" ./cmd/harden-build  # harden report runs it from beside harden
go build -o "$tmp/bkdev" ./internal/bktest/bkdev

# The bundled example with the two lines PyPI's absence forces: the app uses
# the standard library, so requirements.txt is empty; and the port it
# listens on is declared, so the smoke check waits for an answer there.
app=$tmp/python-flask
cp -r testdata/examples/python-flask "$app"
sed -i -e 's/^RUN pip install flask$/RUN pip install -r requirements.txt/' -e 's/^CMD /EXPOSE 8080\nCMD /' "$app/Dockerfile"
grep -q 'pip install -r requirements.txt' "$app/Dockerfile" || die "testdata/examples/python-flask/Dockerfile changed; update this script"
printf '# The standard library only: PyPI is out of reach for this demo.\n' >"$app/requirements.txt"
cat >"$app/app.py" <<'EOF'
from http.server import BaseHTTPRequestHandler, HTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from a hardened container\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8080), Hello).serve_forever()
EOF

log "starting buildkitd and the registry with the realistic bases (python:3.11, python:3.11-slim, ...)"
"$tmp/bkdev" -real -env-file "$tmp/bk.env" >"$tmp/bkdev.log" 2>&1 &
bk_pid=$!
for _ in $(seq 600); do
	[ -s "$tmp/bk.env" ] && break
	kill -0 "$bk_pid" 2>/dev/null || die "the BuildKit environment did not start:$(printf '\n'; cat "$tmp/bkdev.log")"
	sleep 0.1
done
[ -s "$tmp/bk.env" ] || die "the BuildKit environment did not answer within a minute"
BUILDKIT_HOST=$(sed -n 's/^BUILDKIT_HOST=//p' "$tmp/bk.env")
export BUILDKIT_HOST

log "harden report $* $app"
status=0
(cd "$tmp" && ./harden report --progress "${PROGRESS:-plain}" "$@" python-flask) || status=$?
exit "$status"

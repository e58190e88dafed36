#!/usr/bin/env bash
# Runs `harden report` on realistic images: Debian bookworm bases made with
# debootstrap that stand in for python:3.11 (python3 and build-essential, as
# the official image carries a compiler) and python:3.11-slim, served through
# the loopback registry of the e2e environment, and a copy of
# testdata/examples/python-flask whose app needs only the standard library
# (PyPI, and so Flask, is out of reach here). Run as root; the bases are
# built once (a few minutes) and cached. Arguments go to harden report, e.g.
#   scripts/demo-report.sh --format markdown
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'demo-report: %s\n' "$*" >&2; }
die() { printf 'demo-report: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: debootstrap, buildkitd and the smoke check need it"
scripts/e2e-setup.sh >&2
if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

cache=${HARDEN_DEMO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/harden-demo}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Bump when the package lists or the apt configuration below change.
bases=$cache/bookworm-v2
fat_tar=$bases/python-3.11.tar.gz
slim_tar=$bases/python-3.11-slim.tar.gz

# What the official Debian images configure for apt: no package caches, .debs
# deleted after each install, compressed lists and no translations. Without
# it every "apt-get update" layer carries tens of MB of caches.
apt_config() {
	local conf=$1/etc/apt/apt.conf.d
	mkdir -p "$conf"
	cat >"$conf/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::GzipIndexes "true";' >"$conf/docker-gzip-indexes"
	echo 'Acquire::Languages "none";' >"$conf/docker-no-languages"
	echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$conf/docker-autoremove-suggests"
}

# install_into ROOTFS PACKAGE... installs packages in a chroot, then removes
# what an image should not carry: lists, caches and pip's "externally
# managed" marker, which the official python images do not have either.
install_into() {
	local root=$1
	shift
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mount -t proc proc "$root/proc"
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	chroot "$root" apt-get clean
	umount "$root/proc"
	rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/lib/python3*/EXTERNALLY-MANAGED "$root"/root/.cache
	: >"$root/etc/resolv.conf"
}

# pack ROOTFS TAR writes the rootfs as one gzip layer, without the contents
# of the kernel file systems a container runtime mounts. The layer is pulled
# as it is, so it gets gzip's default level, as registries' images have, for
# compressed sizes like theirs.
pack() {
	tar -C "$1" --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -cf - . | gzip -6 >"$2.tmp"
	mv "$2.tmp" "$2"
}

make_bases() {
	mkdir -p "$bases"
	local work
	work=$(mktemp -d "$bases/work-XXXXXX")
	# On failure, nothing may stay mounted in the work folder it removes.
	# shellcheck disable=SC2064 # expand now: work is local
	trap "umount '$work'/*/proc 2>/dev/null || true; rm -rf '$work'" EXIT
	log "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
	debootstrap --variant=minbase bookworm "$work/minbase" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		die "debootstrap failed; see the end of its log:$(printf '\n'; tail -n 20 "$work/debootstrap.log")"
	apt_config "$work/minbase"
	rm -rf "$work"/minbase/var/lib/apt/lists/* "$work"/minbase/var/cache/apt/*.bin

	log "python:3.11 stand-in: Debian's python3 with pip, venv and build-essential"
	cp -a "$work/minbase" "$work/fat"
	install_into "$work/fat" python3 python3-dev python3-pip python3-venv python-is-python3 build-essential git curl ca-certificates
	pack "$work/fat" "$fat_tar"

	log "python:3.11-slim stand-in: Debian's python3 with pip and venv"
	mv "$work/minbase" "$work/slim"
	install_into "$work/slim" python3 python3-pip python3-venv python-is-python3 ca-certificates
	pack "$work/slim" "$slim_tar"
	rm -rf "$work"
	trap - EXIT
}

mkdir -p "$cache"
exec 8>"$cache/build.lock"
flock 8
if [ -s "$fat_tar" ] && [ -s "$slim_tar" ]; then
	log "using the cached bases in $bases"
else
	start=$SECONDS
	make_bases
	log "made the bases in $((SECONDS - start))s"
fi
flock -u 8

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

log "starting buildkitd and the registry with the bases as python:3.11 and python:3.11-slim"
"$tmp/bkdev" -env-file "$tmp/bk.env" -rootfs "python:3.11=$fat_tar" -rootfs "python:3.11-slim=$slim_tar" >"$tmp/bkdev.log" 2>&1 &
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

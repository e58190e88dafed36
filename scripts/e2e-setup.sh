#!/usr/bin/env bash
# Prepares a Debian machine, as root, for harden's BuildKit end-to-end tests
# and for `harden report`: runc, a static busybox and debootstrap from apt,
# then buildkitd and buildctl built at go.mod's BuildKit version, and the
# realistic Debian bases (python:3.11, node:20, ... made with debootstrap),
# into the cache that the Go test helper (internal/bktest) reads. Safe to run
# again: it only does what is missing. HARDEN_REAL_BASES=0 skips the bases
# (the first test that needs them then builds them).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'e2e-setup: %s\n' "$*"; }
die() { printf 'e2e-setup: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: buildkitd's OCI worker and runc need it"
command -v go >/dev/null || die "the go command is needed to build buildkitd"

# runc runs containers for buildkitd and the smoke check; busybox-static makes
# the stand-in base images (the dynamic busybox package does not run in them);
# debootstrap makes the realistic ones.
missing=()
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || missing+=(runc)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	log "installed ${missing[*]}"
else
	log "runc, busybox-static and debootstrap are installed"
fi

version=$(go list -m -f '{{.Version}}' github.com/moby/buildkit)
cache=${HARDEN_BK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/harden-bk}
bin=$cache/$version/bin
# The lock is the one bktest takes, so a test run and this script never both build.
mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9
if [ -x "$bin/buildkitd" ] && [ -x "$bin/buildctl" ]; then
	log "buildkitd and buildctl $version are cached in $bin"
else
	log "building buildkitd and buildctl $version into $bin (a few minutes, once)"
	start=$SECONDS
	# `go install .../cmd/buildkitd@version` refuses BuildKit's go.mod (it has
	# exclude directives), so build inside the downloaded module instead. The
	# download runs outside this repository so it cannot touch go.mod or go.sum.
	dir=$(cd / && go mod download -json "github.com/moby/buildkit@$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[ -n "$dir" ] || die "go mod download github.com/moby/buildkit@$version gave no directory"
	tmp=$(mktemp -d "$cache/tmp-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$dir" && GOFLAGS=-mod=mod GOWORK=off go build -trimpath \
		-ldflags "-X github.com/moby/buildkit/version.Version=$version" \
		-o "$tmp/" ./cmd/buildkitd ./cmd/buildctl)
	rm -rf "$bin"
	mkdir -p "$(dirname "$bin")"
	mv "$tmp" "$bin"
	log "built $("$bin/buildkitd" --version) in $((SECONDS - start))s"
fi
flock -u 9

# The realistic bases: Go code in internal/bktest builds them (a quarter of
# an hour cold on two busy cores, nothing when cached: the recipe's hash is
# the cache key) under its own lock, and prints their sizes.
if [ "${HARDEN_REAL_BASES:-1}" != 0 ]; then
	start=$SECONDS
	go run ./internal/bktest/realbases
	log "realistic bases ready in $((SECONDS - start))s"
fi

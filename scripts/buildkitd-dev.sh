#!/usr/bin/env bash
# Runs a standalone BuildKit for trying `harden report` by hand: the same
# buildkitd and loopback registry with stand-in base images (busybox, python,
# node, golang, distroless, ...) that the e2e tests use. It prints the
# BUILDKIT_HOST to export and runs until Ctrl-C, then removes its state.
# Arguments go to internal/bktest/bkdev, e.g.
#   scripts/buildkitd-dev.sh -env-file /tmp/bk.env -rootfs python:3.11=/tmp/fat-rootfs.tar
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/e2e-setup.sh
bin=$(mktemp -d)/bkdev
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./internal/bktest/bkdev
"$bin" "$@"

# harden's developer entry points. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...
DEMO := testdata/examples/python-flask/Dockerfile

.PHONY: all build install test lint demo bench fuzz-short e2e dev-buildkit clean
.PHONY: release-snapshot release-check release image

all: lint test build

# harden and harden-build, its BuildKit companion for report and fix --build,
# go side by side: harden looks for harden-build beside itself first.
# CGO_ENABLED=0: harden needs no C, and a static binary starts without the
# dynamic loader, about 50 page faults less per process.
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/harden ./cmd/harden-build

install:
	CGO_ENABLED=0 $(GO) install ./cmd/harden ./cmd/harden-build

# Unit, golden, property and CLI tests, plus the BuildKit end-to-end tests,
# which skip themselves (with the reason) when not root or runc is missing
# (HARDEN_E2E=1 makes those skips failures, as in CI). The timeout covers a
# first run that compiles buildkitd.
test:
	$(GO) test -timeout 30m $(PKGS)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

# Show what harden does to the seed's naive Python Dockerfile.
demo:
	$(GO) run ./cmd/harden fix --diff $(DEMO)

# harden report on realistic images: Debian-based python:3.11 and -slim
# stand-ins made with debootstrap (cached), as root.
.PHONY: demo-report
demo-report:
	./scripts/demo-report.sh

# In-process fix against a parse-only pass, and whole harden processes
# (start-up included) on the bundled example.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./transform ./dockerfile
	$(GO) test -run '^$$' -bench Process ./cmd

fuzz-short:
	$(GO) test -run '^$$' -fuzz FuzzFix -fuzztime 60s ./transform

# Everything, with the BuildKit end-to-end tests required to run:
# scripts/e2e-setup.sh installs runc and busybox and builds buildkitd first.
e2e:
	./scripts/e2e-setup.sh
	HARDEN_E2E=1 $(GO) test -count=1 -timeout 30m $(PKGS)

# A standalone buildkitd and loopback registry for trying harden report by
# hand; it prints the BUILDKIT_HOST to export.
dev-buildkit:
	./scripts/buildkitd-dev.sh

# Releases. GoReleaser and syft run as Go tools from modules of their own,
# so that their dependencies never change the versions harden links (see
# .goreleaser.yaml). The first run compiles GoReleaser, a few minutes.
GORELEASER := $(GO) tool -modfile=internal/tools/goreleaser/go.mod goreleaser
SYFT := $(GO) tool -modfile=internal/tools/syft/go.mod syft
IMAGE ?= ghcr.io/harden-dev/harden
PLATFORMS ?= linux/amd64,linux/arm64

# Archives, checksums, SBOMs, deb and rpm packages and the Homebrew cask for
# every platform, into dist/, with a snapshot version; nothing is published.
# syft is compiled first, outside GoReleaser's time limit; a first run on a
# busy 2-core machine can still take most of an hour, hence --timeout.
release-snapshot:
	$(SYFT) version >/dev/null
	$(GORELEASER) release --snapshot --clean --timeout 2h

# Validate .goreleaser.yaml without building or publishing (CI runs it).
release-check:
	$(GORELEASER) check

# For maintainers, on a vX.Y.Z tag, with GITHUB_TOKEN and
# HOMEBREW_TAP_GITHUB_TOKEN set and docker logged in to the registry of
# IMAGE: publish the GitHub release and the cask, then push the image for
# PLATFORMS, stamped with the same version.
release:
	@tag=$$(git describe --tags --exact-match) || { echo "release: HEAD has no tag; tag it vX.Y.Z first"; exit 2; }; \
	$(SYFT) version >/dev/null && \
	$(GORELEASER) release --clean --timeout 2h && \
	docker buildx build --platform $(PLATFORMS) --build-arg VERSION=$$tag \
		-t $(IMAGE):$$tag -t $(IMAGE):latest --push .

# harden's own image for this machine's platform, loaded into docker.
image:
	docker build --build-arg VERSION=$$(git describe --tags --always --dirty) -t harden:dev .

clean:
	rm -rf bin dist

# harden's own image: harden and harden-build, static, on distroless as nonroot.
#
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v1.2.3 -t harden .
#   docker run --rm -v "$PWD:/src" -w /src harden fix --diff Dockerfile
#
# The builder runs on the build machine's own platform and cross-compiles for
# each target platform, so a multi-platform build needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
# What `harden version` prints; empty means "devel".
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags="-s -w -X github.com/harden-dev/harden/cmd.version=${VERSION}" \
      -o /out/ ./cmd/harden ./cmd/harden-build

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/harden /out/harden-build /usr/local/bin/
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/harden"]
CMD ["--help"]

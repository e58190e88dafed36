package detect

import (
	"fmt"
	"testing"
)

// imageWant is the part of ImageFacts a case pins. user is "name:uid",
// "uid" for a bare uid, or "" for none; nonroot is whether the image runs
// as that user by default.
type imageWant struct {
	distro, release, variant string
	slim                     bool
	shell                    Tri
	pm                       string
	user                     string
	nonroot                  bool
	runtime, version         string
	toolchain                Tri
	port                     int
	known                    bool
}

func TestImage(t *testing.T) {
	cases := map[string]imageWant{
		"python:3.12":                                        {distro: "debian", variant: "full", shell: TriYes, pm: "apt", runtime: "python", version: "3.12", known: true},
		"python":                                             {distro: "debian", variant: "full", shell: TriYes, pm: "apt", runtime: "python", known: true},
		"python:3.12-slim":                                   {distro: "debian", variant: "slim", slim: true, shell: TriYes, pm: "apt", runtime: "python", version: "3.12", known: true},
		"python:3.12.4-slim-bookworm":                        {distro: "debian", release: "12", variant: "slim", slim: true, shell: TriYes, pm: "apt", runtime: "python", version: "3.12.4", known: true},
		"python:3.12-alpine3.19":                             {distro: "alpine", release: "3.19", variant: "alpine", slim: true, shell: TriYes, pm: "apk", runtime: "python", version: "3.12", known: true},
		"python:3.12-windowsservercore-ltsc2022":             {distro: "windows", shell: TriNo, pm: "none", runtime: "python", version: "3.12", known: true},
		"node:20-alpine":                                     {distro: "alpine", variant: "alpine", slim: true, shell: TriYes, pm: "apk", user: "node:1000", runtime: "node", version: "20", known: true},
		"node:lts-bookworm-slim":                             {distro: "debian", release: "12", variant: "slim", slim: true, shell: TriYes, pm: "apt", user: "node:1000", runtime: "node", known: true},
		"node:${NODE_VERSION}-alpine":                        {distro: "alpine", variant: "alpine", slim: true, shell: TriYes, pm: "apk", user: "node:1000", runtime: "node", known: true},
		"golang:1.22-bookworm":                               {distro: "debian", release: "12", variant: "full", shell: TriYes, pm: "apt", runtime: "go", version: "1.22", toolchain: TriYes, known: true},
		"eclipse-temurin:21-jdk-jammy":                       {distro: "ubuntu", release: "22.04", variant: "full", shell: TriYes, pm: "apt", runtime: "java", version: "21", toolchain: TriYes, known: true},
		"eclipse-temurin:21-jre":                             {distro: "ubuntu", variant: "full", shell: TriYes, pm: "apt", runtime: "java", version: "21", toolchain: TriNo, known: true},
		"eclipse-temurin:21-jre-noble":                       {distro: "ubuntu", release: "24.04", variant: "full", shell: TriYes, pm: "apt", user: "ubuntu:1000", runtime: "java", version: "21", toolchain: TriNo, known: true},
		"maven:3.9-eclipse-temurin-21":                       {distro: "ubuntu", variant: "full", shell: TriYes, pm: "apt", runtime: "java", version: "21", toolchain: TriYes, known: true},
		"gradle:8.5-jdk21-alpine":                            {distro: "alpine", variant: "alpine", slim: true, shell: TriYes, pm: "apk", user: "gradle:1000", runtime: "java", version: "21", toolchain: TriYes, known: true},
		"openjdk:17-jdk-slim":                                {distro: "debian", variant: "slim", slim: true, shell: TriYes, pm: "apt", runtime: "java", version: "17", toolchain: TriYes, known: true},
		"openjdk:17":                                         {distro: "unknown", pm: "unknown", runtime: "java", version: "17", toolchain: TriYes, known: true},
		"amazoncorretto:21":                                  {distro: "amazonlinux", variant: "full", shell: TriYes, pm: "yum", runtime: "java", version: "21", toolchain: TriYes, known: true},
		"gcr.io/distroless/static-debian12:nonroot":          {distro: "distroless", release: "12", variant: "distroless", slim: true, shell: TriNo, pm: "none", user: "nonroot:65532", nonroot: true, toolchain: TriNo, known: true},
		"gcr.io/distroless/python3-debian12":                 {distro: "distroless", release: "12", variant: "distroless", slim: true, shell: TriNo, pm: "none", user: "nonroot:65532", runtime: "python", version: "3", toolchain: TriNo, known: true},
		"gcr.io/distroless/java21-debian12:debug-nonroot":    {distro: "distroless", release: "12", variant: "distroless", slim: true, shell: TriYes, pm: "none", user: "nonroot:65532", nonroot: true, runtime: "java", version: "21", toolchain: TriNo, known: true},
		"gcr.io/distroless/nodejs20-debian12:latest":         {distro: "distroless", release: "12", variant: "distroless", slim: true, shell: TriNo, pm: "none", user: "nonroot:65532", runtime: "node", version: "20", toolchain: TriNo, known: true},
		"registry.access.redhat.com/ubi9":                    {distro: "ubi", variant: "full", shell: TriYes, pm: "dnf", known: true},
		"registry.access.redhat.com/ubi9/ubi-minimal:9.3":    {distro: "ubi-minimal", release: "9.3", variant: "minimal", slim: true, shell: TriYes, pm: "microdnf", known: true},
		"registry.access.redhat.com/ubi9/python-311":         {distro: "ubi", release: "9", variant: "full", shell: TriYes, pm: "dnf", user: "default:1001", nonroot: true, runtime: "python", version: "3.11", known: true},
		"mcr.microsoft.com/windows/servercore:ltsc2022":      {distro: "windows", shell: TriNo, pm: "none", known: true},
		"nginxinc/nginx-unprivileged:1.25-alpine":            {distro: "alpine", variant: "alpine", slim: true, shell: TriYes, pm: "apk", user: "nginx:101", nonroot: true, runtime: "nginx", version: "1.25", port: 8080, known: true},
		"nginx:1.25":                                         {distro: "debian", variant: "full", shell: TriYes, pm: "apt", user: "nginx:101", runtime: "nginx", version: "1.25", port: 80, known: true},
		"bitnami/node:20":                                    {distro: "debian", variant: "full", shell: TriYes, pm: "apt", user: "1001", nonroot: true, runtime: "node", version: "20", known: true},
		"cgr.dev/chainguard/python:latest":                   {distro: "wolfi", variant: "distroless", slim: true, shell: TriNo, pm: "none", user: "nonroot:65532", nonroot: true, runtime: "python", known: true},
		"cgr.dev/chainguard/python:latest-dev":               {distro: "wolfi", variant: "minimal", slim: true, shell: TriYes, pm: "apk", user: "nonroot:65532", nonroot: true, runtime: "python", known: true},
		"mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled": {distro: "distroless", release: "22.04", variant: "chiseled", slim: true, shell: TriNo, pm: "none", user: "app:1654", nonroot: true, runtime: "dotnet", version: "8.0", toolchain: TriNo, port: 8080, known: true},
		"mcr.microsoft.com/dotnet/aspnet:6.0":                {distro: "debian", variant: "slim", slim: true, shell: TriYes, pm: "apt", runtime: "dotnet", version: "6.0", toolchain: TriNo, port: 80, known: true},
		"mcr.microsoft.com/dotnet/sdk:8.0-alpine":            {distro: "alpine", variant: "alpine", slim: true, shell: TriYes, pm: "apk", user: "app:1654", runtime: "dotnet", version: "8.0", toolchain: TriYes, known: true},
		"php:8.3-fpm-alpine":                                 {distro: "alpine", variant: "alpine", slim: true, shell: TriYes, pm: "apk", user: "www-data:82", runtime: "php", version: "8.3", port: 9000, known: true},
		"php:8.2-apache":                                     {distro: "debian", variant: "full", shell: TriYes, pm: "apt", user: "www-data:33", runtime: "php", version: "8.2", port: 80, known: true},
		"oven/bun:1":                                         {distro: "debian", variant: "slim", slim: true, shell: TriYes, pm: "apt", user: "bun:1000", runtime: "bun", version: "1", known: true},
		"scratch":                                            {distro: "scratch", variant: "scratch", slim: true, shell: TriNo, pm: "none", toolchain: TriNo, known: true},
		"alpine:3.19":                                        {distro: "alpine", release: "3.19", variant: "minimal", slim: true, shell: TriYes, pm: "apk", known: true},
		"debian:bookworm-slim":                               {distro: "debian", release: "12", variant: "slim", slim: true, shell: TriYes, pm: "apt", known: true},
		"ubuntu:24.04":                                       {distro: "ubuntu", release: "24.04", variant: "full", shell: TriYes, pm: "apt", user: "ubuntu:1000", known: true},
		"ubuntu:22.04":                                       {distro: "ubuntu", release: "22.04", variant: "full", shell: TriYes, pm: "apt", known: true},
		"public.ecr.aws/docker/library/node:20":              {distro: "debian", variant: "full", shell: TriYes, pm: "apt", user: "node:1000", runtime: "node", version: "20", known: true},
		"registry.corp.example/hub/library/python:3.12-slim": {distro: "debian", variant: "slim", slim: true, shell: TriYes, pm: "apt", runtime: "python", version: "3.12", known: true},
		"docker.io/library/python:3.11@sha256:0000000000000000000000000000000000000000000000000000000000000000": {distro: "debian", variant: "full", shell: TriYes, pm: "apt", runtime: "python", version: "3.11", known: true},
		// Unknown images are answered with "unknown", never guessed.
		"localhost:5000/python:3.12": {distro: "unknown", pm: "unknown"},
		"mycorp/app:1.0":             {distro: "unknown", pm: "unknown"},
		"${BASE_IMAGE}":              {distro: "unknown", pm: "unknown"},
		"NOT a reference!":           {distro: "unknown", pm: "unknown"},
		"":                           {distro: "unknown", pm: "unknown"},
	}
	for ref, want := range cases {
		t.Run(ref, func(t *testing.T) {
			f := Image(ref)
			got := imageWant{
				distro: f.Distro, release: f.DistroRelease, variant: f.Variant, slim: f.Slim, shell: f.Shell,
				pm: f.PackageManager, nonroot: f.NonRootDefault, runtime: f.Runtime, version: f.RuntimeVersion,
				toolchain: f.Toolchain, port: f.Port, known: f.Known,
			}
			if f.User != nil {
				got.user = fmt.Sprint(f.User.UID)
				if f.User.Name != "" {
					got.user = f.User.Name + ":" + got.user
				}
			}
			if got != want {
				t.Errorf("Image(%q)\n got %+v\nwant %+v", ref, got, want)
			}
		})
	}
}

func TestImageReferenceParts(t *testing.T) {
	f := Image("docker.io/library/python:3.11@sha256:0000000000000000000000000000000000000000000000000000000000000000")
	is(t, "registry", f.Registry, "docker.io")
	is(t, "repository", f.Repository, "python")
	is(t, "tag", f.Tag, "3.11")
	is(t, "digest", f.Digest, "sha256:0000000000000000000000000000000000000000000000000000000000000000")
	v := Image("node:${NODE_VERSION}-alpine")
	is(t, "variable", v.Variable, true)
	is(t, "version of a variable tag", v.RuntimeVersion, "")
}

package baseimage

import "testing"

func TestRuntime(t *testing.T) {
	tests := []struct {
		kind    Kind
		from    string
		version string
		want    string
		wantOK  bool
	}{
		{Slim, "python:3.11", "", "python:3.11-slim", true},
		{Slim, "python:3.11.9-bookworm", "", "python:3.11.9-slim-bookworm", true},
		{Slim, "python:3.12-slim", "", "python:3.12-slim", true},
		{Slim, "python:3.12-alpine3.20", "", "python:3.12-alpine3.20", true},
		{Slim, "docker.io/library/python:3.10", "", "docker.io/library/python:3.10-slim", true},
		{Slim, "python", "", "", false},
		{Slim, "python:latest", "3.12", "python:3.12-slim", true},
		{Slim, "python:bookworm", "", "python:slim-bookworm", true},
		{Slim, "python:3.12-windowsservercore", "", "", false},
		{Slim, "node:20", "", "node:20-slim", true},
		{Slim, "node:20-bookworm", "", "node:20-bookworm-slim", true},
		{Slim, "node:lts", "", "node:lts-slim", true},
		{Slim, "node:20-alpine", "", "node:20-alpine", true},
		{Slim, "ruby:3.3", "", "ruby:3.3-slim", true},
		{Slim, "debian:bookworm", "", "debian:bookworm-slim", true},
		{Slim, "ubuntu:24.04", "", "", false},
		{Slim, "python@sha256:abc", "", "", false},
		{Slim, "python:3.14-slim@sha256:abc", "", "python:3.14-slim@sha256:abc", true},
		{Slim, "python:3.12-alpine3.20@sha256:abc", "", "python:3.12-alpine3.20@sha256:abc", true},
		{Slim, "python:3.12@sha256:abc", "", "python:3.12-slim", true},
		{JRE, "eclipse-temurin:21-jre@sha256:abc", "", "eclipse-temurin:21-jre@sha256:abc", true},
		{JRE, "eclipse-temurin:21-jdk@sha256:abc", "", "eclipse-temurin:21-jre", true},
		{Static, "golang:1.22@sha256:abc", "", "gcr.io/distroless/static-debian12:nonroot", true},
		{Unprivileged, "nginxinc/nginx-unprivileged:1.27@sha256:abc", "", "nginxinc/nginx-unprivileged:1.27@sha256:abc", true},
		{Unprivileged, "nginx:1.27@sha256:abc", "", "nginxinc/nginx-unprivileged:1.27", true},
		{JRE, "eclipse-temurin:21-jdk", "", "eclipse-temurin:21-jre", true},
		{JRE, "eclipse-temurin:21-jdk-jammy", "", "eclipse-temurin:21-jre-jammy", true},
		{JRE, "eclipse-temurin:17-jdk-alpine", "", "eclipse-temurin:17-jre-alpine", true},
		{JRE, "maven:3.9-eclipse-temurin-21", "", "eclipse-temurin:21-jre", true},
		{JRE, "maven:3.9", "17", "eclipse-temurin:17-jre", true},
		{JRE, "gradle:8.7-jdk21", "", "eclipse-temurin:21-jre", true},
		{JRE, "openjdk:17-jdk-slim", "", "eclipse-temurin:17-jre", true},
		{JRE, "openjdk", "", "", false},
		{Static, "golang:1.22", "", "gcr.io/distroless/static-debian12:nonroot", true},
		{Libc, "rust:1.79", "", "gcr.io/distroless/cc-debian12:nonroot", true},
		{ASPNet, "mcr.microsoft.com/dotnet/sdk:8.0", "", "mcr.microsoft.com/dotnet/aspnet:8.0", true},
		{DotNetRuntime, "mcr.microsoft.com/dotnet/sdk:8.0-alpine", "", "mcr.microsoft.com/dotnet/runtime:8.0-alpine", true},
		{Unprivileged, "nginx:1.27-alpine", "", "nginxinc/nginx-unprivileged:1.27-alpine", true},
		{Unprivileged, "nginx:alpine", "", "nginxinc/nginx-unprivileged:alpine", true},
		{Unprivileged, "nginx", "", "", false},
	}
	for _, tt := range tests {
		got, ok, why := Mapping{}.Runtime(tt.kind, tt.from, tt.version)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Runtime(%s, %q, %q) = %q, %v (%s); want %q, %v", tt.kind, tt.from, tt.version, got, ok, why, tt.want, tt.wantOK)
		}
		if !ok && why == "" {
			t.Errorf("Runtime(%s, %q) refused without a reason", tt.kind, tt.from)
		}
	}
}

func TestOverrides(t *testing.T) {
	m := Mapping{Overrides: map[string]string{
		"python:3.12": "registry.corp/python:3.12-hardened",
		"node":        "registry.corp/node",
	}}
	if got, ok, _ := m.Runtime(Slim, "python:3.12", ""); got != "registry.corp/python:3.12-hardened" || !ok {
		t.Errorf("exact override: %q %v", got, ok)
	}
	if got, ok, _ := m.Runtime(Slim, "node:20", ""); got != "registry.corp/node:20-slim" || !ok {
		t.Errorf("repository override: %q %v", got, ok)
	}
	if got, _, _ := m.Runtime(Slim, "python:3.11", ""); got != "python:3.11-slim" {
		t.Errorf("no override: %q", got)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Ref{
		"localhost:5000/app:1.0":   {Name: "localhost:5000/app", Tag: "1.0"},
		"localhost:5000/app":       {Name: "localhost:5000/app"},
		"python:3.12@sha256:abc":   {Name: "python", Tag: "3.12", Digest: "sha256:abc"},
		"gcr.io/distroless/static": {Name: "gcr.io/distroless/static"},
	} {
		if got := Parse(in); got != want || got.String() != in {
			t.Errorf("Parse(%q) = %+v (%s)", in, got, got.String())
		}
	}
}

func TestNormalized(t *testing.T) {
	tests := []struct {
		in, registry, familiar string
		ok                     bool
	}{
		{"python:3.12", "docker.io", "python", true},
		{"docker.io/library/python", "docker.io", "python", true},
		{"index.docker.io/bitnami/redis:7.2", "docker.io", "bitnami/redis", true},
		{"gcr.io/distroless/static-debian12:nonroot", "gcr.io", "gcr.io/distroless/static-debian12", true},
		{"localhost:5000/app@sha256:abc123", "localhost:5000", "localhost:5000/app", true},
		{"localhost/app", "localhost", "localhost/app", true},
		{"Python:3", "", "", false},
		{"python:bad tag", "", "", false},
		{"python@notadigest", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		reg, fam, ok := Parse(tt.in).Normalized()
		if reg != tt.registry || fam != tt.familiar || ok != tt.ok {
			t.Errorf("Normalized(%q) = %q, %q, %v; want %q, %q, %v", tt.in, reg, fam, ok, tt.registry, tt.familiar, tt.ok)
		}
	}
}

func TestBuildpackDepsMapsToTheSlimDistroImage(t *testing.T) {
	for from, want := range map[string]string{
		"buildpack-deps:bookworm":                   "debian:bookworm-slim",
		"buildpack-deps:trixie-scm":                 "debian:trixie-slim",
		"buildpack-deps:bookworm-curl":              "debian:bookworm-slim",
		"buildpack-deps:jammy":                      "ubuntu:jammy",
		"docker.io/library/buildpack-deps:bookworm": "docker.io/library/debian:bookworm-slim",
	} {
		got, ok, why := Mapping{}.Runtime(Slim, from, "")
		if !ok || got != want {
			t.Errorf("Runtime(Slim, %s) = %q, %v (%s); want %s", from, got, ok, why, want)
		}
	}
	if _, ok, why := (Mapping{}).Runtime(Slim, "buildpack-deps:latest", ""); ok || why == "" {
		t.Errorf("buildpack-deps:latest has no release to keep, yet it mapped (%s)", why)
	}
}

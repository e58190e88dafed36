package toolversions

import "testing"

func TestLookup(t *testing.T) {
	cases := []struct {
		ref      string
		tool     Tool
		at       string
		want     Answer
		version  string
		notFound bool
	}{
		// A partial tag is the newest release it prefixes.
		{ref: "node:14", tool: Npm, at: "7", want: No, version: "6.14.4 to 6.14.18"},
		{ref: "node:14-alpine", tool: Npm, at: "5.7", want: Yes},
		{ref: "node:8", tool: Npm, at: "5.7", want: Yes, version: "6.4.1 to 6.13.4"},
		{ref: "node:8.9", tool: Npm, at: "5.7", want: No},
		{ref: "node:8.9.4-slim", tool: Npm, at: "5.7", want: No},
		{ref: "node:10.2", tool: Npm, at: "5.7", want: No},
		{ref: "node:10", tool: Npm, at: "6", want: Yes},
		{ref: "node:16", tool: Npm, at: "8", want: Yes},
		{ref: "node:16.3", tool: Npm, at: "8", want: No},
		{ref: "node:16.3", tool: Npm, at: "7", want: Yes},
		{ref: "node:20-bookworm-slim", tool: Npm, at: "7", want: Yes, version: "10.1.0 or newer"},
		{ref: "node:24", tool: Npm, at: "11", want: Yes},
		{ref: "node:lts-alpine", tool: Npm, at: "7", want: Yes},
		{ref: "node", tool: Npm, at: "7", want: Yes},
		{ref: "docker.io/library/node:12", tool: Npm, at: "7", want: No},
		{ref: "node:22", tool: Yarn, at: "2", want: No, version: "1"},
		{ref: "node:26", tool: Yarn, at: "1", want: No, version: "none"},
		{ref: "node:latest", tool: Yarn, notFound: true},
		{ref: "node:3", tool: Npm, notFound: true},
		// python images pin pip from 2015 on.
		{ref: "python:3.12-slim", tool: Pip, at: "6", want: Yes},
		{ref: "python:2.7", tool: Pip, at: "6", want: Yes},
		{ref: "python:2.7.9", tool: Pip, notFound: true},
		{ref: "python:3.4.2", tool: Pip, notFound: true},
		{ref: "python:3.4", tool: Pip, at: "6", want: Yes},
		{ref: "python", tool: Pip, at: "6", want: Yes},
		// ruby images ship the Ruby release's bundler.
		{ref: "ruby:3.3-slim", tool: Bundler, at: "2.1", want: Yes, version: "2.5"},
		{ref: "ruby:4.0", tool: Bundler, at: "4", want: Yes},
		{ref: "ruby:2.6.10", tool: Bundler, at: "2", want: No},
		{ref: "ruby:2.5", tool: Bundler, notFound: true},
		// Distro images: the release's packages.
		{ref: "ubuntu:14.04", tool: Pip, at: "6", want: No, version: "1.5.4"},
		{ref: "ubuntu:trusty", tool: Pip, at: "6", want: No},
		{ref: "ubuntu:16.04", tool: Pip, at: "6", want: Yes},
		{ref: "ubuntu:20.04", tool: Npm, at: "7", want: No},
		{ref: "ubuntu:latest", tool: Pip, notFound: true},
		{ref: "debian:jessie-slim", tool: Pip, at: "6", want: No},
		{ref: "debian:12.5", tool: Npm, at: "7", want: Yes},
		{ref: "debian:bookworm", tool: Node, version: "18.20.4", at: "18", want: Yes},
		// Unknown images and ARGs stay unknown.
		{ref: "mycorp/node:14", tool: Npm, notFound: true},
		{ref: "node:${NODE}", tool: Npm, notFound: true},
		{ref: "alpine:3.19", tool: Npm, notFound: true},
	}
	for _, c := range cases {
		f, ok := Of(c.ref, c.tool)
		if c.notFound {
			if ok {
				t.Errorf("%s %s: got %+v, want unknown", c.ref, c.tool, f)
			}
			continue
		}
		if !ok {
			t.Errorf("%s %s: unknown", c.ref, c.tool)
			continue
		}
		if f.Source == "" {
			t.Errorf("%s %s: no source", c.ref, c.tool)
		}
		if got := f.AtLeast(c.at); got != c.want {
			t.Errorf("%s %s >= %s: %s (fact %+v), want %s", c.ref, c.tool, c.at, got, f, c.want)
		}
		if c.version != "" && f.Version() != c.version {
			t.Errorf("%s %s: version %q, want %q", c.ref, c.tool, f.Version(), c.version)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		upper bool
		want  int
	}{
		{"6.14", "6.14.18", false, -1},
		{"6.14", "6.14.18", true, 1},
		{"10", "9.8", false, 1},
		{"5.6.0", "5.7", false, -1},
		{"2.1", "2.1", true, 0},
	} {
		if got := compare(c.a, c.b, c.upper); got != c.want {
			t.Errorf("compare(%s, %s, %v) = %d, want %d", c.a, c.b, c.upper, got, c.want)
		}
	}
}

// Every row names its source and has a lower bound no higher than its upper.
func TestTableRows(t *testing.T) {
	for repo, fam := range runtimeFamilies() {
		for _, r := range fam.rows {
			if r.source == "" {
				t.Errorf("%s %s %s: no source", repo, r.tool, r.from)
			}
			if !r.absent && r.max != "" && compare(r.min, r.max, true) > 0 {
				t.Errorf("%s %s %s: min %s above max %s", repo, r.tool, r.from, r.min, r.max)
			}
			if r.to != "" && compare(r.from, r.to, false) >= 0 {
				t.Errorf("%s %s: empty range %s to %s", repo, r.tool, r.from, r.to)
			}
		}
	}
	for repo, rows := range distroFamilies() {
		for _, r := range rows {
			if r.source == "" || r.version == "" || r.distro != repo {
				t.Errorf("%s %s %s: incomplete row %+v", repo, r.release, r.tool, r)
			}
		}
	}
}

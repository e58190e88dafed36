package transform

import (
	"testing"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/toolversions"
)

// toolAt follows earlier steps that install the tool: a pinned version is
// known, an unpinned upgrade makes it unknown.
func TestToolAt(t *testing.T) {
	cases := []struct {
		src     string
		tool    toolversions.Tool
		known   bool
		atLeast string
		want    toolversions.Answer
	}{
		{"FROM ubuntu:14.04\nRUN pip install flask\n", toolversions.Pip, true, "6", toolversions.No},
		{"FROM ubuntu:14.04\nRUN python -m pip install -U pip && pip install flask\n", toolversions.Pip, false, "", 0},
		{"FROM ubuntu:14.04\nRUN pip install pip==9.0.3\nRUN pip install flask\n", toolversions.Pip, true, "6", toolversions.Yes},
		{"FROM ubuntu:14.04\nRUN curl -O https://bootstrap.pypa.io/get-pip.py && python get-pip.py\nRUN pip install flask\n", toolversions.Pip, false, "", 0},
		{"FROM node:14\nRUN npm i -g npm@8.19.4\nRUN npm ci\n", toolversions.Npm, true, "7", toolversions.Yes},
		{"FROM node:14\nRUN npm install --global npm\nRUN npm ci\n", toolversions.Npm, false, "", 0},
		{"FROM node:14 AS base\nFROM base\nRUN npm ci\n", toolversions.Npm, true, "7", toolversions.No},
		{"FROM node:26\nRUN corepack enable\nRUN yarn install\n", toolversions.Yarn, false, "", 0},
		{"FROM ruby:3.3\nRUN gem install bundler -v 2.4.22\nRUN bundle install\n", toolversions.Bundler, true, "2.5", toolversions.No},
		{"FROM ruby:3.3\nRUN gem update --system\nRUN bundle install\n", toolversions.Bundler, false, "", 0},
		{"FROM mycorp/node:14\nRUN npm ci\n", toolversions.Npm, false, "", 0},
	}
	for _, c := range cases {
		f, err := dockerfile.Parse("Dockerfile", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		last := f.Instructions[len(f.Instructions)-1]
		s, err := last.Script()
		if err != nil {
			t.Fatal(err)
		}
		cmd := s.Commands[len(s.Commands)-1]
		fact, ok := toolAt(f, cmd, c.tool)
		if ok != c.known {
			t.Errorf("%q: known %v (%+v), want %v", c.src, ok, fact, c.known)
			continue
		}
		if ok && fact.AtLeast(c.atLeast) != c.want {
			t.Errorf("%q: %s >= %s is %s, want %s (%+v)", c.src, c.tool, c.atLeast, fact.AtLeast(c.atLeast), c.want, fact)
		}
	}
}

func TestRequirementName(t *testing.T) {
	for in, want := range map[string]string{
		"psycopg2==2.9.9":             "psycopg2",
		"Pillow[avif]>=10":            "pillow",
		"uWSGI":                       "uwsgi",
		"python_ldap ; os_name!='nt'": "python-ldap",
		"lxml @ https://x/lxml.tgz":   "lxml",
	} {
		if got := requirementName(in); got != want {
			t.Errorf("requirementName(%q) = %q, want %q", in, got, want)
		}
	}
}

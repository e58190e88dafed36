package transform

import (
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// HardcodedSecret flags credentials written into the Dockerfile, found by
// their shape: provider token formats, private keys and passwords in URLs or
// on command lines.
var HardcodedSecret = &Rule{
	ID:               "HD402",
	Name:             "hardcoded-secret",
	Title:            "credential written into the Dockerfile",
	Severity:         Error,
	SecuritySeverity: 9.0,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "A token, key or password written into a Dockerfile is in the repository, in every " +
			"build log, and in the image: RUN command lines are recorded in the image history, " +
			"and files written by a layer stay in it even when a later layer deletes them. " +
			"Treat a credential found here as leaked and revoke it. Then pass its replacement " +
			"to the one step that needs it with `RUN --mount=type=secret`, which exposes it as " +
			"a file for that step only and leaves no trace in any layer. harden never prints " +
			"the value it found, only what kind of credential it looks like.",
		Bad: "FROM python:3.12-slim\n" +
			"RUN pip install --index-url https://deploy:s3cr3t-pw@pypi.example.com/simple app\n",
		Good: "# syntax=docker/dockerfile:1\nFROM python:3.12-slim\n" +
			"RUN --mount=type=secret,id=pip_index,env=PIP_INDEX_URL pip install app\n",
	},
	Check: checkHardcodedSecret,
}

// secretShapes are credential formats that are unambiguous on their own.
// markers are literal strings that every match contains: text holding none
// of them cannot match, so the ordinary Dockerfile is checked with a few
// substring searches and the patterns are compiled only when one is needed.
var secretShapes = []struct {
	kind    string
	markers []string
	re      func() *regexp.Regexp
}{
	{"a private key", []string{"PRIVATE KEY-----"}, lazyre.New(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----`)},
	{"an AWS access key", []string{"AKIA", "ASIA"}, lazyre.New(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, lazyre.New(`\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}`)},
	{"a GitLab token", []string{"glpat-"}, lazyre.New(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"a Slack token", []string{"xox"}, lazyre.New(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"a Stripe live key", []string{"k_live_"}, lazyre.New(`\b[rs]k_live_[0-9A-Za-z]{20,}`)},
	{"a Google API key", []string{"AIza"}, lazyre.New(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"an npm token", []string{"npm_"}, lazyre.New(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"a PyPI token", []string{"pypi-"}, lazyre.New(`\bpypi-[A-Za-z0-9_-]{50,}`)},
}

// urlPassword finds scheme://user:password@ in text; the password group
// decides whether it is written out or comes from a variable.
var urlPassword = lazyre.New(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'"]+:([^/\s@'"]+)@`)

func containsAny(text string, markers []string) bool {
	for _, m := range markers {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

// passwordFlags take a credential as their value.
var passwordFlags = []string{"--password", "--passwd", "--token", "--api-key", "--apikey", "--auth-token"}

func checkHardcodedSecret(p *Pass) {
	for _, ins := range p.File.Instructions {
		switch cmd := ins.Command.(type) {
		case *instructions.RunCommand:
			if s, err := ins.Script(); err == nil {
				for _, c := range s.Commands {
					if kind := commandSecret(c); kind != "" {
						p.ReportAt(c, secretMessage(kind), nil)
					}
				}
				continue
			}
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				if kind := secretIn(kv.Value); kind != "" && !secretName(kv.Key) { // secret-in-env reports named ones
					p.Report(ins, secretMessage(kind), nil)
				}
			}
			continue
		case *instructions.ArgCommand:
			for _, kv := range cmd.Args {
				if kv.Value == nil || secretName(kv.Key) {
					continue
				}
				if kind := secretIn(*kv.Value); kind != "" {
					p.Report(ins, secretMessage(kind), nil)
				}
			}
			continue
		}
		if kind := secretIn(ins.Text()); kind != "" {
			p.Report(ins, secretMessage(kind), nil)
		}
	}
}

func secretMessage(kind string) string {
	return kind + " is written into the Dockerfile, so it is in the repository, the build log and the image history; " +
		"revoke it and pass the new one with RUN --mount=type=secret"
}

// secretIn names the kind of credential text holds, or returns "".
func secretIn(text string) string {
	for _, s := range secretShapes {
		if containsAny(text, s.markers) && s.re().MatchString(text) {
			return s.kind
		}
	}
	if !strings.Contains(text, "://") || !strings.Contains(text, "@") {
		return ""
	}
	for _, m := range urlPassword().FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(m[1], "$") && !strings.HasPrefix(m[1], "%24") {
			return "a password in a URL"
		}
	}
	return ""
}

// commandSecret looks at one shell command: its text for credential shapes,
// and its options for passwords given on the command line.
func commandSecret(c *dockerfile.Command) string {
	if kind := secretIn(c.Text()); kind != "" {
		return kind
	}
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			continue
		}
		for _, fl := range passwordFlags {
			if v, ok := strings.CutPrefix(a, fl+"="); ok && literalSecret(v) {
				return "a password on the command line (" + fl + ")"
			}
			if a == fl {
				if v, lit := c.Arg(i + 1); lit && literalSecret(v) {
					return "a password on the command line (" + fl + ")"
				}
			}
		}
		if c.Name() == "curl" && (a == "-u" || a == "--user") {
			if v, lit := c.Arg(i + 1); lit {
				if _, pw, ok := strings.Cut(v, ":"); ok && literalSecret(pw) {
					return "a password on the command line (" + a + ")"
				}
			}
		}
	}
	return ""
}

// literalSecret reports whether a value is written out rather than read
// from a variable, a file or standard input.
func literalSecret(v string) bool {
	return v != "" && v != "-" && !strings.HasPrefix(v, "@") && !strings.HasPrefix(v, "$")
}

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
			"a file for that step only and leaves no trace in any layer. A password in a URL " +
			"for localhost (DATABASE_URL=postgres://postgres:postgres@localhost/app, which " +
			"`rails assets:precompile` or `prisma generate` need set but never use) opens " +
			"nothing outside the build, so it is only a note: nothing to revoke unless the same " +
			"password is used elsewhere. harden never prints the value it found, only what kind " +
			"of credential it looks like.",
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

// urlPassword finds scheme://user:password@host in text; the password group
// decides whether it is written out or comes from a variable, the host
// group whether the credential can open anything outside the build.
var urlPassword = lazyre.New(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'"]+:([^/\s@'"]+)@(\[[0-9A-Fa-f:.]*\]|[^/\s:?#'"@]*)`)

// credential is what harden found: its kind for messages, and whether it
// only opens a server on the build machine itself (a placeholder such as
// DATABASE_URL=postgres://postgres:postgres@localhost/app, which
// `rails assets:precompile` or `prisma generate` need set but never use).
type credential struct {
	kind  string
	local bool
}

// localHost reports whether a URL's host is the machine the step runs on:
// loopback names and addresses, or none (a Unix socket).
func localHost(host string) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	switch {
	case host == "", host == "localhost", strings.HasSuffix(host, ".localhost"), host == "::1", host == "0.0.0.0":
		return true
	}
	if rest, ok := strings.CutPrefix(host, "127."); ok {
		for _, part := range strings.Split(rest, ".") {
			if part == "" || strings.Trim(part, "0123456789") != "" {
				return false
			}
		}
		return strings.Count(rest, ".") == 2
	}
	return false
}

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
					if found := commandSecret(c); found.kind != "" {
						p.ReportAtSeverity(c, found.severity(p.Rule), found.message(false), nil)
					}
				}
				continue
			}
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				if found := secretIn(kv.Value); found.kind != "" && !secretName(kv.Key) { // secret-in-env reports named ones
					p.ReportSeverity(ins, found.severity(p.Rule), found.message(inFinalImage(ins)), nil)
				}
			}
			continue
		case *instructions.ArgCommand:
			for _, kv := range cmd.Args {
				if kv.Value == nil || secretName(kv.Key) {
					continue
				}
				if found := secretIn(*kv.Value); found.kind != "" {
					p.ReportSeverity(ins, found.severity(p.Rule), found.message(false), nil)
				}
			}
			continue
		}
		if found := secretIn(ins.Text()); found.kind != "" {
			p.ReportSeverity(ins, found.severity(p.Rule), found.message(false), nil)
		}
	}
}

// severity is the rule's for a credential that may open something; a
// local placeholder is only worth a note.
func (c credential) severity(r *Rule) Severity {
	if c.local {
		return Info
	}
	return r.Severity
}

// message says what was found and what to do about it; imageEnv is set
// for an ENV that the final image keeps.
func (c credential) message(imageEnv bool) string {
	if !c.local {
		return c.kind + " is written into the Dockerfile, so it is in the repository, the build log and the image history; " +
			"revoke it and pass the new one with RUN --mount=type=secret"
	}
	msg := c.kind + " for localhost is written into the Dockerfile; it looks like a placeholder for a build step " +
		"(no build step reaches a server on localhost unless it starts one), so there is nothing to revoke " +
		"unless the same password is used elsewhere"
	if imageEnv {
		msg += "; ENV also makes it every container's default, so set it on the RUN that needs it instead"
	}
	return msg
}

// inFinalImage reports whether an instruction is in the final stage or a
// stage it is built FROM, whose ENV the image keeps.
func inFinalImage(ins *dockerfile.Instruction) bool {
	f := ins.File()
	for st := f.FinalStage(); st != nil; st = st.Parent() {
		if st.Index == ins.Stage {
			return true
		}
	}
	return false
}

// secretIn names the kind of credential text holds, if any.
func secretIn(text string) credential {
	for _, s := range secretShapes {
		if containsAny(text, s.markers) && s.re().MatchString(text) {
			return credential{kind: s.kind}
		}
	}
	if !strings.Contains(text, "://") || !strings.Contains(text, "@") {
		return credential{}
	}
	found := credential{}
	for _, m := range urlPassword().FindAllStringSubmatch(text, -1) {
		if strings.HasPrefix(m[1], "$") || strings.HasPrefix(m[1], "%24") {
			continue
		}
		if !localHost(m[2]) {
			return credential{kind: "a password in a URL"}
		}
		found = credential{kind: "a password in a URL", local: true}
	}
	return found
}

// commandSecret looks at one shell command: its text for credential shapes,
// and its options for passwords given on the command line.
func commandSecret(c *dockerfile.Command) credential {
	if found := secretIn(c.Text()); found.kind != "" {
		return found
	}
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			continue
		}
		for _, fl := range passwordFlags {
			if v, ok := strings.CutPrefix(a, fl+"="); ok && literalSecret(v) {
				return credential{kind: "a password on the command line (" + fl + ")"}
			}
			if a == fl {
				if v, lit := c.Arg(i + 1); lit && literalSecret(v) {
					return credential{kind: "a password on the command line (" + fl + ")"}
				}
			}
		}
		if c.Name() == "curl" && (a == "-u" || a == "--user") {
			if v, lit := c.Arg(i + 1); lit {
				if _, pw, ok := strings.Cut(v, ":"); ok && literalSecret(pw) {
					return credential{kind: "a password on the command line (" + a + ")"}
				}
			}
		}
	}
	return credential{}
}

// literalSecret reports whether a value is written out rather than read
// from a variable, a file or standard input.
func literalSecret(v string) bool {
	return v != "" && v != "-" && !strings.HasPrefix(v, "@") && !strings.HasPrefix(v, "$")
}

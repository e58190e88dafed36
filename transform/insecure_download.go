package transform

import (
	"net/url"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
)

// InsecureDownload flags downloads that skip TLS: plain http:// URLs and
// options or variables that turn certificate or signature checks off.
var InsecureDownload = &Rule{
	ID:               "HD405",
	Name:             "insecure-download",
	Title:            "download without TLS or with verification turned off",
	Severity:         Error,
	SecuritySeverity: 7.5,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "A build that fetches code or packages over plain HTTP, or with certificate or " +
			"signature checks turned off, accepts whatever a network attacker or a misconfigured " +
			"proxy sends, and bakes it into the image. Use https:// URLs and keep verification " +
			"on; when a corporate proxy re-signs TLS, add its CA certificate to the image " +
			"(COPY it to /usr/local/share/ca-certificates and run update-ca-certificates) " +
			"instead of disabling checks. ENV settings are worse still: they also switch " +
			"verification off for the application at run time.",
		Bad:  "FROM debian:bookworm-slim\nRUN curl -k -o /usr/local/bin/tool https://example.com/tool\n",
		Good: "FROM debian:bookworm-slim\nRUN curl -fsSL -o /usr/local/bin/tool https://example.com/tool\n",
	},
	Check: checkInsecureDownload,
}

// insecureOptions turn verification off, by program.
var insecureOptions = map[string][]string{
	"curl":    {"-k", "--insecure"},
	"wget":    {"--no-check-certificate"},
	"pip":     {"--trusted-host"},
	"apk":     {"--allow-untrusted"},
	"apt-get": {"--allow-unauthenticated", "--allow-insecure-repositories", "--force-yes"},
	"apt":     {"--allow-unauthenticated", "--allow-insecure-repositories"},
}

// insecureEnv are variables that disable TLS verification for a whole
// runtime when set to the given value ("" means any non-empty value).
var insecureEnv = map[string]string{
	"NODE_TLS_REJECT_UNAUTHORIZED": "0",
	"PYTHONHTTPSVERIFY":            "0",
	"GIT_SSL_NO_VERIFY":            "",
	"NPM_CONFIG_STRICT_SSL":        "false",
	"npm_config_strict_ssl":        "false",
	"PIP_TRUSTED_HOST":             "",
}

func checkInsecureDownload(p *Pass) {
	for _, ins := range p.File.Instructions {
		switch cmd := ins.Command.(type) {
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				if want, ok := insecureEnv[kv.Key]; ok && kv.Value != "" && (want == "" || strings.EqualFold(kv.Value, want)) {
					p.Report(ins, "ENV "+kv.Key+"="+kv.Value+" turns TLS verification off for every later step and for the app at run time", nil)
				}
			}
		case *instructions.AddCommand:
			for _, src := range cmd.SourcePaths {
				if plainHTTP(src) {
					p.Report(ins, "ADD downloads "+src+" over plain HTTP, so anyone on the network path can change it; use https and --checksum", nil)
				}
			}
		}
	}
	p.Commands(func(c *dockerfile.Command) {
		if why := insecureCommand(c); why != "" {
			p.ReportAt(c, why, nil)
		}
	})
}

// insecureCommand explains why a shell command downloads insecurely, or
// returns "".
func insecureCommand(c *dockerfile.Command) string {
	name := c.Name()
	if pipName().MatchString(name) {
		name = "pip"
	}
	for _, opt := range insecureOptions[name] {
		if c.HasArg(opt) || name == "curl" && opt == "-k" && c.HasShortFlag('k') {
			return name + " " + opt + " turns certificate or signature verification off, so a network attacker can swap what it installs"
		}
	}
	args := literalArgs(c)
	switch name {
	case "npm", "yarn", "pnpm":
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "strict-ssl" && args[i+1] == "false" {
				return name + " config strict-ssl false turns certificate verification off for every later install"
			}
		}
	case "git":
		for i, a := range args {
			if strings.EqualFold(a, "http.sslVerify=false") || strings.EqualFold(a, "http.sslVerify") && i+1 < len(args) && args[i+1] == "false" {
				return "git with http.sslVerify false turns certificate verification off, so a network attacker can swap what it fetches"
			}
		}
	}
	for _, a := range args {
		if strings.Contains(a, "[trusted=yes]") {
			return "an APT source marked [trusted=yes] installs packages without checking their signatures"
		}
	}
	if downloaders[name] || name == "git" {
		for _, a := range args {
			if plainHTTP(a) {
				return name + " fetches " + a + " over plain HTTP, so anyone on the network path can change it; use https"
			}
		}
	}
	return ""
}

// plainHTTP reports whether s is an http:// URL to a host other than this
// machine.
func plainHTTP(s string) bool {
	if !strings.HasPrefix(strings.ToLower(s), "http://") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return true
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return false
	}
	return true
}

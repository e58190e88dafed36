package transform

import (
	"path"

	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/dockerfile"
)

// CurlPipeShell flags downloaded code that runs without verification:
// `curl URL | sh`, `sh -c "$(curl URL)"` and `bash <(curl URL)`.
var CurlPipeShell = &Rule{
	ID:               "HD404",
	Name:             "curl-pipe-shell",
	Title:            "downloaded script run without verification",
	Severity:         Warning,
	SecuritySeverity: 7.0,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "Piping a download into a shell runs whatever the server sends at build time, as " +
			"root, with nothing to check it against: a compromised or hijacked host, or a " +
			"truncated download, becomes code in your image, and no two builds are guaranteed " +
			"to run the same thing. Download the script or binary to a file, check it against " +
			"a checksum or signature pinned in the Dockerfile, then run it; or use `ADD " +
			"--checksum=sha256:...`, a package from the distribution, or a `COPY --from` of an " +
			"official image that ships the tool.",
		Bad: "FROM debian:bookworm-slim\nRUN curl -fsSL https://example.com/install.sh | sh\n",
		Good: "FROM debian:bookworm-slim\n" +
			"ADD --checksum=sha256:5b4f5b4e2a8e3f9c6d1e0b7a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d https://example.com/install.sh /tmp/install.sh\n" +
			"RUN sh /tmp/install.sh && rm /tmp/install.sh\n",
	},
	Check: checkCurlPipeShell,
}

func checkCurlPipeShell(p *Pass) {
	p.Scripts(func(s *dockerfile.Script) {
		byStmt := commandsByStmt(s)
		for _, stages := range pipelines(s) {
			var fetch *dockerfile.Command
			for _, st := range stages {
				c := byStmt[st]
				if c == nil {
					continue
				}
				switch {
				case downloaders[c.Name()]:
					fetch = c
				case fetch != nil && isInterpreter(c.Name()) && readsStdin(c):
					p.ReportAt(fetch, fetch.Name()+" output is piped into "+c.Name()+
						", so downloaded code runs unverified; save it to a file, check its checksum or signature, then run it", nil)
					fetch = nil
				}
			}
		}
		for _, c := range s.Commands {
			if c.Call == nil {
				continue
			}
			name := c.Name()
			if !isInterpreter(name) && name != "eval" && name != "source" && name != "." {
				continue
			}
			if fetch := substitutedDownload(c); fetch != "" {
				p.ReportAt(c, name+" runs the output of "+fetch+
					" directly, so downloaded code runs unverified; save it to a file, check its checksum or signature, then run it", nil)
			}
		}
	})
}

// substitutedDownload returns the downloader whose output a command runs
// through $(...), `...` or <(...) in its arguments, or "".
func substitutedDownload(c *dockerfile.Command) string {
	found := ""
	if c.Call == nil || c.Prog >= len(c.Call.Args) {
		return ""
	}
	for _, w := range c.Call.Args[c.Prog+1:] {
		syntax.Walk(w, func(n syntax.Node) bool {
			var stmts []*syntax.Stmt
			switch x := n.(type) {
			case *syntax.CmdSubst:
				stmts = x.Stmts
			case *syntax.ProcSubst:
				stmts = x.Stmts
			default:
				return found == ""
			}
			syntax.Walk(&syntax.File{Stmts: stmts}, func(n syntax.Node) bool {
				if call, ok := n.(*syntax.CallExpr); ok && len(call.Args) > 0 {
					if lit := call.Args[0].Lit(); downloaders[path.Base(lit)] {
						found = path.Base(lit)
					}
				}
				return found == ""
			})
			return false
		})
		if found != "" {
			return found
		}
	}
	return ""
}

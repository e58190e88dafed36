package transform

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/credfile"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/ignore"
)

// ContextSecrets flags secret-looking files in the build context that the
// ignore file in force lets through.
var ContextSecrets = &Rule{
	ID:               "HD601",
	Name:             "context-secrets",
	Title:            "secret-looking file in the build context",
	Severity:         Error,
	SecuritySeverity: 8.0,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "Everything in the build context that .dockerignore does not exclude is uploaded to " +
			"the builder, and `COPY . .` puts it in a layer for good: a later `rm` only hides it, " +
			"and anyone who pulls the image can extract it. Dotenv files, private keys, cloud " +
			"credential folders (.aws, .azure, gcloud, .kube), tokens in .npmrc or .pypirc, " +
			".git-credentials, .netrc and Terraform state do not belong there. harden reads the " +
			"context as BuildKit filters it, looks inside files whose name alone is not proof " +
			"(a .pem may be a public certificate, an .npmrc may hold no token), and reports each " +
			"secret at the COPY that would copy it, or at the first FROM. `harden ignore --write` " +
			"excludes them without hiding anything the Dockerfile copies by name; give the build " +
			"its secrets with RUN --mount=type=secret and the container at run time.",
		Bad:  "# build context: app.py, .env, id_rsa (no .dockerignore)\nFROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
		Good: "# build context: app.py, .env, id_rsa; .dockerignore lists .env and id_rsa*\nFROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
	},
	Check: checkContextSecrets,
}

func checkContextSecrets(p *Pass) {
	if p.Context == nil || p.Context.FS == nil {
		return
	}
	type scan struct {
		secrets []ignore.Secret
		err     error
	}
	// The walk covers the whole context; do it once, not on every pass.
	found := p.Context.Memo("context-secrets", func() any {
		secrets, _, err := ignore.FindSecretsIn(p.Context, 0)
		return scan{secrets, err}
	}).(scan)
	secrets, err := found.secrets, found.err
	if err != nil || len(secrets) == 0 {
		return
	}
	copies := contextCopies(p.File)
	ignoreFile := p.Context.IgnoreFile
	notExcluded := ignoreFile + " does not exclude it"
	if ignoreFile == "" {
		notExcluded = "there is no .dockerignore to exclude it"
	}
	for _, s := range secrets {
		target := strings.TrimSuffix(s.Path, "/")
		what := s.Path + " (" + s.Kind + ")"
		cp, named := copyOf(copies, target)
		switch {
		case named:
			continue // secret-file-copied reports COPY of the file itself
		case cp != nil:
			p.Report(cp.ins, strings.ToUpper(cp.ins.Keyword)+" "+cp.raw+" copies "+what+" into the image, since "+notExcluded+"; "+advice(s), nil)
		default:
			p.Report(p.File.Stages[0].From, what+" is in the build context and "+notExcluded+
				", so any COPY of the whole context, and any builder that uploads all of it, takes it along; "+advice(s), nil)
		}
	}
}

// advice says what to do about one secret.
func advice(s ignore.Secret) string {
	if !s.Excludable() {
		return "write the token as ${NPM_TOKEN} in the file, or mount the whole file with RUN --mount=type=secret (npm may need the file's registry settings, so harden ignore leaves it in)"
	}
	return "exclude it (harden ignore --write) and pass secrets with RUN --mount=type=secret or at run time"
}

// contextCopy is a COPY or ADD source read from the build context.
type contextCopy struct {
	ins  *dockerfile.Instruction
	raw  string // as written
	path string // cleaned, context-relative; "." is the whole context
}

// contextCopies lists the COPY and ADD sources that come from the build
// context, with global ARG defaults expanded; sources that still depend on
// a variable are left out, since harden cannot tell what they copy.
func contextCopies(f *dockerfile.File) []contextCopy {
	var out []contextCopy
	for _, ins := range f.Instructions {
		var srcs []string
		switch c := ins.Command.(type) {
		case *instructions.CopyCommand:
			if c.From != "" {
				continue
			}
			srcs = c.SourcePaths
		case *instructions.AddCommand:
			srcs = c.SourcePaths
		}
		for _, raw := range srcs {
			if strings.Contains(raw, "://") || strings.HasPrefix(raw, "git@") {
				continue
			}
			expanded, ok := f.ExpandGlobalArgs(raw)
			if !ok || strings.Contains(expanded, "$") {
				continue
			}
			out = append(out, contextCopy{ins: ins, raw: raw, path: buildctx.Clean(expanded)})
		}
	}
	return out
}

// copyOf finds the first copy that takes p along: the whole context or a
// folder holding it. named is set when a source names p itself, or a tool
// folder holding it (COPY .aws/ ...), which secret-file-copied reports.
func copyOf(copies []contextCopy, p string) (cp *contextCopy, named bool) {
	for i, c := range copies {
		if c.path == p || c.path != "." && strings.HasPrefix(p, c.path+"/") && credfile.InToolFolder(c.path) {
			return nil, true
		}
		if ok, _ := path.Match(c.path, p); ok && strings.ContainsAny(c.path, "*?[") {
			return nil, true
		}
		if cp == nil && (c.path == "." || strings.HasPrefix(p, c.path+"/")) {
			cp = &copies[i]
		}
	}
	return cp, false
}

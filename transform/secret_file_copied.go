package transform

import (
	"io/fs"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/credfile"
)

// SecretFileCopied flags COPY and ADD of credential files from the build
// context into the image.
var SecretFileCopied = &Rule{
	ID:               "HD403",
	Name:             "secret-file-copied",
	Title:            "credential file copied into the image",
	Severity:         Error,
	SecuritySeverity: 8.5,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "Files copied into an image stay in its layer for good: deleting them in a later " +
			"step only hides them, and anyone who pulls the image can extract them. Environment " +
			"files, SSH and TLS private keys, and package-manager credentials (.npmrc, .pypirc, " +
			".netrc with a token or password) must never be copied. Mount them for the one step " +
			"that needs them with `RUN --mount=type=secret,id=NAME,target=PATH`, and give the " +
			"running container its secrets at run time. For files that may or may not hold a " +
			"credential (.npmrc, *.pem, *.key, *.p12, .env files of public front-end settings), " +
			"harden reads them in the build context and reports only those that do. Folders " +
			"named for a tool are judged file by file: only .docker/config.json with a login, " +
			".aws/credentials, a kubeconfig with a token or key, and private keys in .ssh or " +
			".gnupg are credentials, while a site config or an entrypoint script under .docker/ " +
			"is not.",
		Bad: "FROM node:22-slim\nWORKDIR /app\nCOPY .npmrc package.json package-lock.json ./\n" +
			"RUN npm ci && rm .npmrc\n",
		Good: "# syntax=docker/dockerfile:1\nFROM node:22-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\n" +
			"RUN --mount=type=secret,id=npmrc,target=/app/.npmrc npm ci\n",
	},
	Check: checkSecretFileCopied,
}

func checkSecretFileCopied(p *Pass) {
	for _, ins := range p.File.Instructions {
		var sources []string
		switch cmd := ins.Command.(type) {
		case *instructions.CopyCommand:
			if cmd.From != "" {
				continue // from another stage or image: not the build context
			}
			sources = cmd.SourcePaths
		case *instructions.AddCommand:
			sources = cmd.SourcePaths
		default:
			continue
		}
		for _, src := range sources {
			if strings.Contains(src, "://") || strings.Contains(src, "$") {
				continue
			}
			if name, why := secretSource(p.Context, src); name != "" {
				p.Report(ins, strings.ToUpper(ins.Keyword)+" puts "+name+" into the image"+why+
					", where anyone who pulls it can read it even if a later step deletes it; "+
					"use RUN --mount=type=secret for the step that needs it", nil)
				break
			}
		}
	}
}

// secretSource decides whether a COPY source brings in a credential file.
// It returns the offending file and, when the name alone is not proof, why
// harden believes it holds a secret. credfile knows the files; a folder is
// judged by the files in it, since tools keep logins in folders (.docker,
// .kube) that projects also use for their own configuration.
func secretSource(ctx *buildctx.Context, src string) (name, why string) {
	clean := buildctx.Clean(src)
	if clean == "." {
		return "", "" // the whole context: a .dockerignore question, not this rule's
	}
	candidates := []string{clean}
	if strings.ContainsAny(clean, "*?[") {
		if ctx == nil {
			return "", ""
		}
		candidates, _ = ctx.Glob(clean)
	}
	for _, c := range candidates {
		if ctx == nil {
			if name, why := secretByName(c); name != "" {
				return name, why
			}
			continue
		}
		if ctx.Ignored(c) {
			continue // BuildKit never sends it, so COPY cannot copy it
		}
		st, err := fs.Stat(ctx.FS, c)
		switch {
		case err != nil:
			continue // COPY fails on it anyway
		case st.IsDir():
			if name, why := secretInFolder(ctx, c); name != "" {
				return name, why
			}
		default:
			if why, ok := secretFile(ctx, c); ok {
				return c, why
			}
		}
	}
	return "", ""
}

// secretByName judges a source without a build context to read: a file
// whose name is proof, one that usually holds a credential (said so), or a
// folder whose everyday content is keys.
func secretByName(p string) (name, why string) {
	if kind, ok := credfile.UsuallyHoldsWhole(p); ok {
		return p, " (such a folder usually holds " + kind + "; harden had no build context to look inside)"
	}
	r := credfile.Lookup(p)
	switch {
	case r == nil:
		return "", ""
	case r.Always:
		return p, ""
	case r.Usually && r.Kind != "":
		return p, " (it usually holds " + r.Kind + "; harden had no build context to look inside)"
	case r.Usually:
		return p, ""
	}
	return "", "" // most .pem files are public certificates
}

// secretFile reads a context file that credfile knows, when its name is
// not proof, and says why it holds a secret.
func secretFile(ctx *buildctx.Context, p string) (why string, ok bool) {
	r, ok := credfile.Check(ctx.FS, p)
	return explain(r), ok
}

// explain is the reason given after a file's name: none when the name is
// proof or says it all.
func explain(r *credfile.Rule) string {
	if r == nil || r.Always || r.Kind == "" {
		return ""
	}
	return " (it holds " + r.Kind + ")"
}

// secretInFolder finds a credential file that COPY of the folder dir would
// bring along. Only folders that tools keep logins in (or folders inside
// them) are this rule's: a secret that comes along in another folder is
// context-secrets' to report, with the advice to exclude it.
func secretInFolder(ctx *buildctx.Context, dir string) (name, why string) {
	if !credfile.InToolFolder(dir) {
		return "", ""
	}
	p, r := credfile.Find(ctx.FS, dir, ctx.Ignored)
	return p, explain(r)
}

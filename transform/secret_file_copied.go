package transform

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/internal/lazyre"
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
			"credential (.npmrc, *.pem, *.key), harden reads them in the build context and " +
			"reports only those that do.",
		Bad: "FROM node:22-slim\nWORKDIR /app\nCOPY .npmrc package.json package-lock.json ./\n" +
			"RUN npm ci && rm .npmrc\n",
		Good: "# syntax=docker/dockerfile:1\nFROM node:22-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\n" +
			"RUN --mount=type=secret,id=npmrc,target=/app/.npmrc npm ci\n",
	},
	Check: checkSecretFileCopied,
}

// envTemplateSuffixes mark .env files meant to be committed and copied.
var envTemplateSuffixes = map[string]bool{"example": true, "sample": true, "template": true, "tpl": true, "dist": true, "defaults": true}

// alwaysSecretNames are files that exist to hold credentials.
var alwaysSecretNames = map[string]bool{
	"id_rsa": true, "id_dsa": true, "id_ecdsa": true, "id_ed25519": true,
	".git-credentials": true, ".pgpass": true, ".dockercfg": true,
}

// secretFolders hold credentials as a whole; copying them copies the keys.
var secretFolders = map[string]bool{".ssh": true, ".aws": true, ".gnupg": true, ".kube": true, ".docker": true}

// privateKeyContent and passwordContent mark a file whose name is not
// conclusive (a .pem may be a public certificate, an .npmrc may only name a
// registry or read its token from a variable) as holding a secret.
var (
	privateKeyContent = lazyre.New(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----`)
	passwordContent   = lazyre.New(`(?m)(?:_authToken|_auth|_password|^\s*password)\s*[=:]\s*["']?[^$"'\s]|\bpassword\s+[^$\s]|npmAuthToken\s*:\s*["']?[^$"'\s]`)
)

// credentialConfigs are package-manager and login files that often, but not
// always, hold a token or password.
var credentialConfigs = map[string]bool{".npmrc": true, ".pypirc": true, ".netrc": true, "_netrc": true, ".yarnrc.yml": true, ".yarnrc": true}

// keyExtensions hold either a private key or only a public certificate.
var keyExtensions = map[string]bool{".pem": true, ".key": true}

// bundleExtensions are PKCS#12 bundles, which exist to carry a private key.
var bundleExtensions = map[string]bool{".p12": true, ".pfx": true}

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
// harden believes it holds a secret.
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
		if ctx != nil && ctx.Ignored(c) {
			continue // BuildKit never sends it, so COPY cannot copy it
		}
		base := path.Base(c)
		for _, dir := range strings.Split(c, "/") {
			if secretFolders[dir] {
				return c, ""
			}
		}
		ext := path.Ext(base)
		switch {
		case alwaysSecretNames[base] || isEnvFile(base) || bundleExtensions[ext]:
			return c, ""
		case !credentialConfigs[base] && !keyExtensions[ext]:
			continue
		case ctx == nil && credentialConfigs[base]:
			return c, " (it usually holds a credential; harden had no build context to look inside)"
		case ctx == nil:
			continue // most .pem files are public certificates
		}
		head, err := ctx.ReadHead(c, 64<<10)
		switch {
		case err != nil:
		case privateKeyContent().Match(head):
			return c, " (it holds a private key)"
		case passwordContent().Match(head):
			return c, " (it holds a token or password)"
		}
	}
	return "", ""
}

// isEnvFile recognises .env and .env.production, but not .env.example.
func isEnvFile(base string) bool {
	if base == ".env" {
		return true
	}
	suffix, ok := strings.CutPrefix(base, ".env.")
	return ok && !envTemplateSuffixes[strings.ToLower(suffix)]
}

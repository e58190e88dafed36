package transform

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/dockerfile"
)

// NginxUnprivileged serves static files from nginx's unprivileged image.
var NginxUnprivileged = &Rule{
	ID:               "HD503",
	Name:             "nginx-unprivileged",
	Title:            "static files served by nginx running as root",
	Severity:         Warning,
	SecuritySeverity: 5.0,
	Safety:           Structural,
	Doc: Doc{
		Why: "The official nginx image starts its master process as root so that it can bind " +
			"port 80. nginxinc/nginx-unprivileged is the same nginx, built by the same team, that " +
			"runs as the nginx user and listens on 8080, so the container needs no root at all. " +
			"harden switches a final stage that only serves files (COPY, EXPOSE, LABEL) and moves " +
			"EXPOSE 80 to 8080; a stage with its own nginx configuration or RUN steps is reported " +
			"instead, since its configuration may still listen on port 80. An nginx pinned by digest " +
			"needs a digest of its own for the unprivileged image: with a BuildKit at hand (fix " +
			"--build, fix --verify, report) harden looks up the digest of its tag and pins it; " +
			"otherwise, or when the lookup fails, it reports the stage with the commands that " +
			"look the digest up.",
		Bad:  "FROM node:20 AS builder\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\nFROM nginx:1.27-alpine\nCOPY --from=builder /app/dist /usr/share/nginx/html\nEXPOSE 80\n",
		Good: "FROM node:20 AS builder\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\nFROM nginxinc/nginx-unprivileged:1.27-alpine\nCOPY --from=builder /app/dist /usr/share/nginx/html\nEXPOSE 8080\n",
	},
	Check: checkNginxUnprivileged,
}

func checkNginxUnprivileged(p *Pass) {
	st := p.File.FinalStage()
	if st.Parent() != nil {
		return
	}
	ref, expanded, isImage := st.Image()
	if !isImage || !expanded || baseimage.Parse(ref).Repo() != "nginx" {
		return
	}
	msg := "nginx runs as root to bind port 80"
	for _, in := range st.Instructions[1:] {
		switch in.Keyword {
		case "copy", "add":
			args := in.Args()
			if len(args) > 0 && strings.HasPrefix(args[len(args)-1], "/etc/nginx") {
				p.Report(st.From, msg+"; harden left it because the stage installs its own nginx configuration, which may listen on port 80: use nginxinc/nginx-unprivileged and listen on 8080", nil)
				return
			}
		case "run", "user", "cmd", "entrypoint":
			p.Report(st.From, msg+"; harden left it because the stage has "+strings.ToUpper(in.Keyword)+" steps that expect root: use nginxinc/nginx-unprivileged (USER nginx, port 8080)", nil)
			return
		}
	}
	raw := baseimage.Parse(st.BaseName)
	if strings.Contains(st.BaseName, "$") && strings.Contains(raw.Name, "$") {
		return
	}
	target, ok, why := p.Images.Runtime(baseimage.Unprivileged, ref, "")
	if !ok {
		p.Report(st.From, msg+"; "+why, nil)
		return
	}
	resolved := target // the reference a lookup knows, before ARGs return
	digest := p.resolvedDigest(ref, target)
	if baseimage.Parse(ref).Digest != "" && baseimage.Parse(target).Digest == "" && digest == "" {
		// The in-place switch would drop the pin, and nothing would be left
		// in the file to say so.
		unknown := "is not known here"
		if res, ok := p.Digests[target]; ok {
			unknown = "could not be looked up through BuildKit (" + oneClause(res.Failure) + ")"
		}
		p.Report(st.From, fmt.Sprintf("%s; harden left it because the image is pinned by digest and the digest of %s %s: "+
			"look it up with `docker buildx imagetools inspect %s` (or `crane digest %s`), then use %s@<digest> and port 8080",
			msg, target, unknown, target, target, target), nil)
		p.lostPins(target)
		return
	}
	if strings.Contains(raw.Tag, "$") {
		target = baseimage.Parse(target).Name + ":" + raw.Tag
	}
	if digest != "" {
		target += "@" + digest
	}
	// The image reference is the FROM's last word unless "AS name" follows.
	from := st.From
	lg := from.Logical()
	start := strings.Index(lg.Text[from.ArgsStart():], st.BaseName)
	if start < 0 {
		return
	}
	start += from.ArgsStart()
	edits := []dockerfile.Edit{{Start: lg.Orig(start), End: lg.OrigEnd(start + len(st.BaseName)), New: target}}
	for _, in := range st.Instructions[1:] {
		ex, ok := in.Command.(*instructions.ExposeCommand)
		if !ok || in.IsJSON() {
			continue
		}
		for _, port := range ex.Ports {
			if port == "80" || port == "80/tcp" {
				text := in.Logical().Text
				if i := strings.Index(text[in.ArgsStart():], port); i >= 0 {
					at := in.ArgsStart() + i
					edits = append(edits, dockerfile.Edit{Start: in.Logical().Orig(at), End: in.Logical().OrigEnd(at + 2), New: "8080"})
				}
			}
		}
	}
	desc := "serve with " + target + ", the same nginx running as a non-root user on port 8080"
	if digest != "" {
		pins, _ := p.pinClauses(ref, resolved+"@"+digest)
		for _, c := range pins {
			desc += "; " + c
		}
	}
	p.Report(st.From, msg, &SuggestedFix{
		Description: desc,
		Edits:       edits,
	})
}

package transform

// MaintainerDeprecated flags the deprecated MAINTAINER instruction.
var MaintainerDeprecated = &Rule{
	ID:       "HD415",
	Name:     "maintainer-deprecated",
	Title:    "MAINTAINER is deprecated",
	Severity: Info,
	Safety:   ReportOnly,
	Hadolint: []string{"DL4000"},
	Doc: Doc{
		Why: "MAINTAINER has been deprecated since Docker 1.13 and BuildKit's own checks warn " +
			"about it. Image metadata belongs in labels, where registries and scanners look: " +
			"`LABEL org.opencontainers.image.authors=\"...\"` is the OCI annotation for it.",
		Bad:  "FROM alpine:3.20\nMAINTAINER Jane Doe <jane@example.com>\n",
		Good: "FROM alpine:3.20\nLABEL org.opencontainers.image.authors=\"Jane Doe <jane@example.com>\"\n",
	},
	Check: checkMaintainerDeprecated,
}

func checkMaintainerDeprecated(p *Pass) {
	for _, ins := range p.File.Instructions {
		if ins.Keyword == "maintainer" {
			p.Report(ins, "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"...\" instead", nil)
		}
	}
}

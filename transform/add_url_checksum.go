package transform

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// AddURLChecksum flags ADD of a remote file without --checksum.
var AddURLChecksum = &Rule{
	ID:               "HD406",
	Name:             "add-url-checksum",
	Title:            "ADD from a URL without --checksum",
	Severity:         Warning,
	SecuritySeverity: 5.0,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "ADD with a URL downloads whatever the server returns at build time. Without " +
			"`--checksum` a changed, compromised or truncated file goes into the image " +
			"unnoticed, and the build is not reproducible. `ADD --checksum=sha256:<digest> URL " +
			"DEST` makes BuildKit verify the download and fail the build on a mismatch " +
			"(Dockerfile syntax 1.6 or later; BuildKit's built-in frontend has it). Compute the " +
			"digest once with `sha256sum` on a download you trust.",
		Bad: "FROM debian:bookworm-slim\nADD https://example.com/tool-1.2.3.tar.gz /tmp/\n",
		Good: "FROM debian:bookworm-slim\n" +
			"ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool-1.2.3.tar.gz /tmp/\n",
	},
	Check: checkAddURLChecksum,
}

func checkAddURLChecksum(p *Pass) {
	for _, ins := range p.File.Instructions {
		add, ok := ins.Command.(*instructions.AddCommand)
		if !ok || add.Checksum != "" {
			continue
		}
		for _, src := range add.SourcePaths {
			if remoteFile(src) {
				p.Report(ins, "ADD downloads "+src+" without --checksum, so a changed or tampered file goes into the image unnoticed; add --checksum=sha256:<digest>", nil)
				break
			}
		}
	}
}

// remoteFile reports whether an ADD source is an HTTP(S) file download, as
// opposed to a git repository, which --checksum pins differently.
func remoteFile(src string) bool {
	lower := strings.ToLower(src)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	base, _, _ := strings.Cut(lower, "#")
	base, _, _ = strings.Cut(base, "?")
	return !strings.HasSuffix(base, ".git")
}

package transform

import (
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// ExposeInvalidPort flags EXPOSE values that are not ports.
var ExposeInvalidPort = &Rule{
	ID:       "HD411",
	Name:     "expose-invalid-port",
	Title:    "EXPOSE with an invalid port or protocol",
	Severity: Error,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3011"},
	Doc: Doc{
		Why: "Ports are numbers from 0 to 65535 with an optional /tcp, /udp or /sctp. BuildKit " +
			"parses EXPOSE lazily, so a typo such as 80800 or 8080/http is only noticed when " +
			"the image is built or run, or not at all by tools that read the image metadata. " +
			"EXPOSE documents the port the app listens on; publishing is done with -p at run " +
			"time, so host:container mappings do not belong here either.",
		Bad:  "FROM nginx:1.27\nEXPOSE 80800\n",
		Good: "FROM nginx:1.27\nEXPOSE 8080\n",
	},
	Check: checkExposeInvalidPort,
}

func checkExposeInvalidPort(p *Pass) {
	for _, ins := range p.File.Instructions {
		expose, ok := ins.Command.(*instructions.ExposeCommand)
		if !ok {
			continue
		}
		for _, spec := range expose.Ports {
			if why := invalidPortSpec(spec); why != "" {
				p.Report(ins, "EXPOSE "+spec+": "+why, nil)
			}
		}
	}
}

// invalidPortSpec explains what is wrong with "port[-port][/proto]", or
// returns "" when it is valid or uses a variable harden cannot resolve.
func invalidPortSpec(spec string) string {
	if strings.Contains(spec, "$") {
		return ""
	}
	ports, proto, hasProto := strings.Cut(spec, "/")
	if hasProto {
		switch strings.ToLower(proto) {
		case "tcp", "udp", "sctp":
		default:
			return "the protocol must be tcp, udp or sctp"
		}
	}
	if strings.Contains(ports, ":") {
		return "EXPOSE takes the container port only; map host ports with -p when running"
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	first, err1 := strconv.Atoi(lo)
	last := first
	var err2 error
	if isRange {
		last, err2 = strconv.Atoi(hi)
	}
	switch {
	case err1 != nil || err2 != nil:
		return "not a port number"
	case first < 0 || last > 65535:
		return "ports range from 0 to 65535"
	case last < first:
		return "the range ends before it starts"
	}
	return ""
}

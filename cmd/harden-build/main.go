// Command harden-build is harden's BuildKit companion. harden report and
// harden fix --build harden the Dockerfiles themselves, then run
// harden-build with a job on its standard input (see package buildjob); it
// builds the original and the hardened images, smoke-checks the hardened
// one and prints the report.
//
// It is a program of its own so that harden, which bots start once per
// Dockerfile, does not load the BuildKit client, gRPC and OpenTelemetry at
// every start. Install it beside harden: go install ./cmd/... or make install.
package main

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/report"
)

func main() {
	if len(os.Args) > 1 || term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprintf(os.Stderr, "%s builds images for harden and is run by it: use `harden report PATH` "+
			"or `harden fix --build --pr-body FILE PATH`.\n", buildjob.Program)
		os.Exit(buildjob.ExitError)
	}
	os.Exit(report.Serve(os.Stdin, os.Stdout, os.Stderr))
}

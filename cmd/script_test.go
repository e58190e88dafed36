package cmd

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/harden-dev/harden/internal/bktest"
	"github.com/harden-dev/harden/internal/golden"
	"github.com/harden-dev/harden/report"
)

// TestMain lets testscript run harden and its BuildKit companion in-process
// as the "harden" and "harden-build" commands. testscript puts both on PATH
// for the whole test binary, so the tests that call Run directly find
// harden-build the way an installed harden does. The BuildKit end-to-end
// tests share one environment of each kind (bktest.Run), as CI's two cores
// cannot afford a daemon and a cold cache per test.
func TestMain(m *testing.M) {
	testscript.Main(sharedBuildKit{m}, map[string]func(){
		"harden":       func() { os.Exit(Main(System())) },
		"harden-build": func() { os.Exit(report.Serve(os.Stdin, os.Stdout, os.Stderr)) },
	})
}

type sharedBuildKit struct{ m *testing.M }

func (s sharedBuildKit) Run() int { return bktest.Run(s.m) }

// TestScripts runs the end-to-end CLI scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		// go test ./cmd -run TestScripts -update rewrites the expected
		// files that cmp compares against (review the diff).
		UpdateScripts: golden.Update(),
	})
}

package transform

import (
	"path"

	"github.com/harden-dev/harden/dockerfile"
)

// SudoInRun flags sudo (and doas) in RUN.
var SudoInRun = &Rule{
	ID:               "HD407",
	Name:             "sudo-in-run",
	Title:            "sudo used in RUN",
	Severity:         Warning,
	SecuritySeverity: 4.0,
	Safety:           ReportOnly,
	Hadolint:         []string{"DL3004"},
	Doc: Doc{
		Why: "RUN steps already run as the user the Dockerfile chose with USER. sudo in a " +
			"build means the image carries sudo and a sudoers entry, so anyone who gets a shell " +
			"in the container as the app user can become root, and sudo's TTY and signal " +
			"handling make builds and entrypoints behave unpredictably. Run root steps before " +
			"USER switches to the app user (or switch back with USER root for them), and use " +
			"gosu or su-exec in entrypoints that must drop privileges.",
		Bad:  "FROM debian:bookworm-slim\nRUN useradd --system app\nUSER app\nRUN sudo apt-get update\n",
		Good: "FROM debian:bookworm-slim\nRUN useradd --system app\nRUN apt-get update\nUSER app\n",
	},
	Check: checkSudoInRun,
}

func checkSudoInRun(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		for i := 0; i <= c.Prog && i < len(c.Args); i++ {
			if !c.Literal[i] {
				return
			}
			switch w := path.Base(c.Args[i]); w {
			case "sudo", "doas":
				p.ReportAt(c, w+" in RUN: run the step before USER switches away from root instead, and keep "+w+" out of the image", nil)
				return
			}
		}
	})
}

package transform

// MissingHealthcheck notes final images without a HEALTHCHECK.
var MissingHealthcheck = &Rule{
	ID:       "HD412",
	Name:     "missing-healthcheck",
	Title:    "final image has no HEALTHCHECK",
	Severity: Info,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3057"},
	Doc: Doc{
		Why: "Without a HEALTHCHECK, Docker, Compose and Swarm only know whether the main " +
			"process is alive, not whether it answers: a deadlocked server stays \"up\" and keeps " +
			"receiving traffic, and `depends_on: condition: service_healthy` cannot work. Add a " +
			"HEALTHCHECK that exercises the app with a tool the image has, or write " +
			"`HEALTHCHECK NONE` to record that the platform checks health itself (Kubernetes " +
			"ignores HEALTHCHECK and uses its own probes; turn this rule off in .harden.yaml for " +
			"such repositories). Distroless and scratch images are skipped: they have no tool to " +
			"run a probe with.",
		Bad: "FROM python:3.12-slim\nCOPY app.py .\nEXPOSE 8000\nCMD [\"python\", \"app.py\"]\n",
		Good: "FROM python:3.12-slim\nCOPY app.py .\nEXPOSE 8000\n" +
			"HEALTHCHECK --interval=30s --timeout=3s CMD [\"python\", \"-c\", \"import urllib.request; urllib.request.urlopen('http://localhost:8000/health')\"]\n" +
			"CMD [\"python\", \"app.py\"]\n",
	},
	Check: checkMissingHealthcheck,
}

func checkMissingHealthcheck(p *Pass) {
	final := p.File.FinalStage()
	if img := rootImage(final); img.Scratch || noProbeTools(img.Ref) {
		return
	}
	for _, st := range finalChain(p.File) {
		for _, ins := range st.Instructions {
			if ins.Keyword == "healthcheck" {
				return // a probe, or HEALTHCHECK NONE: a decision either way
			}
		}
	}
	p.Report(final.From, "the final image has no HEALTHCHECK, so Docker cannot tell a hung app from a healthy one; add one, or HEALTHCHECK NONE if the platform probes health itself", nil)
}

package transform

import "github.com/moby/buildkit/frontend/dockerfile/instructions"

// DebianFrontendEnv notes ENV DEBIAN_FRONTEND in the shipped image.
var DebianFrontendEnv = &Rule{
	ID:       "HD420",
	Name:     "debian-frontend-env",
	Title:    "DEBIAN_FRONTEND set with ENV in the final image",
	Severity: Info,
	Safety:   ReportOnly,
	Doc: Doc{
		Why: "DEBIAN_FRONTEND=noninteractive is meant for the build's apt-get calls. Set with " +
			"ENV it stays in the image's configuration, so every container runs with it, and " +
			"someone who runs `apt-get` or `dpkg-reconfigure` interactively in it gets defaults " +
			"silently chosen for them. Use `ARG DEBIAN_FRONTEND=noninteractive`, which lasts for " +
			"the build only, or prefix the command: `RUN DEBIAN_FRONTEND=noninteractive apt-get " +
			"install ...`. Builder stages are not reported, since their ENV does not ship.",
		Bad:  "FROM debian:bookworm-slim\nENV DEBIAN_FRONTEND=noninteractive\nRUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*\n",
		Good: "FROM debian:bookworm-slim\nARG DEBIAN_FRONTEND=noninteractive\nRUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*\n",
	},
	Check: checkDebianFrontendEnv,
}

func checkDebianFrontendEnv(p *Pass) {
	for _, st := range finalChain(p.File) {
		for _, ins := range st.Instructions {
			env, ok := ins.Command.(*instructions.EnvCommand)
			if !ok {
				continue
			}
			for _, kv := range env.Env {
				if kv.Key == "DEBIAN_FRONTEND" {
					p.Report(ins, "ENV DEBIAN_FRONTEND="+kv.Value+" stays set in every container; use ARG DEBIAN_FRONTEND=noninteractive so it lasts for the build only", nil)
				}
			}
		}
	}
}

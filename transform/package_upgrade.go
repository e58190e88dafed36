package transform

import "github.com/harden-dev/harden/dockerfile"

// PackageUpgrade notes distribution upgrades inside a build.
var PackageUpgrade = &Rule{
	ID:       "HD416",
	Name:     "package-upgrade",
	Title:    "distribution packages upgraded in the build",
	Severity: Info,
	Safety:   ReportOnly,
	Hadolint: []string{"DL3005"},
	Doc: Doc{
		Why: "`dist-upgrade` (and `full-upgrade`, `apk upgrade --available`, `dnf distro-sync`) " +
			"may replace or remove packages to follow the distribution, so the image no longer " +
			"matches the base image it names, and it can even move to packages of another " +
			"release. A plain `upgrade` is a trade-off: it pulls security fixes the base image " +
			"does not have yet, but makes the image depend on the day it was built and adds a " +
			"layer of changed files. The durable fix is a base image that is rebuilt " +
			"regularly, pinned by digest and bumped by a bot; keep upgrades for when the base " +
			"image lags behind, in the same RUN as the install and its cleanup.",
		Bad:  "FROM debian:bookworm-slim\nRUN apt-get update && apt-get dist-upgrade -y && rm -rf /var/lib/apt/lists/*\n",
		Good: "FROM debian:bookworm-20250113-slim\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*\n",
	},
	Check: checkPackageUpgrade,
}

func checkPackageUpgrade(p *Pass) {
	p.Commands(func(c *dockerfile.Command) {
		if sub, why := upgradeKind(c); sub != "" {
			p.ReportAt(c, c.Name()+" "+sub+" "+why, nil)
		}
	})
}

// upgradeKind returns the upgrade subcommand a command runs and what it
// costs, or "".
func upgradeKind(c *dockerfile.Command) (string, string) {
	const distro = "can replace or remove the base image's packages; prefer a newer base image, pinned by digest"
	const plain = "makes the image depend on the day it was built; prefer a regularly rebuilt base image, pinned by digest and bumped by a bot"
	switch c.Name() {
	case "apt-get", "apt":
		switch sub, _, _ := aptGet(c, true); sub {
		case "dist-upgrade", "full-upgrade":
			return sub, distro
		case "upgrade":
			return sub, plain
		}
	case "apk":
		if sub, _, _ := subcommand(c); sub == "upgrade" {
			if c.HasArg("--available") || c.HasShortFlag('a') {
				return "upgrade --available", distro
			}
			return sub, plain
		}
	case "dnf", "yum", "microdnf":
		switch sub, at, _ := subcommand(c); sub {
		case "distro-sync", "system-upgrade":
			return sub, distro
		case "upgrade", "update":
			if len(positionalArgs(c, at)) == 0 { // no package names: everything
				return sub, plain
			}
		}
	}
	return "", ""
}

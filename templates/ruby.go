package templates

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/harden-dev/harden/detect"
)

// Ruby is what the Ruby templates need.
type Ruby struct {
	// Bootsnap is set when the app uses bootsnap, whose cache the builder
	// precompiles.
	Bootsnap bool
	// Assets is set when a Rails app has an asset pipeline
	// (assets:precompile); API-only apps have none.
	Assets bool
	// Locked is set when Gemfile.lock exists: the builder installs in
	// deployment mode, which refuses to run without one.
	Locked bool
	// Packages are the Debian libraries the runtime installs for gems that
	// link them (libpq5 for pg, libmariadb3 for mysql2).
	Packages []string
}

// gemLibraries are the shared libraries gems with native extensions need
// at run time on Debian, which the slim image does not ship.
var gemLibraries = []struct{ gem, pkg string }{
	{"pg", "libpq5"},
	{"mysql2", "libmariadb3"},
	{"ruby-vips", "libvips42"},
}

func fillRuby(a *App, p *project) error {
	a.PackageManager = "bundler"
	facts := p.facts.Ruby
	if facts == nil {
		facts = &detect.RubyFacts{}
	}
	r := &Ruby{}
	a.Ruby = r
	gems := lockedGems(p.read("Gemfile.lock"))
	r.Bootsnap = gems["bootsnap"]
	for _, lib := range gemLibraries {
		if gems[lib.gem] {
			r.Packages = append(r.Packages, lib.pkg)
		}
	}
	a.Manifests = []string{"Gemfile"}
	r.Locked = p.exists("Gemfile.lock")
	if r.Locked {
		a.Manifests = append(a.Manifests, "Gemfile.lock")
	} else {
		a.note("there is no Gemfile.lock, so the builder resolves the gem versions on the day it is built (bundle install in deployment mode would stop without one); run bundle lock and commit it")
	}
	if p.exists(".ruby-version") {
		// Gemfiles often read the Ruby version from it.
		a.Manifests = append(a.Manifests, ".ruby-version")
	}
	if a.Port == 0 {
		a.Port = 3000
	}
	port := strconv.Itoa(a.Port)
	if p.variant == "ruby/rails" {
		a.Framework = "rails"
	}
	if a.Framework == "rails" && p.variant != "ruby/rack" {
		a.Variant = "ruby/rails"
		r.Assets = gems["propshaft"] || gems["sprockets"] || gems["sprockets-rails"]
		a.HealthPath = "/up"
		a.Writable = []string{"/app/tmp"}
		a.Command = []string{"./bin/rails", "server", "--binding", "0.0.0.0", "--port", port}
		return nil
	}
	a.Variant = "ruby/rack"
	if p.entry != "" {
		a.Command = append([]string{"bundle", "exec"}, strings.Fields(p.entry)...)
		return nil
	}
	switch facts.Server {
	case "puma", "":
		a.Command = []string{"bundle", "exec", "puma", "--bind", "tcp://0.0.0.0:" + port}
		if facts.Server == "" && !gems["puma"] {
			a.note("the Gemfile has no application server: the command runs puma, add it to the Gemfile")
		}
	case "falcon":
		a.Command = []string{"bundle", "exec", "falcon", "serve", "--bind", "http://0.0.0.0:" + port}
	default:
		a.Command = []string{"bundle", "exec", "rackup", "--host", "0.0.0.0", "--port", port}
	}
	return nil
}

// lockedGems reads the gem names of a Gemfile.lock's GEM specs.
func lockedGems(lock []byte) map[string]bool {
	gems := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(lock))
	for sc.Scan() {
		line := sc.Text()
		// Specs are indented by four spaces: "    pg (1.5.6)".
		if !strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "     ") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		gems[name] = true
	}
	return gems
}

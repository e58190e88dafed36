package detect

import (
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

var (
	// A Gemfile is Ruby code; its `gem` and `ruby` lines have a fixed
	// shape that Bundler's own documentation gives.
	gemLine     = lazyre.New(`(?m)^\s*gem\s+["']([A-Za-z0-9_.-]+)["']`)
	gemfileRuby = lazyre.New(`(?m)^\s*ruby\s+["']([^"']+)["']`)
	pumaPort    = lazyre.New(`(?m)^\s*port\s+(?:ENV\.fetch\(\s*["']PORT["']\s*\)\s*\{\s*(\d+)\s*\}|(\d+))`)
)

// rubyFrameworks and rubyServers in order of precedence.
var (
	rubyFrameworks = []string{"rails", "sinatra", "hanami", "roda", "grape", "jekyll"}
	rubyServers    = []string{"puma", "unicorn", "passenger", "falcon", "thin"}
	// rubyPorts are where each framework's own server listens.
	rubyPorts = map[string]int{"rails": 3000, "sinatra": 4567, "hanami": 2300}
)

func detectRuby(a *app, dir string) *hit {
	s := a.scan
	p := join(dir, "Gemfile")
	if !s.exists(p) {
		return nil
	}
	h := &hit{manifest: true, pm: "bundler"}
	rb := &RubyFacts{}
	h.add(4, p, 0, "Gemfile lists Ruby gems for Bundler")
	data := s.read(p)
	gems := map[string]Evidence{}
	for _, m := range gemLine().FindAllSubmatchIndex(data, -1) {
		name := string(data[m[2]:m[3]])
		if _, ok := gems[name]; !ok {
			gems[name] = Evidence{File: p, Line: lineAt(data, m[0])}
		}
	}
	if m := gemfileRuby().FindSubmatchIndex(data); m != nil {
		h.claim(claim("ruby", string(data[m[2]:m[3]]), p, lineAt(data, m[0]), rankManifest, "the Gemfile's ruby line"))
	}
	if lock := join(dir, "Gemfile.lock"); s.exists(lock) {
		rb.Lockfile, h.pinned = lock, true
		h.add(2, lock, 0, "Gemfile.lock pins the gems")
		a.readGemfileLock(h, lock, gems)
	}
	if c, ok := s.pinFileClaim(join(dir, ".ruby-version"), "ruby", func(t string) string { return strings.TrimPrefix(t, "ruby-") }); ok {
		h.claim(c, true)
		h.pinned = true
		h.score++
	}
	h.claim(s.toolVersions(dir, "ruby"))
	if gems["railties"].File != "" {
		gems["rails"] = gems["railties"]
	}
	for _, fw := range rubyFrameworks {
		if ev, ok := gems[fw]; ok {
			h.framework = fw
			h.add(2, ev.File, ev.Line, "depends on "+fw)
			break
		}
	}
	if h.framework == "" && s.exists(join(dir, "config/application.rb")) && s.exists(join(dir, "bin/rails")) {
		h.framework = "rails"
		h.add(2, join(dir, "config/application.rb"), 0, "config/application.rb and bin/rails make a Rails app")
	}
	for _, srv := range rubyServers {
		if ev, ok := gems[srv]; ok {
			rb.Server = srv
			h.evidence = append(h.evidence, Evidence{File: ev.File, Line: ev.Line, Why: "depends on the " + srv + " server"})
			break
		}
	}
	if cfg := join(dir, "config.ru"); s.exists(cfg) {
		rb.Rack = true
		h.evidence = append(h.evidence, Evidence{File: cfg, Why: "config.ru makes it a Rack application"})
	}
	switch {
	case h.framework == "rails" && s.exists(join(dir, "bin/rails")):
		h.entry = &Entrypoint{Kind: EntryCommand, Value: "bin/rails server"}
	case h.framework == "rails":
		h.entry = &Entrypoint{Kind: EntryCommand, Value: "bundle exec rails server"}
	case h.framework == "jekyll":
		h.entry = &Entrypoint{Kind: EntryDirectory, Value: "_site"}
	case rb.Server == "puma" && s.exists(join(dir, "config/puma.rb")):
		h.entry = &Entrypoint{Kind: EntryCommand, Value: "bundle exec puma -C config/puma.rb"}
	case rb.Server != "":
		h.entry = &Entrypoint{Kind: EntryCommand, Value: "bundle exec " + rb.Server}
	case rb.Rack:
		h.entry = &Entrypoint{Kind: EntryCommand, Value: "bundle exec rackup"}
	}
	if l, why, ok := s.procfileWeb(dir); ok && l.eco == Ruby {
		if l.entry != nil {
			h.entry = l.entry
		}
		if l.server != "" {
			rb.Server = l.server
		}
		h.port = l.port
		h.evidence = append(h.evidence, why)
	}
	if h.port == 0 {
		a.rubyPort(h, dir, rb)
	}
	h.facts = func(r *Result) { r.Ruby = rb }
	return h
}

// readGemfileLock reads Bundler's lockfile: sections start at column 0,
// gems are indented four spaces under "specs:", the Ruby version and
// Bundler's own version follow their section headers.
func (a *app) readGemfileLock(h *hit, p string, gems map[string]Evidence) {
	data := a.scan.read(p)
	lines := strings.Split(string(data), "\n")
	section := ""
	for i, line := range lines {
		if line != "" && line[0] != ' ' {
			section = strings.TrimSpace(line)
			continue
		}
		t := strings.TrimSpace(line)
		switch section {
		case "GEM", "PATH", "GIT":
			if strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") {
				name, _, _ := strings.Cut(t, " ")
				if _, ok := gems[name]; !ok && name != "" {
					gems[name] = Evidence{File: p, Line: i + 1}
				}
			}
		case "RUBY VERSION":
			if v, ok := strings.CutPrefix(t, "ruby "); ok {
				v, _, _ = strings.Cut(v, "p") // "3.2.2p53"
				h.claim(claim("ruby", v, p, i+1, rankManifest, "Gemfile.lock's RUBY VERSION"))
			}
		case "BUNDLED WITH":
			if t != "" {
				h.claim(claim("bundler", t, p, i+1, rankManifest, "Gemfile.lock's BUNDLED WITH"))
			}
		}
	}
}

// rubyPort reads the port from config/puma.rb, else the framework's.
func (a *app) rubyPort(h *hit, dir string, rb *RubyFacts) {
	if p := join(dir, "config/puma.rb"); a.scan.exists(p) {
		data := a.scan.read(p)
		if m := pumaPort().FindSubmatchIndex(data); m != nil {
			port := firstGroup(data, m, 1, 2)
			h.port = portOf(port)
			h.evidence = append(h.evidence, Evidence{File: p, Line: lineAt(data, m[0]), Why: "puma listens on port " + port})
			return
		}
	}
	if rb.Rack && h.framework != "rails" {
		h.port = 9292 // rackup's and puma's default for a config.ru app
		return
	}
	h.port = rubyPorts[h.framework]
}

// refineRuby adds the server the Dockerfile starts.
func refineRuby(a *app, r *Result) {
	if r.Ruby == nil {
		r.Ruby = &RubyFacts{}
	}
	if l := a.df.launch; a.df.hasLaunch && l.eco == Ruby {
		if l.server != "" {
			r.Ruby.Server = l.server
		}
		if r.Framework == "" && l.framework != "" {
			r.Framework = l.framework
		}
	}
}

package config

import "github.com/harden-dev/harden/transform"

// Select narrows rules (nil means every rule) to those the configuration
// leaves on. Rules named in explicit, usually the command line's --only,
// stay on: the command line wins over the file.
func (c *Config) Select(rules []*transform.Rule, explicit []string) []*transform.Rule {
	if rules == nil {
		rules = transform.All()
	}
	if c == nil {
		return rules
	}
	out := make([]*transform.Rule, 0, len(rules))
	for _, r := range rules {
		if c.Rules[r.ID].Off && !named(r, explicit) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Severities returns the severity overrides by rule ID, in the form
// transform.Options.Severity takes.
func (c *Config) Severities() map[string]transform.Severity {
	if c == nil {
		return nil
	}
	out := map[string]transform.Severity{}
	for id, set := range c.Rules {
		if set.Severity != nil {
			out[id] = *set.Severity
		}
	}
	return out
}

// Apply sets the rule selection and severities of opts from the
// configuration, keeping rules named in explicit on. Base images and the
// runtime user are read from the Config by the rules that need them.
func (c *Config) Apply(opts *transform.Options, explicit []string) {
	opts.Rules = c.Select(opts.Rules, explicit)
	sev := c.Severities()
	if len(sev) == 0 {
		return
	}
	// A fresh map: opts may be a copy of options shared between goroutines.
	merged := make(map[string]transform.Severity, len(opts.Severity)+len(sev))
	for id, s := range opts.Severity {
		merged[id] = s
	}
	for id, s := range sev {
		merged[id] = s
	}
	opts.Severity = merged
}

func named(r *transform.Rule, names []string) bool {
	for _, n := range names {
		if r.Matches(n) {
			return true
		}
	}
	return false
}

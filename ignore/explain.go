package ignore

import (
	"fmt"
	"strings"
)

// Explain describes the plan for people, one sentence per line: what was
// added and why (entries with the same reason share a line), what was left
// out, the secrets found, warnings, and the context size before and after.
func (r *Result) Explain() []string {
	var out []string
	for i := 0; i < len(r.Added); {
		j := i + 1
		for j < len(r.Added) && r.Added[j].Reason == r.Added[i].Reason && !strings.HasPrefix(r.Added[j].Pattern, "!") {
			j++
		}
		verb := "added"
		if strings.HasPrefix(r.Added[i].Pattern, "!") {
			verb, j = "re-included", i+1
		}
		out = append(out, fmt.Sprintf("%s %s: %s", verb, joinPatterns(r.Added[i:j]), r.Added[i].Reason))
		i = j
	}
	for _, s := range r.Skipped {
		out = append(out, fmt.Sprintf("left out %s: %s", s.Pattern, s.Reason))
	}
	for _, s := range r.Secrets {
		if s.Excluded {
			out = append(out, fmt.Sprintf("secret %s (%s): was sent to the builder; excluded now", s.Path, s.Kind))
		} else {
			out = append(out, fmt.Sprintf("secret %s (%s): still sent: %s", s.Path, s.Kind, s.Reason))
		}
	}
	for _, w := range r.Warnings {
		out = append(out, "warning: "+w)
	}
	out = append(out, r.SizeLine())
	return out
}

func joinPatterns(cs []Change) string {
	ps := make([]string, len(cs))
	for i, c := range cs {
		ps[i] = c.Pattern
	}
	return strings.Join(ps, ", ")
}

// SizeLine reports the context size before and after, and the saving.
func (r *Result) SizeLine() string {
	lower := ""
	if r.Partial {
		lower = " (at least: the walk stopped at the entry limit)"
	}
	line := fmt.Sprintf("build context: %s → %s%s", r.Before, r.After, lower)
	if files, bytes := r.Before.Files-r.After.Files, r.Before.Bytes-r.After.Bytes; files > 0 || bytes > 0 {
		line += fmt.Sprintf(" (saves %s)", Size{Files: files, Bytes: bytes})
	}
	return line
}

// String writes a size as "12 files, 3.4 MB".
func (s Size) String() string {
	noun := "files"
	if s.Files == 1 {
		noun = "file"
	}
	return fmt.Sprintf("%d %s, %s", s.Files, noun, FormatBytes(s.Bytes))
}

// FormatBytes writes a byte count in decimal units, as docker does.
func FormatBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"kB", "MB", "GB", "TB"}
	v := float64(n) / 1000
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

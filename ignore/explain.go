package ignore

import (
	"fmt"
	"strings"
)

// Explain describes the plan for people, one sentence per line: each added
// entry that excludes something now, with what it keeps out and why; how
// many more guard against future files; re-inclusions and entries left out
// with the reason; the secrets found; warnings; and the context size
// before and after.
func (r *Result) Explain() []string {
	var out, reincluded []string
	guards := 0
	for _, c := range r.Added {
		switch {
		case strings.HasPrefix(c.Pattern, "!"):
			reincluded = append(reincluded, fmt.Sprintf("re-included %s: %s", c.Pattern, c.Reason))
		case c.Excludes != nil:
			out = append(out, fmt.Sprintf("added %s: keeps out %s: %s", c.Pattern, c.Excludes, c.Reason))
		default:
			guards++
		}
	}
	if guards > 0 {
		noun := "entries that match"
		if guards == 1 {
			noun = "entry that matches"
		}
		out = append(out, fmt.Sprintf("added %d more %s nothing in the context yet; they keep such files out in future (reasons in the file and in --format json)", guards, noun))
	}
	out = append(out, reincluded...)
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

// SizeLine reports the context size before and after, and the saving.
func (r *Result) SizeLine() string {
	lower := ""
	if r.Partial {
		lower = " (at least: the walk stopped at the entry limit)"
	}
	line := fmt.Sprintf("build context: %s → %s%s", r.Before, r.After, lower)
	files, bytes := r.Before.Files-r.After.Files, r.Before.Bytes-r.After.Bytes
	switch {
	case files >= 0 && bytes >= 0 && (files > 0 || bytes > 0):
		line += fmt.Sprintf(" (saves %s)", Size{Files: files, Bytes: bytes})
	case files != 0 || bytes != 0:
		// Re-including what a COPY needs, or a longer ignore file that is
		// itself sent, can make the context grow.
		line += " (" + change(int64(files), "file", "files") + ", " + change(bytes, "", "") + ")"
	}
	return line
}

// change words a saving: "2 files fewer", "291 B more".
func change(saved int64, one, many string) string {
	n, word := saved, "fewer"
	if n < 0 {
		n, word = -n, "more"
	}
	if one == "" {
		return FormatBytes(n) + " " + word
	}
	noun := many
	if n == 1 {
		noun = one
	}
	return fmt.Sprintf("%d %s %s", n, noun, word)
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

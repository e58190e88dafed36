package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/harden-dev/harden/build"
)

// Change is one measure before and after.
type Change struct {
	Original int64 `json:"original"`
	Hardened int64 `json:"hardened"`
	// Delta is Hardened - Original: negative is a saving.
	Delta int64 `json:"delta"`
	// Ratio is Hardened / Original; 0 when Original is 0.
	Ratio float64 `json:"ratio"`
}

func change(orig, hard int64) Change {
	c := Change{Original: orig, Hardened: hard, Delta: hard - orig}
	if orig != 0 {
		c.Ratio = float64(hard) / float64(orig)
	}
	return c
}

// Comparison holds the measures that can be compared numerically.
type Comparison struct {
	CompressedSize   Change `json:"compressed_size"`
	UncompressedSize Change `json:"uncompressed_size"`
	Layers           Change `json:"layers"`
	BuildTime        Change `json:"build_time_ns"`
}

// Compare returns the comparison, or false when either image did not build.
func (r *Report) Compare() (Comparison, bool) {
	if !r.Original.Built || !r.Hardened.Built {
		return Comparison{}, false
	}
	o, h := r.Original.Stats, r.Hardened.Stats
	return Comparison{
		CompressedSize:   change(o.CompressedSize, h.CompressedSize),
		UncompressedSize: change(o.UncompressedSize, h.UncompressedSize),
		Layers:           change(int64(o.Layers), int64(h.Layers)),
		BuildTime:        change(int64(o.BuildTime), int64(h.BuildTime)),
	}, true
}

// row is one line of the table the text and Markdown renderers share.
type row struct {
	name               string
	original, hardened string
	delta, ratio       string
}

// kind says how a measure's numbers read.
type kind int

const (
	bytesKind kind = iota
	countKind
	durationKind
)

func (k kind) format(n int64) string {
	switch k {
	case bytesKind:
		return formatBytes(n)
	case durationKind:
		return formatDuration(time.Duration(n))
	}
	return fmt.Sprint(n)
}

func (k kind) formatDelta(n int64) string {
	switch {
	case n > 0:
		return "+" + k.format(n)
	case n < 0:
		return "-" + k.format(-n)
	}
	return "0"
}

// rows lays out every measure; cells of an image that did not build say so.
func (r *Report) rows() []row {
	cmp, ok := r.Compare()
	measure := func(name string, k kind, c Change, get func(*build.Stats) int64) row {
		rw := row{name: name, original: cell(r.Original, k, get), hardened: cell(r.Hardened, k, get)}
		if ok {
			rw.delta = k.formatDelta(c.Delta)
			rw.ratio = formatRatio(c)
		}
		return rw
	}
	return []row{
		measure("compressed size", bytesKind, cmp.CompressedSize, func(s *build.Stats) int64 { return s.CompressedSize }),
		measure("uncompressed size", bytesKind, cmp.UncompressedSize, func(s *build.Stats) int64 { return s.UncompressedSize }),
		measure("layers", countKind, cmp.Layers, func(s *build.Stats) int64 { return int64(s.Layers) }),
		{name: "user", original: userCell(r.Original), hardened: userCell(r.Hardened)},
		measure("build time", durationKind, cmp.BuildTime, func(s *build.Stats) int64 { return int64(s.BuildTime) }),
	}
}

func cell(img Image, k kind, get func(*build.Stats) int64) string {
	if !img.Built {
		return "build failed"
	}
	return k.format(get(img.Stats))
}

func userCell(img Image) string {
	switch {
	case !img.Built:
		return "build failed"
	case img.Stats.User == "":
		return "root (unset)"
	}
	return img.Stats.User
}

// formatBytes uses decimal units, as docker images and registries do.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, prefix := float64(n), ""
	for _, p := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		prefix = p
		if v < unit {
			break
		}
	}
	return fmt.Sprintf("%.1f %s", v, prefix)
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func formatRatio(c Change) string {
	if c.Original == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", c.Ratio)
}

// percent is the delta as a share of the original, e.g. "-72%".
func percent(c Change) string {
	if c.Original == 0 {
		return ""
	}
	p := math.Round((c.Ratio - 1) * 100)
	if p == 0 {
		return "0%"
	}
	return fmt.Sprintf("%+.0f%%", p)
}

// stopsText explains the SIGTERM result; a process that ignores it is
// killed by docker stop only after its timeout.
func stopsText(s *Smoke) string {
	rep := s.Result
	switch {
	case rep == nil || rep.StopsOnSIGTERM == nil:
		return "not asked (the process had exited)"
	case *rep.StopsOnSIGTERM:
		return fmt.Sprintf("yes, in %s", formatDuration(rep.StopTime))
	}
	return fmt.Sprintf("no, still running %s after it", formatDuration(rep.StopTime))
}

// stopHint explains a process that ignored SIGTERM, or is empty.
func stopHint(s *Smoke) string {
	if rep := s.Result; rep == nil || rep.StopsOnSIGTERM == nil || *rep.StopsOnSIGTERM {
		return ""
	}
	return "as PID 1, a process ignores SIGTERM unless it handles it (a shell-form CMD never does), so docker stop waits, then kills it; use exec form with a signal-aware process, or docker run --init"
}

// idsText is the uid and gid the container's process ran as.
func idsText(s *Smoke) string {
	rep := s.Result
	if rep == nil || rep.UID < 0 {
		return "unknown (the process exited before it could be read)"
	}
	root := ""
	if rep.UID == 0 {
		root = " (root)"
	}
	return fmt.Sprintf("uid %d, gid %d%s", rep.UID, rep.GID, root)
}

// rootWarning is set when the hardened image still runs as root.
func (r *Report) rootWarning() string {
	if !r.Hardened.Built {
		return ""
	}
	if r.Smoke.Result != nil && r.Smoke.Result.UID > 0 {
		return ""
	}
	if r.Hardened.Stats.IsRoot() || r.Smoke.Result != nil && r.Smoke.Result.UID == 0 {
		return "the hardened image still runs as root; `harden check` says what kept harden from adding a user"
	}
	return ""
}

// oneLine joins a message's lines, for table cells and headings.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

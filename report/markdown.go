package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteMarkdown renders the report for a pull request: its own heading, a
// table (original, hardened, change, ratio), a Mermaid bar chart of the
// sizes that GitHub draws, and the smoke check. output.PRBody embeds it.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "### Built with BuildKit: %s\n\n", code(r.Dockerfile))
	switch {
	case r.Unchanged:
		bw.WriteString("harden changes nothing in this file, so it was built once; both columns are that image.\n\n")
	case !r.Original.Built || !r.Hardened.Built:
		bw.WriteString("Not every image built, so only the measures of the one that did are shown.\n\n")
	default:
		fmt.Fprintf(bw, "The original and the hardened Dockerfile, built from the same context%s.\n\n", savingText(r))
	}

	bw.WriteString("| | Original | Hardened | Change | Ratio |\n| --- | ---: | ---: | ---: | ---: |\n")
	cmp, ok := r.Compare()
	pct := map[string]string{}
	if ok {
		pct["compressed size"] = percent(cmp.CompressedSize)
		pct["uncompressed size"] = percent(cmp.UncompressedSize)
		pct["build time"] = percent(cmp.BuildTime)
	}
	for _, rw := range r.rows() {
		delta := rw.delta
		if p := pct[rw.name]; p != "" {
			delta += " (" + p + ")"
		}
		orig, hard := rw.original, rw.hardened
		if rw.name == "user" {
			orig, hard = userMarkdown(r.Original, orig), userMarkdown(r.Hardened, hard)
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s |\n", capitalize(rw.name), escapeCell(orig), escapeCell(hard), escapeCell(delta), escapeCell(rw.ratio))
	}

	if chart := sizeChart(r); chart != "" {
		bw.WriteString("\n" + chart)
	}

	bw.WriteString("\n")
	writeSmokeMarkdown(bw, &r.Smoke)
	if msg := r.rootWarning(); msg != "" {
		fmt.Fprintf(bw, "\n> [!WARNING]\n> %s.\n", capitalize(msg))
	}
	for _, side := range []struct {
		name string
		img  Image
	}{{Original, r.Original}, {Hardened, r.Hardened}} {
		if f := side.img.Error; f != nil {
			writeFailureMarkdown(bw, side.name, f)
		}
	}
	return bw.Flush()
}

func savingText(r *Report) string {
	cmp, _ := r.Compare()
	d := cmp.CompressedSize.Delta
	switch {
	case d < 0:
		return fmt.Sprintf(": the hardened image is %s smaller to pull (%s)", formatBytes(-d), percent(cmp.CompressedSize))
	case d > 0:
		return fmt.Sprintf(": the hardened image is %s larger to pull (%s)", formatBytes(d), percent(cmp.CompressedSize))
	}
	return ""
}

func userMarkdown(img Image, text string) string {
	if !img.Built || img.Stats.User == "" {
		return text
	}
	return code(img.Stats.User)
}

// sizeChart is a Mermaid xychart of both sizes of both images, in MB. One bar
// series with a bar per image and measure: Mermaid draws several series on
// top of each other, which would hide the smaller bars.
func sizeChart(r *Report) string {
	cmp, ok := r.Compare()
	if !ok {
		return ""
	}
	vals := []int64{cmp.CompressedSize.Original, cmp.CompressedSize.Hardened, cmp.UncompressedSize.Original, cmp.UncompressedSize.Hardened}
	var maxMB float64
	bars := make([]string, len(vals))
	for i, v := range vals {
		mb := float64(v) / 1e6
		maxMB = max(maxMB, mb)
		bars[i] = strconv.FormatFloat(mb, 'f', 1, 64)
	}
	// The axis starts at zero so that bar lengths compare; Mermaid would
	// otherwise start it at the smallest value.
	top := strconv.FormatFloat(niceCeil(maxMB), 'f', -1, 64)
	var b strings.Builder
	b.WriteString("```mermaid\nxychart-beta horizontal\n")
	b.WriteString("    title \"Image size in MB (shorter is better)\"\n")
	b.WriteString("    x-axis [\"original, compressed\", \"hardened, compressed\", \"original, uncompressed\", \"hardened, uncompressed\"]\n")
	fmt.Fprintf(&b, "    y-axis \"MB\" 0 --> %s\n", top)
	fmt.Fprintf(&b, "    bar [%s]\n```\n", strings.Join(bars, ", "))
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for an axis end.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for p > v {
		p /= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func writeSmokeMarkdown(w *bufio.Writer, s *Smoke) {
	switch s.Status {
	case SmokeSkipped:
		fmt.Fprintf(w, "**Smoke check of the hardened image:** skipped (%s).\n", escapeCell(s.Reason))
		return
	case SmokeUnavailable:
		fmt.Fprintf(w, "**Smoke check of the hardened image:** not run: %s.\n", escapeCell(oneLine(s.Reason)))
		return
	}
	rep := s.Result
	fmt.Fprintf(w, "**Smoke check of the hardened image: %s** (%s): %s. It ran as %s; stops on SIGTERM: %s.\n",
		s.Status, escapeCell(rep.Check), escapeCell(oneLine(rep.Reason)), idsText(s), stopsText(s))
	if hint := stopHint(s); hint != "" {
		fmt.Fprintf(w, "\n%s.\n", capitalize(hint))
	}
	if s.Status == SmokeFailed && len(rep.Output) > 0 {
		writeLogDetails(w, "Last output of the container", rep.Output)
	}
}

func writeFailureMarkdown(w *bufio.Writer, name string, f *Failure) {
	fmt.Fprintf(w, "\n**The %s image did not build:** %s", name, escapeCell(oneLine(f.Message)))
	if f.Step != "" {
		fmt.Fprintf(w, " (step %s)", code(f.Step))
	}
	w.WriteString("\n")
	if len(f.Log) > 0 {
		writeLogDetails(w, fmt.Sprintf("Last %d log lines", len(f.Log)), f.Log)
	}
}

func writeLogDetails(w *bufio.Writer, summary string, lines []string) {
	fence := "```"
	for _, l := range lines {
		for strings.Contains(l, fence) {
			fence += "`"
		}
	}
	fmt.Fprintf(w, "\n<details><summary>%s</summary>\n\n%s\n", summary, fence)
	for _, l := range lines {
		w.WriteString(l + "\n")
	}
	fmt.Fprintf(w, "%s\n\n</details>\n", fence)
}

// code formats s as inline code, with a longer fence when s holds backticks.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText renders the report as a terminal table: before, after, delta
// and ratio for each measure, then the smoke check and any build failure
// with the tail of its log.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s (context %s): %s\n", r.Dockerfile, r.Context, changesText(r))
	if r.Unchanged {
		bw.WriteString("harden changes nothing in this file: it was built once and both columns are that image.\n")
	}
	bw.WriteString("\n")
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "\tORIGINAL\tHARDENED\tDELTA\tRATIO")
	for _, rw := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rw.name, rw.original, rw.hardened, rw.delta, rw.ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads empty trailing cells; the padding is noise in a terminal
	// and in files.
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		bw.WriteString(strings.TrimRight(line, " \n"))
		if strings.HasSuffix(line, "\n") {
			bw.WriteString("\n")
		}
	}

	bw.WriteString("\n")
	writeSmokeText(bw, &r.Smoke)
	if msg := r.rootWarning(); msg != "" {
		fmt.Fprintf(bw, "warning: %s\n", msg)
	}
	for _, side := range []struct {
		name string
		img  Image
	}{{Original, r.Original}, {Hardened, r.Hardened}} {
		if f := side.img.Error; f != nil {
			writeFailureText(bw, side.name, f)
		}
	}
	return bw.Flush()
}

func changesText(r *Report) string {
	switch r.Changes {
	case 0:
		return "no changes by harden"
	case 1:
		return "1 change by harden"
	}
	return fmt.Sprintf("%d changes by harden", r.Changes)
}

func writeSmokeText(w *bufio.Writer, s *Smoke) {
	switch s.Status {
	case SmokeSkipped:
		fmt.Fprintf(w, "smoke check of the hardened image: skipped (%s)\n", s.Reason)
		return
	case SmokeUnavailable:
		fmt.Fprintf(w, "smoke check of the hardened image: not run: %s\n", oneLine(s.Reason))
		return
	}
	rep := s.Result
	fmt.Fprintf(w, "smoke check of the hardened image (%s): %s: %s\n", rep.Check, s.Status, oneLine(rep.Reason))
	fmt.Fprintf(w, "  ran as %s; stops on SIGTERM: %s\n", idsText(s), stopsText(s))
	if hint := stopHint(s); hint != "" {
		fmt.Fprintf(w, "  note: %s\n", hint)
	}
	if s.Status == SmokeFailed && len(rep.Output) > 0 {
		w.WriteString("  last output:\n")
		for _, l := range rep.Output {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

func writeFailureText(w *bufio.Writer, name string, f *Failure) {
	fmt.Fprintf(w, "\nthe %s image did not build: %s\n", name, oneLine(f.Message))
	if f.Step != "" {
		fmt.Fprintf(w, "  failing step: %s\n", f.Step)
	}
	if len(f.Log) > 0 {
		fmt.Fprintf(w, "  last %d log lines:\n", len(f.Log))
		for _, l := range f.Log {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

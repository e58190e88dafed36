package report

import (
	"encoding/json"
	"io"

	"github.com/harden-dev/harden/buildjob"
)

// jsonReport is the report as machines read it: everything Report holds,
// plus the comparison when both images built and an overall verdict.
type jsonReport struct {
	*Report
	Comparison *Comparison `json:"comparison,omitempty"`
	// OK is false when a build failed or the smoke check failed, as the
	// exit status says.
	OK bool `json:"ok"`
}

// WriteJSON renders the report as one indented JSON object. Sizes are bytes
// and durations nanoseconds.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Report: r, OK: !r.Failed()}
	if cmp, ok := r.Compare(); ok {
		out.Comparison = &cmp
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// Format is an output format of the report; harden validates it and
// harden-build renders it, so its values live in buildjob.
type Format = buildjob.Format

const (
	FormatText     = buildjob.FormatText
	FormatMarkdown = buildjob.FormatMarkdown
	FormatJSON     = buildjob.FormatJSON
)

// Write renders the report in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case FormatMarkdown:
		return r.WriteMarkdown(w)
	case FormatJSON:
		return r.WriteJSON(w)
	}
	return r.WriteText(w)
}

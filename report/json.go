package report

import (
	"encoding/json"
	"fmt"
	"io"
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

// Format is an output format of the report.
type Format string

const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
)

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatMarkdown, FormatJSON:
		return f, nil
	case "md":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want text, markdown or json)", s)
}

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

package transform

import (
	"slices"
	"testing"
)

func TestParseIgnore(t *testing.T) {
	tests := []struct {
		comment   string
		rules     []string
		wholeFile bool
		ok        bool
	}{
		{"harden:ignore=HD407", []string{"HD407"}, false, true},
		{" harden:ignore=HD407,sudo-in-run", []string{"HD407", "sudo-in-run"}, false, true},
		{"harden:ignore=HD407, HD409 the entrypoint drops root with gosu", []string{"HD407", "HD409"}, false, true},
		{"harden:ignore = HD407", []string{"HD407"}, false, true},
		{"harden:ignore-file=pipefail", []string{"pipefail"}, true, true},
		{"hadolint ignore=DL3004,DL3002", []string{"DL3004", "DL3002"}, false, true},
		{"hadolint global ignore=DL4006", []string{"DL4006"}, true, true},
		{"hadolint shell=bash", nil, false, false},
		{"harden is great", nil, false, false},
		{"harden:ignore=", nil, false, true},
	}
	for _, tt := range tests {
		got, ok := parseIgnore(tt.comment)
		if ok != tt.ok || got.wholeFile != tt.wholeFile || !slices.Equal(got.rules, tt.rules) {
			t.Errorf("parseIgnore(%q) = %+v, %v; want rules %q, wholeFile %v, %v", tt.comment, got, ok, tt.rules, tt.wholeFile, tt.ok)
		}
	}
}

// TestSuppression runs real rules over small files and counts what is left.
func TestSuppression(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []int // lines of the remaining findings
	}{
		{"none", "FROM debian:bookworm\nRUN sudo make install\n", []int{2}},
		{"by ID", "FROM debian:bookworm\n# harden:ignore=HD407\nRUN sudo make install\n", nil},
		{"by name with reason", "FROM debian:bookworm\n# harden:ignore=sudo-in-run vendor script needs it\nRUN sudo make install\n", nil},
		{"by hadolint code", "FROM debian:bookworm\n# hadolint ignore=DL3004\nRUN sudo make install\n", nil},
		{"hadolint ignore with harden ID", "FROM debian:bookworm\n# hadolint ignore=HD407\nRUN sudo make install\n", nil},
		{"block of comments", "FROM debian:bookworm\n# harden:ignore=HD407\n# the vendor installer insists\nRUN sudo make install\n", nil},
		{"other rule", "FROM debian:bookworm\n# harden:ignore=HD409\nRUN sudo make install\n", []int{3}},
		{"only the next instruction", "FROM debian:bookworm\n# harden:ignore=HD407\nRUN sudo make install\nRUN sudo make clean\n", []int{4}},
		{"blank line breaks the link", "FROM debian:bookworm\n# harden:ignore=HD407\n\nRUN sudo make install\n", []int{4}},
		{"file-wide", "# harden:ignore-file=HD407\nFROM debian:bookworm\nRUN sudo make install\nRUN sudo make clean\n", nil},
		{"file-wide at the end", "FROM debian:bookworm\nRUN sudo make install\n# harden:ignore-file=sudo-in-run\n", nil},
		{"hadolint global", "FROM debian:bookworm\n# hadolint global ignore=DL3004\nRUN sudo make install\n", nil},
		{"whole multi-line RUN", "FROM debian:bookworm\n# harden:ignore=HD407\nRUN make \\\n && sudo make install\n", nil},
		{"one line inside a RUN", "FROM debian:bookworm\nRUN sudo make \\\n # harden:ignore=HD407\n && sudo make install\n", []int{2}},
		{"not an ignore", "FROM debian:bookworm\n# harden ignores nothing here\nRUN sudo make install\n", []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := Check("Dockerfile", []byte(tt.src), Options{Rules: []*Rule{SudoInRun}})
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, f := range findings {
				lines = append(lines, f.Line)
			}
			if !slices.Equal(lines, tt.want) {
				t.Errorf("findings on lines %v, want %v", lines, tt.want)
			}
		})
	}
}

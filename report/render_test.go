package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/internal/golden"
	"github.com/harden-dev/harden/smoke"
)

func stats(compressed, uncompressed int64, layers int, user string, took time.Duration) *build.Stats {
	return &build.Stats{Digest: "sha256:0123", CompressedSize: compressed, UncompressedSize: uncompressed, Layers: layers, User: user,
		Cmd: []string{"python", "app.py"}, ExposedPorts: []string{"8080/tcp"}, BuildTime: took}
}

func boolPtr(b bool) *bool { return &b }

// renderCases are reports as Run makes them, with measures like the demo's.
func renderCases() map[string]*Report {
	orig := Image{Built: true, Stats: stats(251_234_567, 609_876_543, 9, "", 62*time.Second+400*time.Millisecond)}
	hard := Image{Built: true, Stats: stats(69_123_456, 163_456_789, 12, "app", 35*time.Second+200*time.Millisecond)}
	passed := Smoke{Status: SmokePassed, Result: &smoke.Report{Passed: true, Check: "tcp port 8080", Reason: "port 8080/tcp accepted a connection",
		UID: 10001, GID: 10001, StopsOnSIGTERM: boolPtr(true), StopTime: 120 * time.Millisecond}}
	base := func() *Report {
		return &Report{Dockerfile: "examples/flask/Dockerfile", Context: "examples/flask", Changes: 6, Original: orig, Hardened: hard, Smoke: passed}
	}

	cases := map[string]*Report{"passed": base()}

	r := base()
	r.Smoke = Smoke{Status: SmokeFailed, Result: &smoke.Report{Passed: false, Check: "tcp port 8080", Reason: "the process exited before port 8080 answered",
		UID: 10001, GID: 10001, Output: []string{"Traceback (most recent call last):", "PermissionError: [Errno 13] Permission denied: '/var/log/app.log'"}}}
	cases["smoke-failed"] = r

	r = base()
	r.Smoke = Smoke{Status: SmokePassed, Result: &smoke.Report{Passed: true, Check: "running for 3s", Reason: "the process kept running for 3s",
		UID: 0, GID: 0, StopsOnSIGTERM: boolPtr(false), StopTime: 5 * time.Second}}
	r.Hardened.Stats = stats(69_123_456, 163_456_789, 12, "", 35*time.Second)
	cases["still-root"] = r

	r = base()
	r.Original = Image{Error: &Failure{Message: "process \"/bin/sh -c pip install flask\" did not complete successfully: exit code: 1",
		Step: "[3/4] RUN pip install flask", Log: []string{"ERROR: Could not find a version that satisfies the requirement flask", "ERROR: No matching distribution found for flask"}}}
	cases["original-failed"] = r

	r = base()
	r.Hardened = Image{Error: &Failure{Message: "failed to resolve source metadata for docker.io/library/python:3.11-slim: not found"}}
	r.Smoke = Smoke{Status: SmokeUnavailable, Reason: "the hardened image did not build"}
	cases["hardened-failed"] = r

	r = base()
	r.Changes, r.Unchanged, r.Original = 0, true, hard
	r.Smoke = Smoke{Status: SmokeSkipped, Reason: "--no-smoke"}
	cases["unchanged"] = r
	return cases
}

func TestRenderGolden(t *testing.T) {
	for name, r := range renderCases() {
		for _, f := range []Format{FormatText, FormatMarkdown, FormatJSON} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				if err := r.Write(&buf, f); err != nil {
					t.Fatal(err)
				}
				ext := map[Format]string{FormatText: ".txt", FormatMarkdown: ".md", FormatJSON: ".json"}[f]
				goldenPath := filepath.Join("testdata", "render", name+ext)
				golden.Check(t, goldenPath, buf.Bytes())
			})
		}
	}
}

// The JSON is for machines: the numbers must be the raw ones, and ok must
// follow the exit status.
func TestJSONCarriesRawNumbers(t *testing.T) {
	for name, r := range renderCases() {
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var got struct {
			OK         bool `json:"ok"`
			Comparison *struct {
				CompressedSize Change `json:"compressed_size"`
			} `json:"comparison"`
			Original struct {
				Stats *build.Stats `json:"stats"`
			} `json:"original"`
			Smoke struct {
				Status string `json:"status"`
			} `json:"smoke"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, buf.String())
		}
		if got.OK == r.Failed() || got.Smoke.Status != string(r.Smoke.Status) {
			t.Errorf("%s: ok %v, smoke %q; report failed %v, smoke %q", name, got.OK, got.Smoke.Status, r.Failed(), r.Smoke.Status)
		}
		if cmp, ok := r.Compare(); ok != (got.Comparison != nil) || ok && got.Comparison.CompressedSize != cmp.CompressedSize {
			t.Errorf("%s: comparison %+v, want %+v", name, got.Comparison, cmp)
		}
		if r.Original.Built && got.Original.Stats.CompressedSize != r.Original.Stats.CompressedSize {
			t.Errorf("%s: original compressed size %d", name, got.Original.Stats.CompressedSize)
		}
	}
}

func TestMarkdownChartStartsAtZeroAndFitsTheBars(t *testing.T) {
	var buf bytes.Buffer
	if err := renderCases()["passed"].WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"```mermaid\nxychart-beta horizontal\n", `y-axis "MB" 0 --> 1000`, "bar [251.2, 69.1, 609.9, 163.5]"} {
		if !strings.Contains(md, want) {
			t.Errorf("chart lacks %q:\n%s", want, md)
		}
	}
	if !strings.HasPrefix(md, "### ") {
		t.Errorf("the Markdown must bring its own heading for the PR body:\n%s", md)
	}
}

func TestFormatters(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 69_123_456: "69.1 MB", 1_500_000_000: "1.5 GB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{1234 * time.Microsecond: "1ms", 62_449 * time.Millisecond: "1m2.4s", 35_200 * time.Millisecond: "35.2s"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for v, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.1: 2, 609.9: 1000, 251: 500, 2000: 2000, 4999: 5000} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", v, got, want)
		}
	}
	for c, want := range map[Change]string{change(100, 28): "-72%", change(100, 100): "0%", change(9, 12): "+33%", change(0, 5): ""} {
		if got := percent(c); got != want {
			t.Errorf("percent(%+v) = %q, want %q", c, got, want)
		}
	}
	if got := countKind.formatDelta(3); got != "+3" {
		t.Errorf("layer delta %q", got)
	}
	if got := bytesKind.formatDelta(-182_111_111); got != "-182.1 MB" {
		t.Errorf("size delta %q", got)
	}
}

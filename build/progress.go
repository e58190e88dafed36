package build

import (
	"strings"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/harden-dev/harden/buildjob"
)

// ProgressMode selects how BuildKit's progress is shown; harden validates
// it and harden-build shows it, so its values live in buildjob.
type ProgressMode = buildjob.Progress

const (
	ProgressAuto  = buildjob.ProgressAuto
	ProgressPlain = buildjob.ProgressPlain
	ProgressTTY   = buildjob.ProgressTTY
	ProgressQuiet = buildjob.ProgressQuiet
)

func displayMode(m ProgressMode) progressui.DisplayMode {
	switch m {
	case ProgressPlain:
		return progressui.PlainMode
	case ProgressTTY:
		return progressui.TtyMode
	case ProgressQuiet:
		return progressui.QuietMode
	}
	return progressui.AutoMode
}

// DefaultLogTail is how many log lines a BuildError keeps.
const DefaultLogTail = 30

// logTail remembers the last lines each vertex logged, so that a failed build
// can show the output of the step that failed rather than whatever step
// happened to log last.
type logTail struct {
	max     int
	names   map[string]string   // vertex digest -> name ("[2/3] RUN make")
	lines   map[string][]string // vertex digest -> last max lines
	partial map[string]string   // vertex digest -> unterminated line
	all     []string            // last max lines of any vertex, prefixed by its name
	failed  []string            // digests of vertices that reported an error, in order
	errs    map[string]string
}

func newLogTail(max int) *logTail {
	return &logTail{
		max:     max,
		names:   map[string]string{},
		lines:   map[string][]string{},
		partial: map[string]string{},
		errs:    map[string]string{},
	}
}

func (t *logTail) add(s *bkclient.SolveStatus) {
	for _, v := range s.Vertexes {
		d := string(v.Digest)
		t.names[d] = v.Name
		if v.Error != "" {
			if _, seen := t.errs[d]; !seen {
				t.failed = append(t.failed, d)
			}
			t.errs[d] = v.Error
		}
	}
	for _, l := range s.Logs {
		d := string(l.Vertex)
		text := t.partial[d] + string(l.Data)
		lines := strings.Split(text, "\n")
		t.partial[d] = lines[len(lines)-1]
		for _, line := range lines[:len(lines)-1] {
			t.push(d, strings.TrimRight(line, "\r"))
		}
	}
}

func (t *logTail) push(d, line string) {
	t.lines[d] = keepLast(append(t.lines[d], line), t.max)
	prefix := t.names[d]
	if prefix == "" {
		prefix = "?"
	}
	t.all = keepLast(append(t.all, prefix+" | "+line), t.max)
}

func keepLast(s []string, n int) []string {
	if len(s) > n {
		// Copy so the backing array does not grow without bound.
		s = append([]string(nil), s[len(s)-n:]...)
	}
	return s
}

// tail returns the failed step's name and last log lines; when no step
// reported an error (e.g. the frontend failed to parse), it returns the last
// lines logged by any step.
func isCancellation(msg string) bool {
	return strings.Contains(msg, "context canceled") || strings.Contains(msg, "context cancelled")
}

func (t *logTail) tail() (step string, lines []string) {
	// Flush unterminated lines: a failing command often dies mid-line.
	for d, p := range t.partial {
		if p != "" {
			t.push(d, p)
			t.partial[d] = ""
		}
	}
	// When one step fails, BuildKit cancels its siblings; those report
	// "context canceled" after the real failure and must not be blamed.
	failed := make([]string, 0, len(t.failed))
	for _, d := range t.failed {
		if !isCancellation(t.errs[d]) {
			failed = append(failed, d)
		}
	}
	if len(failed) == 0 {
		failed = t.failed
	}
	for i := len(failed) - 1; i >= 0; i-- {
		d := failed[i]
		if len(t.lines[d]) > 0 {
			return t.names[d], t.lines[d]
		}
	}
	if len(failed) > 0 {
		return t.names[failed[len(failed)-1]], nil
	}
	return "", t.all
}

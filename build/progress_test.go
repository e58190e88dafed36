package build

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	bkclient "github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

func TestLogTailKeepsTheFailedStepsLastLines(t *testing.T) {
	tail := newLogTail(3)
	a, b := digest.FromString("a"), digest.FromString("b")
	tail.add(&bkclient.SolveStatus{Vertexes: []*bkclient.Vertex{{Digest: a, Name: "[1/2] RUN ok"}, {Digest: b, Name: "[2/2] RUN make"}}})
	// Chunks split lines anywhere; the failing step logs last but not only.
	tail.add(&bkclient.SolveStatus{Logs: []*bkclient.VertexLog{
		{Vertex: b, Data: []byte("b1\nb2\nb")},
		{Vertex: a, Data: []byte("a1\na2\n")},
		{Vertex: b, Data: []byte("3\nb4\r\nerror: no rule")},
	}})
	tail.add(&bkclient.SolveStatus{Vertexes: []*bkclient.Vertex{{Digest: b, Name: "[2/2] RUN make", Error: "exit code: 2"}}})

	step, lines := tail.tail()
	if step != "[2/2] RUN make" || !slices.Equal(lines, []string{"b3", "b4", "error: no rule"}) {
		t.Errorf("got step %q lines %q", step, lines)
	}
}

func TestLogTailWithoutAFailedStepKeepsTheLastLinesOfAll(t *testing.T) {
	tail := newLogTail(2)
	a := digest.FromString("a")
	tail.add(&bkclient.SolveStatus{Vertexes: []*bkclient.Vertex{{Digest: a, Name: "load"}}})
	for i := range 5 {
		tail.add(&bkclient.SolveStatus{Logs: []*bkclient.VertexLog{{Vertex: a, Data: fmt.Appendf(nil, "l%d\n", i)}}})
	}
	step, lines := tail.tail()
	if step != "" || !slices.Equal(lines, []string{"load | l3", "load | l4"}) {
		t.Errorf("got step %q lines %q", step, lines)
	}
}

// A sibling cancelled after the real failure must not be named as the
// failing step.
func TestLogTailIgnoresCancelledSiblings(t *testing.T) {
	tail := newLogTail(DefaultLogTail)
	tail.add(&bkclient.SolveStatus{Vertexes: []*bkclient.Vertex{
		{Digest: digest.Digest("sha256:a"), Name: "[internal] load metadata for docker.io/library/python:3.13-slim", Error: "python:3.13-slim: not found"},
	}})
	tail.add(&bkclient.SolveStatus{Vertexes: []*bkclient.Vertex{
		{Digest: digest.Digest("sha256:b"), Name: "[internal] load metadata for docker.io/library/python:3.13", Error: "context canceled"},
	}})
	if step, _ := tail.tail(); !strings.Contains(step, "3.13-slim") {
		t.Errorf("blamed %q, want the slim image's step", step)
	}
}

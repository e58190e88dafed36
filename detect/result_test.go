package detect

import (
	"slices"
	"testing"
)

func TestEcosystemsForTheIgnorePlanner(t *testing.T) {
	var none *Result
	if got := none.Ecosystems(); got != nil {
		t.Errorf("nil result: %q, want nil", got)
	}
	if got := (&Result{Ecosystem: Unknown, Also: []Ecosystem{Node}}).Ecosystems(); got != nil {
		t.Errorf("unknown app: %q, want nil so the planner infers", got)
	}
	got := (&Result{Ecosystem: Python, Also: []Ecosystem{Node}}).Ecosystems()
	if !slices.Equal(got, []string{"python", "node"}) {
		t.Errorf("Ecosystems() = %q, want [python node]", got)
	}
}

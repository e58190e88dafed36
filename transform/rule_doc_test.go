package transform

import (
	"testing"
	"testing/fstest"

	"github.com/harden-dev/harden/buildctx"
)

// TestRuleDocExamples keeps every rule's documentation honest: the Bad
// example must trigger the rule and the Good example must not. The examples
// are checked without a build context and with an empty one, since some
// rules only speak when they can (or cannot) look at the context.
func TestRuleDocExamples(t *testing.T) {
	empty, err := buildctx.FromFS(fstest.MapFS{}, ".", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range All() {
		t.Run(r.Name, func(t *testing.T) {
			if r.Doc.Why == "" || r.Doc.Bad == "" || r.Doc.Good == "" || r.Title == "" {
				t.Fatalf("%s: the title and every part of the doc (why, bad, good) must be written", r.ID)
			}
			flagged := false
			for _, ctx := range []*buildctx.Context{nil, empty} {
				badCtx, goodCtx := ctx, ctx
				if files, ok := docExampleContexts[r.Name]; ok && ctx != nil {
					badCtx, goodCtx = contextOf(t, files[0]), contextOf(t, files[1])
				}
				bad, err := Check("Dockerfile", []byte(r.Doc.Bad), Options{Rules: []*Rule{r}, Level: LevelStructural, Context: badCtx})
				if err != nil {
					t.Fatalf("bad example does not parse: %v", err)
				}
				flagged = flagged || len(bad) > 0
				good, err := Check("Dockerfile", []byte(r.Doc.Good), Options{Rules: []*Rule{r}, Level: LevelStructural, Context: goodCtx})
				if err != nil {
					t.Fatalf("good example does not parse: %v", err)
				}
				for _, f := range good {
					t.Errorf("good example is flagged (context %v): line %d: %s", ctx != nil, f.Line, f.Message)
				}
			}
			if !flagged {
				t.Errorf("bad example is not flagged")
			}
		})
	}
}

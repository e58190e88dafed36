package cmd

import (
	"regexp"
	"testing"

	"github.com/harden-dev/harden/internal/lazyre"
)

// Patterns declared with lazyre are compiled on first use, so a typo would
// otherwise panic only on the user's machine, on the one input that reaches
// it. cmd links every package of the binary, so here Declared holds them all.
func TestDeclaredPatternsCompile(t *testing.T) {
	patterns := lazyre.Declared()
	if len(patterns) == 0 {
		t.Fatal("no patterns declared; the check below would pass vacuously")
	}
	for _, p := range patterns {
		if _, err := regexp.Compile(p); err != nil {
			t.Errorf("pattern %q does not compile: %v", p, err)
		}
	}
}

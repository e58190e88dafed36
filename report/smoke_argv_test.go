package report

import (
	"slices"
	"testing"
)

func TestSmokeArgv(t *testing.T) {
	for in, want := range map[string][]string{
		"id -u":                                 {"id", "-u"},
		`python -c 'import app; print("ok")'`:   {"python", "-c", `import app; print("ok")`},
		`wget -qO- "http://127.0.0.1:8080/a b"`: {"wget", "-qO-", "http://127.0.0.1:8080/a b"},
		`sh -c 'test "$(id -u)" != 0'`:          {"sh", "-c", `test "$(id -u)" != 0`},
		`ls a\ b *`:                             {"ls", "a b", "*"},
	} {
		got, err := smokeArgv(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("smokeArgv(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{" ", "echo $HOME", "echo $(id -u)", "a | b", "a; b", "a > out", "X=1 a", "! a", "a &", "if true; then a; fi", `echo "unterminated`} {
		if got, err := smokeArgv(bad); err == nil {
			t.Errorf("smokeArgv(%q) = %q, want an error", bad, got)
		}
	}
}

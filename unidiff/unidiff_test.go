package unidiff

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	b := "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n"
	want := `--- a/f
+++ b/f
@@ -1,6 +1,6 @@
 1
 2
-3
+three
 4
 5
 6
@@ -9,4 +9,4 @@
 9
 10
 11
-12
+twelve
`
	if got := Diff("a/f", "b/f", []byte(a), []byte(b)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := Diff("a/f", "b/f", []byte(a), []byte(a)); got != "" {
		t.Errorf("equal texts gave %q", got)
	}
}

func TestNoNewlineAndNewFile(t *testing.T) {
	got := Diff("a/f", "b/f", []byte("x\ny"), []byte("x\nz\n"))
	want := "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n"
	if got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
	got = Diff("/dev/null", "b/f", nil, []byte("new\n"))
	if want := "--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+new\n"; got != want {
		t.Errorf("new file: got %q, want %q", got, want)
	}
}

// TestApplies checks random edits round-trip through the hunks: applying
// the diff to the old text gives the new one, CRLF lines included. When
// patch(1) is installed it must agree too.
func TestApplies(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	patchCmd, _ := exec.LookPath("patch")
	for i := range 200 {
		eol := "\n"
		if i%5 == 0 {
			eol = "\r\n"
		}
		var lines []string
		for j := range rng.Intn(40) {
			lines = append(lines, "line "+strconv.Itoa(j)+eol)
		}
		a := strings.Join(lines, "")
		edited := append([]string(nil), lines...)
		for range rng.Intn(6) {
			switch pos := rng.Intn(len(edited) + 1); rng.Intn(3) {
			case 0:
				edited = append(edited[:pos], append([]string{"new " + strconv.Itoa(rng.Int()) + eol}, edited[pos:]...)...)
			case 1:
				if pos < len(edited) {
					edited = append(edited[:pos], edited[pos+1:]...)
				}
			default:
				if pos < len(edited) {
					edited[pos] = "changed" + eol
				}
			}
		}
		b := strings.Join(edited, "")
		d := Diff("a/f", "b/f", []byte(a), []byte(b))
		got, err := apply(a, d)
		if err != nil || got != b {
			t.Fatalf("case %d: applying the diff gave %q (%v), want %q\n%s", i, got, err, b, d)
		}
		if patchCmd != "" && i%20 == 0 && d != "" {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "f"), []byte(a), 0o644)
			os.WriteFile(filepath.Join(dir, "p.diff"), []byte(d), 0o644)
			cmd := exec.Command(patchCmd, "-p1", "-s", "-i", "p.diff")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("case %d: patch rejected the diff: %v\n%s\n%s", i, err, out, d)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "f")); string(data) != b {
				t.Fatalf("case %d: patch produced %q, want %q", i, data, b)
			}
		}
	}
}

// apply is a minimal unified-diff applier for the test: it trusts the
// hunk headers, which is exactly what it checks.
func apply(old, diff string) (string, error) {
	if diff == "" {
		return old, nil
	}
	src := splitLines(old)
	var out []string
	next := 0 // index of the next unconsumed old line
	lines := splitLines(diff)[2:]
	for i := 0; i < len(lines); i++ {
		var aStart, aLen, bStart, bLen int
		h := strings.TrimSuffix(lines[i], "\n")
		if _, err := fmt.Sscanf(normalizeHeader(h), "@@ -%d,%d +%d,%d @@", &aStart, &aLen, &bStart, &bLen); err != nil {
			return "", fmt.Errorf("bad hunk header %q: %v", h, err)
		}
		first := aStart - 1
		if aLen == 0 {
			first = aStart
		}
		out = append(out, src[next:first]...)
		next = first
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "@@") {
			i++
			l := lines[i]
			if strings.HasPrefix(l, `\`) {
				last := len(out) - 1
				if strings.HasPrefix(lines[i-1], "+") || strings.HasPrefix(lines[i-1], " ") {
					out[last] = strings.TrimSuffix(out[last], "\n")
				}
				continue
			}
			switch l[0] {
			case ' ':
				out = append(out, l[1:])
				next++
			case '-':
				next++
			case '+':
				out = append(out, l[1:])
			}
		}
	}
	out = append(out, src[next:]...)
	return strings.Join(out, ""), nil
}

// normalizeHeader writes "-5" as "-5,1" so one Sscanf pattern reads all.
func normalizeHeader(h string) string {
	fields := strings.Fields(h)
	for i, f := range fields[1:3] {
		if !strings.Contains(f, ",") {
			fields[i+1] = f + ",1"
		}
	}
	return strings.Join(fields, " ")
}

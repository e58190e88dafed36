package ignore

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/tonistiigi/fsutil"
)

// The shortcuts in match.go must never change an answer: compare them with
// patternmatcher itself, on patterns built from the pieces that matter
// (wildcards, classes, escapes, separators, blanks, "!") and on paths that
// are clean and not.
var (
	patternPieces = []string{"a", "b", "ab", ".", "-", "/", "*", "**", "**/", "?", "[ab]", "[a.]", "[a-b]", "[!a]", "]", "[", `\`, `\*`, "^", " ", "!", "..", "./", "é"}
	pathPieces    = []string{"a", "b", "ab", "a.b", ".a", "b.a", "é", "aé", "-", "ba"}
)

func randomPattern(r *rand.Rand) string {
	var b strings.Builder
	for n := 1 + r.IntN(5); n > 0; n-- {
		b.WriteString(patternPieces[r.IntN(len(patternPieces))])
	}
	return b.String()
}

func randomPath(r *rand.Rand) string {
	parts := make([]string, 1+r.IntN(4))
	for i := range parts {
		parts[i] = pathPieces[r.IntN(len(pathPieces))]
		if r.IntN(3) == 0 {
			parts[i] += pathPieces[r.IntN(len(pathPieces))]
		}
	}
	p := strings.Join(parts, "/")
	switch r.IntN(12) {
	case 0:
		p = "./" + p
	case 1:
		p = strings.Replace(p, "/", "//", 1)
	case 2:
		p = strings.Replace(p, "/", "/../", 1)
	case 3:
		p += "/"
	}
	return p
}

func reference(pats []string, p string) bool {
	pm, err := patternmatcher.New(pats)
	if err != nil {
		return false
	}
	hit, _ := pm.MatchesOrParentMatches(p)
	return hit
}

func TestSingleMatchesLikePatternmatcher(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := newMatchers()
	for range 20000 {
		pat, p := randomPattern(r), randomPath(r)
		if got, want := m.single(pat).matches(p), reference([]string{pat}, p); got != want {
			t.Fatalf("pattern %q, path %q: got %v, patternmatcher says %v", pat, p, got, want)
		}
	}
	// Paths patternmatcher cleans before it tries their parents, so that a
	// parent is not a prefix of the path.
	for _, c := range [][2]string{{"a/c", "a/b/../c/x"}, {"**/a/c", "x/a/b/../c"}, {"a/b", "a//b/c"}, {"*.b", "x/../a.b/y"}, {"b/a", "./b/a"}} {
		if got, want := m.single(c[0]).matches(c[1]), reference([]string{c[0]}, c[1]); got != want {
			t.Errorf("pattern %q, path %q: got %v, patternmatcher says %v", c[0], c[1], got, want)
		}
	}
	// The catalog's own patterns, on paths made to nearly match them.
	for _, list := range append([][]entry{alwaysEntries}, mapValues(ecosystemEntries)...) {
		for _, e := range list {
			base := concrete(strings.TrimPrefix(e.pattern, "**/"))
			for _, p := range []string{base, "x/" + base, base + "/y", base + "x", "x" + base, strings.TrimSuffix(base, "x"), base[:len(base)/2], "a/" + base + ".bak"} {
				if got, want := m.single(e.pattern).matches(p), reference([]string{e.pattern}, p); got != want {
					t.Errorf("pattern %q, path %q: got %v, patternmatcher says %v", e.pattern, p, got, want)
				}
			}
		}
	}
}

func TestListMatchesLikePatternmatcher(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := newMatchers()
	for range 5000 {
		pats := make([]string, 1+r.IntN(5))
		for i := range pats {
			pats[i] = randomPattern(r)
			if r.IntN(3) == 0 {
				pats[i] = "!" + pats[i]
			}
		}
		l := m.list(pats)
		_, err := patternmatcher.New(pats)
		if (l.err != nil) != (err != nil) {
			t.Fatalf("patterns %q: error %v, patternmatcher's %v", pats, l.err, err)
		}
		for range 10 {
			p := randomPath(r)
			if got, want := l.matches(p), reference(pats, p); got != want {
				t.Fatalf("patterns %q, path %q: got %v, patternmatcher says %v", pats, p, got, want)
			}
		}
	}
}

// Random lists over a folder on disk: walkSent must send what fsutil
// sends, on a fresh tree, on one an unfiltered walk has read whole (the
// matcher is then narrowed), and on one a filtered walk has read in part
// (a narrowed walk may meet new entries and start again).
func TestWalkMatchesFsutilOnRandomLists(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"a", "b.a", "ab/a", "ab/b/a.b", "ab/b/ba", ".a/a", "b/ab/.a", "b/a.b/a", "é/a", "a.b/b/a/ab", "ba/a/a/a/a",
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys := os.DirFS(dir)
	pieces := []string{"a", "b", "ab", ".a", "a.b", "é", "*", "**", "?", "[ab]"}
	r := rand.New(rand.NewPCG(5, 6))
	for range 400 {
		pats := make([]string, 1+r.IntN(6))
		for i := range pats {
			parts := make([]string, 1+r.IntN(3))
			for j := range parts {
				parts[j] = pieces[r.IntN(len(pieces))]
			}
			pats[i] = strings.Join(parts, "/")
			if r.IntN(3) == 0 {
				pats[i] = "!" + pats[i]
			}
		}
		var want []string
		err := fsutil.WalkDir(context.Background(), dir, &fsutil.FilterOpt{ExcludePatterns: pats}, func(p string, _ fs.DirEntry, err error) error {
			want = append(want, filepath.ToSlash(p))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		m := newMatchers()
		warm := map[string]*contextTree{"fresh": newContextTree(fsys), "read whole": newContextTree(fsys), "read in part": newContextTree(fsys)}
		if _, err := warm["read whole"].walkSent(m.list(nil), 0, func(sentEntry) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := warm["read in part"].walkSent(m.list([]string{"ab", "b/**", "*.b"}), 0, func(sentEntry) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for name, tree := range warm {
			var got []string
			if _, err := tree.walkSent(m.list(pats), 0, func(e sentEntry) error {
				got = append(got, e.path)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("patterns %q, tree %s:\n got  %q\n want %q", pats, name, got, want)
			}
		}
	}
}

package ignore

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/tonistiigi/fsutil"

	"github.com/harden-dev/harden/dockerfile"
)

// TestPropertyOverTestdata plans the ignore file for every Dockerfile in
// the repository's test data and checks, on disk and with fsutil's own
// walker (not harden's), that:
//
//   - every path a COPY, ADD or bind mount read before is still sent, and
//     inside a folder it names only junk or rebuilt entries went away;
//   - nothing the old ignore file excluded is sent now, except inside a
//     literal source the old file hid completely (the build failed);
//   - the old file's bytes are kept as a prefix, the new file parses;
//   - a second run, with the new file written, changes nothing.
func TestPropertyOverTestdata(t *testing.T) {
	targets := map[string]string{} // test name -> Dockerfile
	for _, root := range []string{"../transform/testdata", "../testdata"} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && isDockerfileName(d.Name()) && !strings.HasSuffix(d.Name(), ".golden") {
				targets[strings.TrimPrefix(p, "../")] = p
			}
			return nil
		})
	}
	cases, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range cases {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		targets["ignore/"+file] = extractCase(t, ar).dockerfile
	}
	if len(targets) < 10 {
		t.Fatalf("only %d Dockerfiles found: is the test data missing?", len(targets))
	}
	for name, df := range sortedMap(targets) {
		t.Run(name, func(t *testing.T) { checkProperties(t, df) })
	}
}

func checkProperties(t *testing.T, dockerfilePath string) {
	// Work on a copy, so that the second run can write the file.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Dir(dockerfilePath))); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, filepath.Base(dockerfilePath))
	src, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	df, err := dockerfile.Parse(filepath.Base(target), src)
	if err != nil {
		t.Skipf("not a valid Dockerfile (a test of bad input): %v", err)
	}
	res, err := ForDockerfile(target, "", df, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Old != nil && !bytes.HasPrefix(res.New, res.Old) {
		t.Errorf("the old file is not kept as it was:\n--- old\n%s\n--- new\n%s", res.Old, res.New)
	}
	oldPats, newPats := readPatterns(t, res.Old), readPatterns(t, res.New)
	if _, err := patternmatcher.New(newPats); err != nil {
		t.Fatalf("new file does not parse: %v", err)
	}
	before, after := sentOnDisk(t, dir, oldPats), sentOnDisk(t, dir, newPats)

	fa := readFacts(df)
	failedBefore := map[string]bool{}
	for _, s := range fa.sources {
		switch {
		case s.unresolved || s.path == ".":
		case s.glob:
			for p := range before {
				if ok, _ := path.Match(s.path, p); ok && !after[p] {
					t.Errorf("%s: matched %s before, but the new file hides it", s.where, p)
				}
			}
		default:
			if before[s.path] && !after[s.path] {
				t.Errorf("%s: %s was sent before, but the new file hides it", s.where, s.path)
			}
			if _, err := os.Stat(filepath.Join(dir, s.path)); err == nil && !before[s.path] {
				failedBefore[s.path] = true
			}
			for p := range before {
				if strings.HasPrefix(p, s.path+"/") && !after[p] && !allowedInside(fa, &s, p) {
					t.Errorf("%s: %s was copied before, but the new file hides it", s.where, p)
				}
			}
		}
	}
	for p := range after {
		if before[p] {
			continue
		}
		fixed := false
		for s := range failedBefore {
			fixed = fixed || p == s || strings.HasPrefix(p, s+"/")
		}
		if !fixed {
			t.Errorf("%s is sent now but the old ignore file excluded it", p)
		}
	}
	if len(failedBefore) == 0 {
		var charged Size
		for _, c := range res.Added {
			if c.Excludes != nil {
				charged.Files += c.Excludes.Files
				charged.Bytes += c.Excludes.Bytes
			}
		}
		saved := Size{Files: res.Before.Files - res.After.Files, Bytes: res.Before.Bytes - res.After.Bytes}
		if rel, ok := contextRelative(dir, res.Path); ok && after[rel] {
			// The ignore file is sent itself, with its new block: no entry
			// is charged for that growth.
			saved.Bytes += int64(len(res.New) - len(res.Old))
			if res.Old == nil {
				saved.Files++
			}
		}
		if charged != saved {
			t.Errorf("the entries are charged %s, but the context shrank by %s", charged, saved)
		}
	}

	// Idempotence: with the new file in place, nothing changes.
	if err := os.WriteFile(res.Path, res.New, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := ForDockerfile(target, "", df, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() || len(again.Added) > 0 {
		t.Errorf("a second run changes the file (added %v):\n%s", again.Added, again.New[len(res.New):])
	}
}

func readPatterns(t *testing.T, data []byte) []string {
	t.Helper()
	pats, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return pats
}

// sentOnDisk lists what BuildKit's client sends from dir: fsutil's walker
// over the real folder with the ignore patterns.
func sentOnDisk(t *testing.T, dir string, patterns []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := fsutil.WalkDir(context.Background(), dir, &fsutil.FilterOpt{ExcludePatterns: patterns}, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out[filepath.ToSlash(p)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// allowedInside reports whether a catalog entry may hide p, inside the
// folder s copies: junk, or what the Dockerfile recreates there.
func allowedInside(fa *facts, s *source, p string) bool {
	gd := &guard{path: p, kind: guardInside, scope: s.path, by: fa, src: s}
	for _, list := range append([][]entry{alwaysEntries}, mapValues(ecosystemEntries)...) {
		for _, e := range list {
			c := &candidate{entry: &e}
			q := p
			for cur, rest := s.path, strings.Split(strings.TrimPrefix(p, s.path+"/"), "/"); len(rest) > 0; rest = rest[1:] {
				cur += "/" + rest[0]
				if ok, _ := patternmatcher.MatchesOrParentMatches(cur, []string{e.pattern}); ok {
					q = cur
					break
				}
			}
			if ok, _ := patternmatcher.MatchesOrParentMatches(p, []string{e.pattern}); ok && c.allowedInside(gd, q) {
				return true
			}
		}
	}
	return false
}

func mapValues(m map[string][]entry) [][]entry {
	var out [][]entry
	for _, e := range Ecosystems {
		out = append(out, m[e])
	}
	return out
}

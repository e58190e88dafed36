package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// corpusFile is one Dockerfile from anywhere in the repository's testdata.
type corpusFile struct {
	name    string
	src     []byte
	context string // folder to use as build context, "" for none
}

// testCorpus gathers every Dockerfile under any testdata folder of the
// repository, including those inside txtar archives, so that properties
// hold for all fixtures other packages add too.
func testCorpus(t testing.TB) []corpusFile {
	t.Helper()
	var out []corpusFile
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.Contains(filepath.ToSlash(p), "/testdata/") {
			return nil
		}
		name := d.Name()
		switch {
		case strings.HasSuffix(name, ".txtar"):
			ar, err := txtar.ParseFile(p)
			if err != nil {
				return nil
			}
			for _, f := range ar.Files {
				if isCorpusName(filepath.Base(f.Name)) {
					out = append(out, corpusFile{name: p + "#" + f.Name, src: f.Data})
				}
			}
		case isCorpusName(name):
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			ctx := filepath.Dir(p)
			if _, err := os.Stat(filepath.Join(ctx, "NO_CONTEXT")); err == nil {
				ctx = ""
			}
			out = append(out, corpusFile{name: p, src: src, context: ctx})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d Dockerfiles in testdata; the corpus walk is broken", len(out))
	}
	return out
}

func isCorpusName(name string) bool {
	if strings.HasSuffix(name, ".golden") || strings.HasSuffix(name, ".dockerignore") {
		return false
	}
	return name == "Dockerfile" || strings.HasSuffix(name, ".Dockerfile") || strings.HasPrefix(name, "Dockerfile.")
}

func corpusOptions(t testing.TB, c corpusFile) Options {
	opts := Options{Level: LevelStructural}
	if c.context != "" {
		ctx, err := buildctx.Open(c.context, filepath.Base(c.name))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		opts.Context = ctx
		if opts.Digests, err = readDigests(c.context); err != nil {
			t.Fatal(err)
		}
	}
	return opts
}

// TestProperties checks, for every Dockerfile in the testdata, that the
// fixed output parses with BuildKit's parser and instructions.Parse, that a
// second fix changes nothing, and that every instruction no change
// touched is byte-for-byte in the output, in order.
func TestProperties(t *testing.T) {
	parsed := 0
	for _, c := range testCorpus(t) {
		in, err := dockerfile.Parse(c.name, c.src)
		if err != nil {
			continue // fixtures of bad input
		}
		parsed++
		opts := corpusOptions(t, c)
		res, err := Fix(c.name, c.src, opts)
		if err != nil {
			t.Errorf("%s: Fix: %v", c.name, err)
			continue
		}
		if err := parsesWithBuildKit(res.Output); err != nil {
			t.Errorf("%s: output does not parse: %v\n%s", c.name, err, res.Output)
			continue
		}
		again, err := Fix(c.name, res.Output, opts)
		if err != nil {
			t.Errorf("%s: second Fix: %v", c.name, err)
			continue
		}
		if !bytes.Equal(again.Output, res.Output) {
			t.Errorf("%s: not idempotent; first:\n%s\nsecond:\n%s", c.name, res.Output, again.Output)
		}
		if len(again.Changes) != 0 {
			t.Errorf("%s: second run reports %d changes", c.name, len(again.Changes))
		}
		checkUntouched(t, c.name, in, res)
		if err := shellStillParses(in, res.File); err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, res.Output)
		}
	}
	t.Logf("%d Dockerfiles checked", parsed)
}

// TestShellProperty runs the shell guard's property over the fuzz corpus
// too (TestProperties covers every testdata Dockerfile): every RUN of the
// output that is not byte-for-byte a RUN of the input parses as shell
// whenever the input's RUNs all did, at both levels.
func TestShellProperty(t *testing.T) {
	corpus := append(fuzzCorpus(t), testCorpus(t)...)
	for _, c := range corpus {
		in, err := dockerfile.Parse(c.name, c.src)
		if err != nil {
			continue
		}
		for _, level := range []Level{LevelSafe, LevelStructural} {
			opts := Options{Level: level}
			if c.context != "" {
				opts = corpusOptions(t, c)
				opts.Level = level
			}
			res, err := Fix(c.name, c.src, opts)
			if err != nil {
				t.Errorf("%s: Fix: %v", c.name, err)
				continue
			}
			if err := shellStillParses(in, res.File); err != nil {
				t.Errorf("%s (level %d): %v\n%s", c.name, level, err, res.Output)
			}
		}
	}
}

// shellStillParses checks that every RUN of out that is not byte-for-byte
// a RUN of in parses as shell, when every RUN of in that harden reads as
// shell parses. RUNs in another shell, exec form and heredocs for other
// interpreters are not shell to harden, in the input or the output.
func shellStillParses(in, out *dockerfile.File) error {
	inputRuns := map[string]bool{}
	for _, ins := range in.Instructions {
		if ins.Keyword != "run" {
			continue
		}
		if _, err := ins.Script(); err != nil && !errors.Is(err, dockerfile.ErrNoShell) {
			return nil
		}
		inputRuns[ins.Text()] = true
	}
	for _, ins := range out.Instructions {
		if ins.Keyword != "run" || inputRuns[ins.Text()] {
			continue
		}
		if _, err := ins.Script(); err != nil && !errors.Is(err, dockerfile.ErrNoShell) {
			return fmt.Errorf("line %d: an edited RUN no longer parses as shell: %v", ins.Line, err)
		}
	}
	return nil
}

// fuzzCorpus reads the inputs the fuzzer keeps under testdata/fuzz (past
// failures), in the fuzzer's own file format.
func fuzzCorpus(t testing.TB) []corpusFile {
	t.Helper()
	files, err := filepath.Glob("testdata/fuzz/FuzzFix/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusFile
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		header, body, _ := strings.Cut(string(data), "\n")
		value, ok := strings.CutPrefix(strings.TrimSpace(body), "[]byte(")
		if header != "go test fuzz v1" || !ok {
			t.Fatalf("%s: not a fuzz corpus file", p)
		}
		src, err := strconv.Unquote(strings.TrimSuffix(value, ")"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, corpusFile{name: p, src: []byte(src)})
	}
	if len(out) == 0 {
		t.Fatal("no fuzz corpus under testdata/fuzz/FuzzFix")
	}
	return out
}

func parsesWithBuildKit(src []byte) error {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return err
	}
	_, _, err = instructions.Parse(res.AST, nil)
	return err
}

func checkUntouched(t *testing.T, name string, in *dockerfile.File, res *Result) {
	t.Helper()
	pos := 0
	for _, ins := range in.Instructions {
		if touched(ins, res.Changes) {
			continue
		}
		text := in.Src[ins.Start:ins.End]
		i := bytes.Index(res.Output[pos:], text)
		if i < 0 {
			t.Errorf("%s: line %d was changed, but no change claims it:\n%s", name, ins.Line, text)
			return
		}
		pos += i + len(text)
	}
}

func touched(ins *dockerfile.Instruction, changes []Change) bool {
	for _, c := range changes {
		if c.Start < c.End && c.Start < ins.End && c.End > ins.Start {
			return true
		}
		if c.Start == c.End && c.Start > ins.Start && c.Start < ins.End {
			return true
		}
	}
	return false
}

// FuzzFix checks that fix never panics, that a parsable input gives a
// parsable output whose edited RUNs still parse as shell, and that fixing
// is idempotent.
func FuzzFix(f *testing.F) {
	for _, c := range testCorpus(f) {
		f.Add(c.src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in, err := dockerfile.Parse("fuzz", src)
		if err != nil {
			if _, ferr := Fix("fuzz", src, Options{}); ferr == nil {
				t.Fatalf("Parse failed (%v) but Fix succeeded", err)
			}
			return
		}
		// The structural level runs every rule, the stage rewrites too.
		opts := Options{Level: LevelStructural}
		res, err := Fix("fuzz", src, opts)
		if err != nil {
			t.Fatalf("Fix on parsable input: %v", err)
		}
		if err := parsesWithBuildKit(res.Output); err != nil {
			t.Fatalf("output does not parse: %v\ninput:\n%s\noutput:\n%s", err, src, res.Output)
		}
		if err := shellStillParses(in, res.File); err != nil {
			t.Fatalf("%v\ninput:\n%q\noutput:\n%q", err, src, res.Output)
		}
		again, err := Fix("fuzz", res.Output, opts)
		if err != nil {
			t.Fatalf("second Fix: %v", err)
		}
		if !bytes.Equal(again.Output, res.Output) {
			t.Fatalf("not idempotent\ninput:\n%q\nfirst:\n%q\nsecond:\n%q", src, res.Output, again.Output)
		}
	})
}

// BenchmarkFix runs the whole engine over the corpus; compare with
// BenchmarkParseOnly (harden's model) and BenchmarkParseBuildKit (the
// floor: BuildKit's parser and instructions.Parse alone).
func BenchmarkFix(b *testing.B) {
	corpus := parsableCorpus(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range corpus {
			if _, err := Fix(c.name, c.src, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParseOnly(b *testing.B) {
	corpus := parsableCorpus(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range corpus {
			if _, err := dockerfile.Parse(c.name, c.src); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParseBuildKit(b *testing.B) {
	corpus := parsableCorpus(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range corpus {
			if err := parsesWithBuildKit(c.src); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func parsableCorpus(b *testing.B) []corpusFile {
	var out []corpusFile
	for _, c := range testCorpus(b) {
		if _, err := dockerfile.Parse(c.name, c.src); err == nil {
			out = append(out, c)
		}
	}
	return out
}

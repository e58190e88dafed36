package transform

import (
	"strings"
	"testing"

	"github.com/harden-dev/harden/dockerfile"
)

// editRule is a test rule that proposes, for every RUN whose text contains
// match, the edits edit returns; it stands in for a rule with a bug.
func editRule(match string, edit func(ins *dockerfile.Instruction) []dockerfile.Edit) *Rule {
	return &Rule{ID: "HD999", Name: "test-edit", Title: "test", Severity: Info, Safety: Safe,
		Check: func(p *Pass) {
			for _, ins := range p.File.Instructions {
				if ins.Keyword != "run" || !strings.Contains(ins.Text(), match) {
					continue
				}
				if edits := edit(ins); edits != nil {
					p.Report(ins, "test finding", &SuggestedFix{Description: "test edit", Edits: edits})
				}
			}
		}}
}

// deleteText deletes the first occurrence of text in the instruction.
func deleteText(text string) func(ins *dockerfile.Instruction) []dockerfile.Edit {
	return func(ins *dockerfile.Instruction) []dockerfile.Edit {
		i := strings.Index(ins.Text(), text)
		if i < 0 {
			return nil
		}
		at := ins.KeywordStart + i
		return []dockerfile.Edit{{Start: at, End: at + len(text)}}
	}
}

func fixWith(t *testing.T, src string, r *Rule) *Result {
	t.Helper()
	res, err := Fix("Dockerfile", []byte(src), Options{Rules: []*Rule{r}, Level: LevelStructural})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The old apk-update-redundant edit: "RUN apk update \" + "&& apk add"
// became "RUN \" + "&& apk add". The guard refuses that RUN's fix and still
// applies the same rule's fix to the RUN where the edit is sound.
func TestShellGuardRefusesBrokenRun(t *testing.T) {
	src := "FROM alpine:3.20\n" +
		"RUN apk update \\\n    && apk add --no-cache curl\n" +
		"RUN apk update && \\\n    apk add --no-cache git\n"
	res := fixWith(t, src, editRule("apk update", deleteText("apk update ")))
	if strings.Contains(string(res.Output), "RUN \\\n    && apk add") {
		t.Fatalf("the broken edit was applied:\n%s", res.Output)
	}
	if len(res.Findings) != 2 {
		t.Fatalf("want 2 refusals (both RUNs break), got %d: %v", len(res.Findings), res.Findings)
	}
	for _, f := range res.Findings {
		if f.Fix != nil || !strings.Contains(f.Message, "harden did not apply its fix (test edit) because the RUN it edits would no longer parse as shell") {
			t.Errorf("finding %d: %s", f.Line, f.Message)
		}
	}
	if string(res.Output) != src {
		t.Errorf("output changed:\n%s", res.Output)
	}
}

// One finding's broken fix does not cost the rule its other fixes.
func TestShellGuardKeepsTheRulesOtherFixes(t *testing.T) {
	src := "FROM alpine:3.20\n" +
		"RUN apk update \\\n    && apk add --no-cache curl\n" +
		"RUN apk update \\\n    ; apk add --no-cache git\n"
	// Deleting "\\\n    &&" joins the first RUN into "apk update  apk
	// add ...": one command where there were two. Deleting it from the
	// second RUN (where there is none) does nothing; deleting "\\\n    ;"
	// there would merge the commands the same way, so the test deletes
	// only the escape and the newline, which keeps both commands.
	r := editRule("apk update", func(ins *dockerfile.Instruction) []dockerfile.Edit {
		text := ins.Text()
		if i := strings.Index(text, "\\\n    &&"); i >= 0 {
			return []dockerfile.Edit{{Start: ins.KeywordStart + i, End: ins.KeywordStart + i + len("\\\n    &&")}}
		}
		if i := strings.Index(text, "\\\n    "); i >= 0 {
			return []dockerfile.Edit{{Start: ins.KeywordStart + i, End: ins.KeywordStart + i + len("\\\n    ")}}
		}
		return nil
	})
	res := fixWith(t, src, r)
	want := "FROM alpine:3.20\n" +
		"RUN apk update \\\n    && apk add --no-cache curl\n" +
		"RUN apk update ; apk add --no-cache git\n"
	if string(res.Output) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", res.Output, want)
	}
	if len(res.Changes) != 1 || res.Changes[0].Line != 4 {
		t.Errorf("want one change on line 4, got %+v", res.Changes)
	}
	if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message, "would lose `apk update` as a command of its own") {
		t.Fatalf("want one refusal that names the merged command, got %v", res.Findings)
	}
	if f := res.Findings[0]; f.Line != 2 || f.Severity != Warning {
		t.Errorf("refusal at line %d with severity %v, want line 2, warning", f.Line, f.Severity)
	}
}

// A RUN an edit writes must parse as shell when the input's RUNs all do.
func TestShellGuardChecksWrittenRuns(t *testing.T) {
	src := "FROM alpine:3.20\nRUN apk add --no-cache curl\n"
	r := editRule("curl", func(ins *dockerfile.Instruction) []dockerfile.Edit {
		return []dockerfile.Edit{{Start: ins.End, End: ins.End, New: "RUN echo (\n"}}
	})
	res := fixWith(t, src, r)
	if string(res.Output) != src || len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message, "a RUN it writes would not parse as shell") {
		t.Fatalf("output:\n%s\nfindings: %v", res.Output, res.Findings)
	}
}

// What harden never parses as shell, it does not guard: another SHELL,
// exec form, and RUNs that did not parse in the input.
func TestShellGuardLeavesNonShellAlone(t *testing.T) {
	for _, src := range []string{
		"FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN Write-Host hi\n",
		"FROM alpine:3.20\nRUN [\"echo\", \"hi\"]\n",
		"FROM alpine:3.20\nRUN echo $(( hi\n",
	} {
		r := editRule("hi", func(ins *dockerfile.Instruction) []dockerfile.Edit {
			if strings.Contains(ins.Text(), "(((") {
				return nil
			}
			i := strings.Index(ins.Text(), "hi")
			return []dockerfile.Edit{{Start: ins.KeywordStart + i, End: ins.KeywordStart + i + 2, New: "hi ((("}}
		})
		res := fixWith(t, src, r)
		if len(res.Changes) != 1 || len(res.Findings) != 0 {
			t.Errorf("%q: want the edit applied without a refusal, got output\n%s\nfindings %v", src, res.Output, res.Findings)
		}
	}
}

// The operator check: commands no edit touched keep the operators beside
// them that no edit touched. The edit list here claims less than what
// changed, as a buggy edit computation would.
func TestShellGuardOperators(t *testing.T) {
	before, err := dockerfile.Parse("Dockerfile", []byte("FROM alpine:3.20\nRUN true && echo a && echo b\n"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := dockerfile.Parse("Dockerfile", []byte("FROM alpine:3.20\nRUN true && echo a || echo b\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(before.Src), "true")
	why := checkShell(before, after, []dockerfile.Edit{{Start: at, End: at + 4, New: "true"}})
	if !strings.Contains(why, "would put `||` after `echo a` instead of `&&`") {
		t.Fatalf("why = %q", why)
	}
}

// A fix that writes the bytes already there would be found again on every
// pass; it is refused (and reported) instead of ending the run with "did
// not settle". The fuzzer found one in non-root-user
// (testdata/fuzz/FuzzFix/user-named-zero).
func TestNoOpFixIsRefused(t *testing.T) {
	src := "FROM alpine:3.20\nRUN echo hi\n"
	r := editRule("hi", func(ins *dockerfile.Instruction) []dockerfile.Edit {
		i := strings.Index(ins.Text(), "hi")
		return []dockerfile.Edit{{Start: ins.KeywordStart + i, End: ins.KeywordStart + i + 2, New: "hi"}}
	})
	res := fixWith(t, src, r)
	if string(res.Output) != src || len(res.Changes) != 0 {
		t.Fatalf("output:\n%s\nchanges: %v", res.Output, res.Changes)
	}
	if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message, "because it would change nothing") {
		t.Fatalf("findings: %v", res.Findings)
	}
}

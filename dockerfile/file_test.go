package dockerfile

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// span describes what the model says about one instruction.
type span struct {
	line, end int
	text      string // Src[KeywordStart:ContentEnd]
	logical   string
}

func TestInstructionSpans(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []span
	}{
		{
			name: "continuation with comment lines and blank lines",
			src:  "FROM alpine\nRUN a && \\\n    # explain b\n\n    b\n\n# between\ncmd [\"x\"]\n",
			want: []span{
				{1, 1, "FROM alpine", "FROM alpine"},
				{2, 5, "RUN a && \\\n    # explain b\n\n    b", "RUN a &&     b"},
				{8, 8, `cmd ["x"]`, `cmd ["x"]`},
			},
		},
		{
			name: "CRLF and indented instruction",
			src:  "FROM alpine\r\n  RUN echo \\\r\n  hi\r\n",
			want: []span{
				{1, 1, "FROM alpine", "FROM alpine"},
				{2, 3, "RUN echo \\\r\n  hi", "RUN echo   hi"},
			},
		},
		{
			name: "backtick escape",
			src:  "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver\nRUN dir `\n  c:\\\n",
			want: []span{
				{2, 2, "FROM mcr.microsoft.com/windows/nanoserver", "FROM mcr.microsoft.com/windows/nanoserver"},
				{3, 4, "RUN dir `\n  c:\\", "RUN dir   c:\\"},
			},
		},
		{
			name: "heredocs",
			src:  "FROM alpine\nRUN <<EOF\necho a\nEOF\nCOPY <<A <<-B /x/\none\nA\n\t two\n\tB\nRUN true\n",
			want: []span{
				{1, 1, "FROM alpine", "FROM alpine"},
				{2, 4, "RUN <<EOF\necho a\nEOF", "RUN <<EOF"},
				{5, 9, "COPY <<A <<-B /x/\none\nA\n\t two\n\tB", "COPY <<A <<-B /x/"},
				{10, 10, "RUN true", "RUN true"},
			},
		},
		{
			name: "BOM, directives and no final newline",
			src:  "\ufeff# syntax=docker/dockerfile:1\nARG V=1\nFROM alpine:${V}\nRUN true",
			want: []span{
				{2, 2, "ARG V=1", "ARG V=1"},
				{3, 3, "FROM alpine:${V}", "FROM alpine:${V}"},
				{4, 4, "RUN true", "RUN true"},
			},
		},
		{
			name: "escaped escape is not a continuation",
			src:  "FROM alpine\nRUN echo a\\\\\nRUN echo b\n",
			want: []span{
				{1, 1, "FROM alpine", "FROM alpine"},
				{2, 2, `RUN echo a\\`, `RUN echo a\\`},
				{3, 3, "RUN echo b", "RUN echo b"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.src)
			if len(f.Instructions) != len(tt.want) {
				t.Fatalf("got %d instructions, want %d", len(f.Instructions), len(tt.want))
			}
			for i, w := range tt.want {
				ins := f.Instructions[i]
				got := span{ins.Line, ins.EndLine, ins.Text(), ins.Logical().Text}
				if got != w {
					t.Errorf("instruction %d:\n got %+v\nwant %+v", i, got, w)
				}
				if ins.Start != f.LineStart(ins.Line) || ins.End != f.lines.end(ins.EndLine) {
					t.Errorf("instruction %d: span [%d,%d) does not cover lines %d-%d", i, ins.Start, ins.End, ins.Line, ins.EndLine)
				}
			}
		})
	}
}

func TestLogicalMapsBackToSource(t *testing.T) {
	src := "FROM alpine\nRUN apk add \\\n  # tools\n  curl \\\n  git\n"
	f := mustParse(t, src)
	lg := f.Instructions[1].Logical()
	for i := 0; i < len(lg.Text); i++ {
		if src[lg.Orig(i)] != lg.Text[i] {
			t.Fatalf("logical byte %d (%q) maps to source byte %q", i, lg.Text[i], src[lg.Orig(i)])
		}
	}
	if got := lg.OrigEnd(len(lg.Text)); src[got-3:got] != "git" {
		t.Errorf("end of text maps to %d, want just after git", got)
	}
}

func TestStagesAndArgs(t *testing.T) {
	f := mustParse(t, "ARG PY=3.12\nARG BASE\nFROM python:${PY}-slim AS Build\nRUN true\nFROM build\nFROM scratch\nCOPY --from=0 /a /a\n")
	if len(f.GlobalArgs) != 2 || len(f.Stages) != 3 {
		t.Fatalf("got %d global args and %d stages", len(f.GlobalArgs), len(f.Stages))
	}
	ref, expanded, isImage := f.Stages[0].Image()
	if ref != "python:3.12-slim" || !expanded || !isImage {
		t.Errorf("stage 0 image = %q %v %v", ref, expanded, isImage)
	}
	if f.Stages[0].Name != "build" || f.StageByName("BUILD") != f.Stages[0] || f.StageByName("0") != f.Stages[0] {
		t.Errorf("stage names: %q", f.Stages[0].Name)
	}
	if f.Stages[1].Parent() != f.Stages[0] {
		t.Error("FROM build should have stage 0 as parent")
	}
	if _, _, isImage := f.Stages[2].Image(); isImage {
		t.Error("scratch is not an image")
	}
	if s, ok := f.ExpandGlobalArgs("x${BASE:-dflt}y$PY"); s != "xdflty3.12" || !ok {
		t.Errorf("ExpandGlobalArgs = %q %v", s, ok)
	}
	if _, ok := f.ExpandGlobalArgs("${MISSING}"); ok {
		t.Error("an undeclared variable must not count as expanded")
	}
	if _, ok := f.ExpandGlobalArgs("python:${BASE}"); ok {
		t.Error("an ARG without a default must not count as expanded")
	}
	if f.FinalStage() != f.Stages[2] || f.InstructionAt(4).Keyword != "run" || f.InstructionAt(100) != nil {
		t.Error("FinalStage or InstructionAt wrong")
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"empty", "", 0, "file is empty"},
		{"blank", "\ufeff \n\n", 0, "file is empty"},
		{"binary", "FROM alpine\nRUN \x00\x01", 2, "binary data"},
		{"utf8", "FROM alpine\nRUN echo \xff\xfe\n", 2, "invalid UTF-8"},
		{"unknown", "FROM alpine\nFOO bar\n", 2, "unknown instruction: FOO"},
		{"no from", "RUN true\n", 1, "no build stage"},
		{"only comments", "# nothing\n# here\n", 0, "no instructions"},
		{"unterminated heredoc", "FROM alpine\nRUN <<EOF\necho\n", 2, "unterminated heredoc"},
		{"huge", "FROM alpine\n" + strings.Repeat("#", MaxSize), 0, "over the 10 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("Dockerfile", []byte(tt.src))
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want *Error", err)
			}
			if de.Line != tt.line || !strings.Contains(de.Msg, tt.msg) || de.File != "Dockerfile" {
				t.Errorf("got %q (line %d), want line %d containing %q", err, de.Line, tt.line, tt.msg)
			}
		})
	}
}

func TestStyleDetection(t *testing.T) {
	f := mustParse(t, "from alpine\r\nrun a \\\r\n  && b\r\ncmd [\"a\",\"b\"]\r\n")
	st := f.Style
	if !st.Lower || st.EOL != "\r\n" || st.Indent != "  " || !st.LeadingOps || st.JSONSpace {
		t.Errorf("style = %+v", st)
	}
	if got := st.JSONArray([]string{"a<b", `c"d`}); got != `["a<b","c\"d"]` {
		t.Errorf("JSONArray = %s", got)
	}
	if got := st.Chain([]string{"x", "y"}); got != "x \\\r\n  && y" {
		t.Errorf("Chain = %q", got)
	}
	if got := DefaultStyle.Instruction("user", "app"); got != "USER app" {
		t.Errorf("Instruction = %q", got)
	}
}

func TestDirectivesAndHeader(t *testing.T) {
	f := mustParse(t, "# syntax=docker/dockerfile:1\n# check=skip=all\n\nFROM alpine\n")
	if len(f.Directives) != 2 || f.Directives[1].Name != "check" {
		t.Fatalf("directives = %+v", f.Directives)
	}
	if got := string(f.Src[:f.HeaderEnd()]); got != "# syntax=docker/dockerfile:1\n# check=skip=all\n" {
		t.Errorf("header = %q", got)
	}
}

// WorkdirPath reads a WORKDIR as BuildKit does: quotes and escapes go,
// variables make it unknown.
func TestWorkdirPath(t *testing.T) {
	for _, c := range []struct {
		src, want string
		ok        bool
	}{
		{"FROM a\nWORKDIR /app\n", "/app", true},
		{"FROM a\nWORKDIR \"/app\"\n", "/app", true},
		{"FROM a\nWORKDIR '/srv/my app'\n", "/srv/my app", true},
		{"FROM a\nWORKDIR /srv/my\\ app\n", "/srv/my app", true},
		{"# escape=`\nFROM a\nWORKDIR \"C:\\app\"\n", "C:\\app", true},
		{"FROM a\nWORKDIR $HOME/app\n", "", false},
		{"FROM a\nWORKDIR \"${APP_DIR}\"\n", "", false},
		{"FROM a\nWORKDIR '$literal'\n", "$literal", true},
		{"FROM a\nRUN true\n", "", false},
	} {
		f, err := Parse("Dockerfile", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.Instructions[len(f.Instructions)-1].WorkdirPath()
		if got != c.want || ok != c.ok {
			t.Errorf("%q: WorkdirPath = %q, %v; want %q, %v", c.src, got, ok, c.want, c.ok)
		}
	}
}

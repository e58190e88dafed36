package dockerfile

import (
	"strings"
	"testing"
)

// TestRemove removes `apk update` from RUNs laid out the ways real
// Dockerfiles write them, and checks that the rest of the script keeps its
// commands and operators and still parses.
func TestRemove(t *testing.T) {
	tests := []struct {
		name, src, want, err string
	}{
		{name: "alone", src: "RUN apk update\n", want: ""},
		{name: "first on one line",
			src:  "RUN apk update && apk add --no-cache curl\n",
			want: "RUN apk add --no-cache curl\n"},
		{name: "middle on one line",
			src:  "RUN set -eux && apk update && apk add --no-cache curl\n",
			want: "RUN set -eux && apk add --no-cache curl\n"},
		{name: "last on one line",
			src:  "RUN apk add --no-cache curl && apk update\n",
			want: "RUN apk add --no-cache curl\n"},
		{name: "semicolons first",
			src:  "RUN apk update; apk add --no-cache curl\n",
			want: "RUN apk add --no-cache curl\n"},
		{name: "semicolons middle",
			src:  "RUN set -eux; apk update; apk add --no-cache curl\n",
			want: "RUN set -eux; apk add --no-cache curl\n"},
		{name: "semicolon then chain",
			src:  "RUN set -eux; apk update && apk add --no-cache curl\n",
			want: "RUN set -eux; apk add --no-cache curl\n"},
		{name: "trailing operators first",
			src:  "RUN apk update && \\\n    apk add --no-cache curl\n",
			want: "RUN apk add --no-cache curl\n"},
		{name: "leading operators first",
			src:  "RUN apk update \\\n    && apk add --no-cache curl\n",
			want: "RUN apk add --no-cache curl\n"},
		{name: "leading operators first of many",
			src:  "RUN apk update \\\n  && apk add --no-cache \\\n       curl \\\n       git \\\n  && rm -rf /tmp/*\n",
			want: "RUN apk add --no-cache \\\n       curl \\\n       git \\\n  && rm -rf /tmp/*\n"},
		{name: "leading operators middle",
			src:  "RUN set -ex \\\n    && apk update \\\n    && apk add --no-cache curl\n",
			want: "RUN set -ex \\\n    && apk add --no-cache curl\n"},
		{name: "trailing operators middle",
			src:  "RUN set -ex && \\\n    apk update && \\\n    apk add --no-cache curl\n",
			want: "RUN set -ex && \\\n    apk add --no-cache curl\n"},
		{name: "leading operators last",
			src:  "RUN apk add --no-cache curl \\\n    && apk update\n",
			want: "RUN apk add --no-cache curl\n"},
		{name: "semicolons on continued lines",
			src:  "RUN set -ex; \\\n    apk update; \\\n    apk add --no-cache curl\n",
			want: "RUN set -ex; \\\n    apk add --no-cache curl\n"},
		{name: "own line for RUN",
			src:  "RUN \\\n    apk update && \\\n    apk add --no-cache curl\n",
			want: "RUN \\\n    apk add --no-cache curl\n"},
		{name: "comment between, leading operators",
			src:  "RUN apk update \\\n    # the tools we need\n    && apk add --no-cache curl\n",
			want: "RUN \\\n    # the tools we need\n    apk add --no-cache curl\n"},
		{name: "comment between, trailing operators",
			src:  "RUN apk update && \\\n    # the tools we need\n    apk add --no-cache curl\n",
			want: "RUN \\\n    # the tools we need\n    apk add --no-cache curl\n"},
		{name: "comment before the middle, leading operators",
			src:  "RUN set -ex \\\n    # refresh the index\n    && apk update \\\n    && apk add --no-cache curl\n",
			want: "RUN set -ex \\\n    # refresh the index\n    && apk add --no-cache curl\n"},
		{name: "comment before the middle, trailing operators",
			src:  "RUN set -ex && \\\n    # refresh the index\n    apk update && \\\n    apk add --no-cache curl\n",
			want: "RUN set -ex && \\\n    # refresh the index\n    apk add --no-cache curl\n"},
		{name: "comment after the middle, mixed operators",
			src:  "RUN set -ex && \\\n    apk update \\\n    # then install\n    && apk add --no-cache curl\n",
			want: "RUN set -ex \\\n    # then install\n    && apk add --no-cache curl\n"},
		{name: "comment before the middle, mixed operators",
			src:  "RUN set -ex && \\\n    # refresh the index\n    apk update \\\n    && apk add --no-cache curl\n",
			want: "RUN set -ex && \\\n    # refresh the index\n    apk add --no-cache curl\n"},
		{name: "comment lines on both sides",
			src:  "RUN set -ex \\\n    # one\n    && apk update \\\n    # two\n    && apk add --no-cache curl\n",
			want: "RUN set -ex \\\n    # one\n    # two\n    && apk add --no-cache curl\n"},
		{name: "flags stay",
			src:  "RUN --mount=type=cache,target=/etc/apk/cache apk update \\\n    # note\n    && apk add curl\n",
			want: "RUN --mount=type=cache,target=/etc/apk/cache \\\n    # note\n    apk add curl\n"},
		{name: "CRLF",
			src:  "RUN set -ex \\\r\n    && apk update \\\r\n    && apk add --no-cache curl\r\n",
			want: "RUN set -ex \\\r\n    && apk add --no-cache curl\r\n"},
		{name: "backtick escape",
			src:  "# escape=`\nRUN set -ex `\n    # c\n    && apk update `\n    && apk add --no-cache curl\n",
			want: "# escape=`\nRUN set -ex `\n    # c\n    && apk add --no-cache curl\n"},
		{name: "heredoc script",
			src:  "RUN <<EOF\nset -ex\napk update\napk add --no-cache curl\nEOF\n",
			want: "RUN <<EOF\nset -ex\napk add --no-cache curl\nEOF\n"},
		{name: "heredoc script, first line, comment",
			src:  "RUN <<EOF\napk update\n# tools\napk add --no-cache curl\nEOF\n",
			want: "RUN <<EOF\n# tools\napk add --no-cache curl\nEOF\n"},
		{name: "or before", src: "RUN false || apk update && apk add curl\n", err: "||"},
		{name: "or after", src: "RUN apk update || true && apk add curl\n", err: "||"},
		{name: "background", src: "RUN sleep 1 & apk update; apk add curl\n", err: "&"},
		{name: "piped", src: "RUN apk update | tee log && apk add curl\n", err: "nested"},
		{name: "nested", src: "RUN if true; then apk update; fi && apk add curl\n", err: "nested"},
		{name: "last after a comment", src: "RUN apk add curl \\\n  # c\n  && apk update\n", err: "last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "FROM alpine:3.20\n" + tt.src
			if strings.HasPrefix(tt.src, "# escape") {
				src = strings.Replace(tt.src, "\nRUN", "\nFROM alpine:3.20\nRUN", 1)
			}
			f, err := Parse("Dockerfile", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			c := findCommand(t, f, "update")
			edits, err := c.Remove()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Remove: err = %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := Apply(f.Src, edits)
			if err != nil {
				t.Fatal(err)
			}
			want := "FROM alpine:3.20\n" + tt.want
			if strings.HasPrefix(tt.src, "# escape") {
				want = strings.Replace(tt.want, "\nRUN", "\nFROM alpine:3.20\nRUN", 1)
			}
			if string(out) != want {
				t.Fatalf("got:\n%s\nwant:\n%s", out, want)
			}
			g, err := Parse("Dockerfile", out)
			if err != nil {
				t.Fatal(err)
			}
			for _, ins := range g.Instructions {
				if ins.Keyword == "run" {
					if _, err := ins.Script(); err != nil {
						t.Fatalf("the RUN no longer parses as shell: %v", err)
					}
				}
			}
		})
	}
}

// findCommand returns the first command in the file's RUNs whose words
// include word.
func findCommand(t *testing.T, f *File, word string) *Command {
	t.Helper()
	for _, ins := range f.Instructions {
		if ins.Keyword != "run" {
			continue
		}
		s, err := ins.Script()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Commands {
			for _, a := range c.Args {
				if a == word {
					return c
				}
			}
		}
	}
	t.Fatalf("no command with %q", word)
	return nil
}

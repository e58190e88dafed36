package dockerfile

import (
	"strings"
	"testing"
)

func TestSteps(t *testing.T) {
	src := "FROM alpine:3.20\nRUN set -eux; \\\n    X=1 apk add --no-cache curl \\\n    && echo \"$(date)\" | tee log || true\n"
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Instructions[1].Script()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range s.Steps() {
		got = append(got, strings.Join(st.Words, " ")+" ["+st.Before+" , "+st.After+"] "+string(f.Src[st.Start:st.End]))
	}
	want := []string{
		"set -eux [ , ;] set -eux",
		"X=1 apk add --no-cache curl [; , &&] X=1 apk add --no-cache curl",
		`echo "$(date)" [&& , |] echo "$(date)"`,
		`date [echo"$( , )"] date`,
		"tee log [| , ||] tee log",
		"true [|| , ] true",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d steps:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

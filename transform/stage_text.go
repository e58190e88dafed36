package transform

import (
	"strconv"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// Structural rules rebuild a stage from its own pieces. A chunk is one
// instruction with the comment and blank lines directly above it, so that
// comments travel with the instruction they describe and carried-over
// instructions keep their bytes exactly.
type chunk struct {
	ins  *dockerfile.Instruction
	lead string // comment and blank lines between the previous instruction and this one
	text string // the instruction's own lines, ending with a line terminator
}

// stageChunks splits a stage into chunks. The FROM chunk has no lead: what
// precedes a stage's FROM stays where it is.
func stageChunks(f *dockerfile.File, st *dockerfile.Stage) []chunk {
	out := make([]chunk, 0, len(st.Instructions))
	prevEnd := st.From.Start
	for _, ins := range st.Instructions {
		c := chunk{ins: ins, lead: string(f.Src[prevEnd:ins.Start]), text: string(f.Src[ins.Start:ins.End])}
		if !strings.HasSuffix(c.text, "\n") {
			c.text += f.Style.EOL
		}
		out = append(out, c)
		prevEnd = ins.End
	}
	return out
}

// stageEnd is the offset just past a stage's last instruction.
func stageEnd(st *dockerfile.Stage) int {
	return st.Instructions[len(st.Instructions)-1].End
}

// fromLine renders a FROM instruction: flags, image and optional stage name,
// with "AS" in the file's casing.
func fromLine(style dockerfile.Style, flags []string, image, name string) string {
	args := image
	if len(flags) > 0 {
		args = strings.Join(flags, " ") + " " + image
	}
	if name != "" {
		as := "AS"
		if style.Lower {
			as = "as"
		}
		args += " " + as + " " + name
	}
	return style.Instruction("FROM", args)
}

// uniqueStageName returns want, or want-2, want-3, ... when a stage of the
// file already uses the name.
func uniqueStageName(f *dockerfile.File, want string) string {
	name := want
	for n := 2; f.StageByName(name) != nil; n++ {
		name = want + "-" + strconv.Itoa(n)
	}
	return name
}

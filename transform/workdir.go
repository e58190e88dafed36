package transform

import (
	"path"

	"github.com/harden-dev/harden/dockerfile"
)

// workdirAfter is the working directory after ins, given wd before it. A
// WORKDIR's path is read as BuildKit reads it (`WORKDIR "/app"` is /app,
// never a folder named with quotes) and joined to wd when relative. Other
// instructions, and a WORKDIR built from variables harden does not follow,
// leave wd as it was.
func workdirAfter(wd string, ins *dockerfile.Instruction) string {
	p, ok := ins.WorkdirPath()
	switch {
	case !ok:
		return wd
	case path.IsAbs(p):
		return path.Clean(p)
	}
	return path.Join(wd, p)
}

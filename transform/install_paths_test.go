package transform

import (
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// TestInstallsFindTheirManifests checks, for every Dockerfile in the
// testdata with a build context, that each file a dependency install reads
// (pip's -r and -c files, package.json for npm, yarn, pnpm and bun, the
// Gemfile for bundle install) is put at exactly that path by a COPY before
// the install, in the output whenever it was in the input. Rules that move
// installs and copies (deps-before-source, the splits) must keep the paths
// an install reads and the paths the copies write the same, relative to
// the WORKDIR in force.
func TestInstallsFindTheirManifests(t *testing.T) {
	checked := 0
	for _, c := range testCorpus(t) {
		if c.context == "" {
			continue
		}
		in, err := dockerfile.Parse(c.name, c.src)
		if err != nil {
			continue
		}
		opts := corpusOptions(t, c)
		if len(missingManifests(in, opts.Context)) > 0 {
			continue // the input itself reads what it never copies
		}
		res, err := Fix(c.name, c.src, opts)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		checked++
		for _, miss := range missingManifests(res.File, opts.Context) {
			t.Errorf("%s: %s\n%s", c.name, miss, res.Output)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files checked", checked)
	}
}

// missingManifests lists the installs of f that read a file no earlier
// COPY of the stage (or the stages it builds on) puts where they read it.
func missingManifests(f *dockerfile.File, ctx *buildctx.Context) []string {
	var out []string
	for _, st := range f.Stages {
		for _, run := range st.Instructions {
			if run.Keyword != "run" {
				continue
			}
			wd := workdirBefore(run)
			for _, p := range manifestsRead(run, wd) {
				if !copiedInto(f, st, run, p, ctx) {
					out = append(out, fmt.Sprintf("the RUN on line %d reads %s, which no COPY before it puts there", run.Line, p))
				}
			}
		}
	}
	return out
}

// manifestsRead lists the image paths of the manifests a RUN's installs
// read. RUNs that change directory are left out: where they read is not
// the WORKDIR.
func manifestsRead(run *dockerfile.Instruction, wd string) []string {
	sc, err := run.Script()
	if err != nil || sc.Form == dockerfile.ExecForm {
		return nil
	}
	var out []string
	for _, c := range sc.Commands {
		if c.Name() == "cd" || c.Name() == "pushd" {
			return nil
		}
		switch {
		case nodeInstall(c) != "":
			out = append(out, joinWorkdir(wd, "package.json"))
		case c.Name() == "bundle" && firstSub(c) == "install":
			out = append(out, joinWorkdir(wd, "Gemfile"))
		default:
			at, ok := pipInstall(c)
			if !ok {
				continue
			}
			for i := at + 1; i+1 < c.NArgs(); i++ {
				switch a, _ := c.Arg(i); a {
				case "-r", "--requirement", "-c", "--constraint":
					if file, lit := c.Arg(i + 1); lit {
						out = append(out, joinWorkdir(wd, file))
					}
				}
			}
		}
	}
	return out
}

// copiedInto reports whether a COPY before ins in st, or anywhere in the
// stages st builds on, puts a context file at image path p. A COPY from
// another stage or image is trusted for everything under its destination.
func copiedInto(f *dockerfile.File, st *dockerfile.Stage, ins *dockerfile.Instruction, p string, ctx *buildctx.Context) bool {
	for s := st; s != nil; s = s.Parent() {
		for _, cp := range s.Instructions {
			if s == st && cp.Index >= ins.Index {
				break
			}
			if cp.Keyword != "copy" && cp.Keyword != "add" {
				continue
			}
			if copyPuts(cp, workdirBefore(cp), p, ctx) {
				return true
			}
		}
	}
	return false
}

// copyPuts follows COPY's rules for one instruction: a folder source puts
// its contents under the destination, a file source goes to the
// destination itself, or into it when the destination is a folder (it ends
// in "/", there are several sources, or it is the WORKDIR).
func copyPuts(cp *dockerfile.Instruction, wd, p string, ctx *buildctx.Context) bool {
	args := cp.Args()
	if len(args) < 2 {
		return false
	}
	srcs, dest := args[:len(args)-1], args[len(args)-1]
	destAbs := joinWorkdir(wd, dest)
	if _, from := cp.Flag("from"); from {
		return underDir(p, destAbs)
	}
	destIsDir := strings.HasSuffix(dest, "/") || len(srcs) > 1 || destAbs == wd
	for _, src := range srcs {
		clean := strings.TrimPrefix(path.Clean("/"+src), "/")
		if clean == "" {
			clean = "."
		}
		files := []string{clean}
		if strings.ContainsAny(clean, "*?[") {
			files, _ = ctx.Glob(clean)
		}
		for _, file := range files {
			if inside, _ := ctx.Glob(path.Join(file, "*")); file == "." || len(inside) > 0 {
				if underDir(p, destAbs) && ctx.Exists(path.Join(file, strings.TrimPrefix(strings.TrimPrefix(p, destAbs), "/"))) {
					return true
				}
				continue
			}
			target := destAbs
			if destIsDir {
				target = path.Join(destAbs, path.Base(file))
			}
			if p == target && ctx.Exists(file) {
				return true
			}
		}
	}
	return false
}

package transform

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// Helpers shared by the report-only security and hygiene rules: what the
// shipped image starts from, and which shell programs download or run code.

// finalChain returns the final stage and the stages it builds on, nearest
// first: everything that ends up in the image `docker build` produces.
func finalChain(f *dockerfile.File) []*dockerfile.Stage {
	var out []*dockerfile.Stage
	for st := f.FinalStage(); st != nil; st = st.Parent() {
		out = append(out, st)
	}
	return out
}

// chainImage is the image a stage chain starts from.
type chainImage struct {
	Ref     string // as written after global ARG expansion; "" for scratch
	Scratch bool
	// Known is false when the reference uses an ARG without a default.
	Known bool
}

// rootImage follows a stage to the image its chain starts from.
func rootImage(st *dockerfile.Stage) chainImage {
	for st.Parent() != nil {
		st = st.Parent()
	}
	ref, expanded, isImage := st.Image()
	if !isImage {
		return chainImage{Scratch: true, Known: true}
	}
	return chainImage{Ref: ref, Known: expanded}
}

// noProbeTools reports whether a base image cannot run a health probe:
// Windows images (other rules apply) and images without a shell, such as
// distroless and Chainguard's static image. detect's image table decides.
func noProbeTools(ref string) bool {
	facts := detect.Image(ref)
	return facts.Distro == "windows" || facts.Shell == detect.TriNo
}

// downloaders fetch URLs to standard output or a file.
var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true}

// shells are programs that run shell code given on standard input.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

var interpreterName = lazyre.New(`^(python[0-9.]*|perl|ruby|node|php[0-9.]*)$`)

// isInterpreter reports whether a program runs code: a shell or a language
// runtime that reads a script from standard input.
func isInterpreter(name string) bool {
	return shells[name] || interpreterName().MatchString(name)
}

// readsStdin reports whether an interpreter command runs the script it reads
// on standard input: it names no script file, or names "-" or -s.
func readsStdin(c *dockerfile.Command) bool {
	for i := 1; i < c.NArgs(); i++ {
		a, lit := c.Arg(i)
		if !lit {
			return false
		}
		switch {
		case a == "-" || a == "-s" || a == "--":
			return true
		case a == "-c" || (a == "-e" || a == "-m") && !shells[c.Name()]:
			return false // the code is an argument, not the input
		case strings.HasPrefix(a, "-"):
			continue
		default:
			return false // a script file
		}
	}
	return true
}

// commandsByStmt indexes a script's commands by their shell statement.
func commandsByStmt(s *dockerfile.Script) map[*syntax.Stmt]*dockerfile.Command {
	out := make(map[*syntax.Stmt]*dockerfile.Command, len(s.Commands))
	for _, c := range s.Commands {
		if c.Stmt != nil {
			out[c.Stmt] = c
		}
	}
	return out
}

// pipelines returns every pipeline in a script as its stages in order
// (a | b | c gives [a b c]), including pipelines nested inside a stage.
func pipelines(s *dockerfile.Script) [][]*syntax.Stmt {
	var out [][]*syntax.Stmt
	if s.AST != nil {
		collectPipelines(s.AST, &out)
	}
	return out
}

func collectPipelines(n syntax.Node, out *[][]*syntax.Stmt) {
	syntax.Walk(n, func(n syntax.Node) bool {
		b, ok := n.(*syntax.BinaryCmd)
		if !ok || b.Op != syntax.Pipe && b.Op != syntax.PipeAll {
			return true
		}
		stages := flattenPipe(b)
		*out = append(*out, stages)
		for _, st := range stages {
			collectPipelines(st, out)
		}
		return false
	})
}

func flattenPipe(b *syntax.BinaryCmd) []*syntax.Stmt {
	var out []*syntax.Stmt
	for _, side := range []*syntax.Stmt{b.X, b.Y} {
		if inner, ok := side.Cmd.(*syntax.BinaryCmd); ok && (inner.Op == syntax.Pipe || inner.Op == syntax.PipeAll) && len(side.Redirs) == 0 && !side.Negated {
			out = append(out, flattenPipe(inner)...)
			continue
		}
		out = append(out, side)
	}
	return out
}

// literalArgs are a command's literal words after the program.
func literalArgs(c *dockerfile.Command) []string {
	var out []string
	for i := 1; i < c.NArgs(); i++ {
		if a, lit := c.Arg(i); lit {
			out = append(out, a)
		}
	}
	return out
}

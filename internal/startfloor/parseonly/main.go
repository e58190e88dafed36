// Command parseonly parses one Dockerfile with the libraries harden cannot
// do without, and does nothing else; see package startfloor.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/spf13/cobra"
	"mvdan.cc/sh/v3/syntax"
)

func main() {
	root := &cobra.Command{
		Use:  "parseonly DOCKERFILE",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			ast, err := parser.Parse(bytes.NewReader(src))
			if err != nil {
				return err
			}
			stages, _, err := instructions.Parse(ast.AST, linter.New(&linter.Config{}))
			if err != nil {
				return err
			}
			scripts := 0
			for _, st := range stages {
				for _, cmd := range st.Commands {
					if run, ok := cmd.(*instructions.RunCommand); ok && run.PrependShell {
						if _, err := syntax.NewParser().Parse(bytes.NewReader([]byte(run.CmdLine[0])), ""); err == nil {
							scripts++
						}
					}
				}
			}
			diffs := diffmatchpatch.New().DiffMain(string(src), string(src), false)
			fmt.Fprintf(c.OutOrStdout(), "%d stages, %d shell scripts, %d diff ops\n", len(stages), scripts, len(diffs))
			return nil
		},
	}
	if err := root.Execute(); err != nil {
		os.Exit(2)
	}
}

package cmd

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X github.com/harden-dev/harden/cmd.version=v1.2.3");
// otherwise the module version from the build info is used.
var version = ""

// Version returns harden's version string.
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// commands are harden's subcommands, by name.
var commands = []struct {
	name  string
	build func(*Streams) *cobra.Command
}{
	{"fix", func(s *Streams) *cobra.Command { return NewCmdFix(s, nil) }},
	{"check", func(s *Streams) *cobra.Command { return NewCmdCheck(s, nil) }},
	{"rules", func(s *Streams) *cobra.Command { return NewCmdRules(s, nil) }},
	{"detect", func(s *Streams) *cobra.Command { return NewCmdDetect(s, nil) }},
	{"ignore", func(s *Streams) *cobra.Command { return NewCmdIgnore(s, nil) }},
	{"new", func(s *Streams) *cobra.Command { return NewCmdNew(s, nil) }},
	{"report", func(s *Streams) *cobra.Command { return NewCmdReport(s, nil) }},
	{"version", newCmdVersion},
}

// NewRootCmd builds the harden command tree.
func NewRootCmd(s *Streams) *cobra.Command {
	return newRootCmd(s, "")
}

// newRootCmd builds the tree with every command, or with only the one
// named. Building all commands' flags and help is a measurable share of a
// one-file harden fix, and a run that names its command needs no other:
// its help and errors read the same. Help, completion and misspelt names
// get the whole tree.
func newRootCmd(s *Streams, only string) *cobra.Command {
	root := &cobra.Command{
		Use:   "harden",
		Short: "Harden Dockerfiles: smaller images, non-root users, clean caches, proven by BuildKit",
		Long: `harden turns an insecure, bloated Dockerfile into a production-grade one and explains
every change: builder and slim runtime stages, a non-root user, package-manager cache hygiene
and a .dockerignore. Lines no rule touches stay byte for byte, and a second run changes nothing.`,
		Example: `  harden fix --diff Dockerfile       # review the hardened version as a unified diff
  harden fix --write .               # apply it in place
  harden fix --check services/*/     # CI: exit 1 when anything would change`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetVersionTemplate("harden {{.Version}}\n")
	for _, c := range commands {
		if only == "" || c.name == only {
			root.AddCommand(c.build(s))
		}
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitFailure, err: err}
	})
	return root
}

func newCmdVersion(s *Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print harden's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(s.Out, "harden %s\n", Version())
			return nil
		},
	}
}

// Main runs harden with args from the process and returns the exit code.
func Main(s *Streams) int {
	return Run(s, nil)
}

// Run runs harden with explicit arguments (nil means os.Args[1:]).
func Run(s *Streams, args []string) int {
	if args == nil {
		args = os.Args[1:]
	}
	root := newRootCmd(s, commandNamed(args))
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if !errors.As(err, &e) || e.err != nil {
		fmt.Fprintf(s.ErrOut, "harden: %v\n", err)
	}
	return codeOf(err)
}

// commandNamed is the subcommand args start with, or "" when they start
// with anything else (a flag, help, completion, a typo).
func commandNamed(args []string) string {
	if len(args) == 0 {
		return ""
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.name
		}
	}
	return ""
}

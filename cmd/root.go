package cmd

import (
	"errors"
	"fmt"
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

// NewRootCmd builds the harden command tree.
func NewRootCmd(s *Streams) *cobra.Command {
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
	root.AddCommand(
		NewCmdFix(s, nil),
		NewCmdCheck(s, nil),
		NewCmdRules(s, nil),
		NewCmdDetect(s, nil),
		NewCmdIgnore(s, nil),
		NewCmdNew(s, nil),
		NewCmdReport(s, nil),
		newCmdVersion(s),
	)
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
	root := NewRootCmd(s)
	if args != nil {
		root.SetArgs(args)
	}
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

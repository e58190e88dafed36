package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/internal/safewrite"
)

// IgnoreOptions are the flags and arguments of `harden ignore`.
type IgnoreOptions struct {
	Streams *Streams

	Path       string
	File       string
	ContextDir string
	Write      bool
	Format     string
	Ecosystems []string
	Quiet      bool
}

// NewCmdIgnore builds `harden ignore`. runF replaces the run function in
// tests.
func NewCmdIgnore(s *Streams, runF func(*IgnoreOptions) error) *cobra.Command {
	opts := &IgnoreOptions{Streams: s}
	c := &cobra.Command{
		Use:   "ignore [flags] [PATH]",
		Short: "Generate the .dockerignore that keeps secrets and leftovers out of the build context",
		Long: `ignore plans the ignore file for a Dockerfile: secrets and credentials, version control
history, dependencies installed on the host, caches, logs, editor and OS litter, Docker files,
and build output the Dockerfile rebuilds itself stay out of the build context.

It never hides what the Dockerfile reads: every COPY, ADD and RUN --mount=type=bind source
(with ARG defaults expanded, wildcards included) is checked against the final patterns with
the matcher BuildKit uses, and an entry that would hide one is left out or followed by a
re-inclusion ("!path"). An existing ignore file is merged, never rewritten: its lines,
comments, negations and line endings stay as they are, new entries are appended under one
"# Added by harden" comment, and a second run changes nothing.

The file is the one BuildKit reads: <name>.dockerignore beside the Dockerfile, else the
context's .dockerignore; a new one is .dockerignore for a Dockerfile named Dockerfile and
<name>.dockerignore for any other name.

PATH is a folder (its Dockerfile, or --file) or a Dockerfile; the default is the current
folder. The planned file is printed on standard output (or written with --write), and what
was added and why, the secrets found, and the build context size before and after on
standard error. --write writes through a symbolic link only to a file inside the
repository (the git checkout, else PATH), and refuses one that leads outside.

Exit codes: 0 success, 2 usage or input error.`,
		Example: `  harden ignore                         # print the planned .dockerignore for ./Dockerfile
  harden ignore --write services/api    # write it (atomically) next to services/api/Dockerfile
  harden ignore --file api.Dockerfile . # plan api.Dockerfile.dockerignore
  harden ignore --format json .         # the plan, reasons and sizes for machines`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Path = folderArg(args)
			if runF != nil {
				return runF(opts)
			}
			return ignoreRun(opts)
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&opts.Write, "write", "w", false, "write the ignore file (atomically) instead of printing it")
	fl.StringVar(&opts.Format, "format", "text", "output format: text (the file, reasons on standard error) or json")
	fl.StringVar(&opts.File, "file", "", "the Dockerfile (default: PATH/Dockerfile)")
	fl.StringVar(&opts.ContextDir, "context", "", "build context folder (default: the Dockerfile's folder)")
	fl.StringSliceVar(&opts.Ecosystems, "ecosystem", nil, "the project's ecosystems, comma-separated: "+strings.Join(ignore.Ecosystems, ", ")+" (default: detected)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not explain on standard error")
	return c
}

func ignoreRun(opts *IgnoreOptions) error {
	if opts.Format != "text" && opts.Format != "json" {
		return usageError("unknown format %q (want text or json)", opts.Format)
	}
	for _, e := range opts.Ecosystems {
		if !slices.Contains(ignore.Ecosystems, e) {
			return usageError("unknown ecosystem %q (want one of %s)", e, strings.Join(ignore.Ecosystems, ", "))
		}
	}
	dfPath, err := ignoreTarget(opts.Path, opts.File)
	if err != nil {
		return usageError("%v", err)
	}
	res, err := planIgnore(dfPath, opts.ContextDir, ignore.Options{Ecosystems: opts.Ecosystems})
	if err != nil {
		return &exitError{code: ExitFailure, err: err}
	}
	s := opts.Streams
	written := false
	if opts.Write && res.Changed() {
		if err := safewrite.File(res.Path, res.New, ignoreFolder(opts.Path, dfPath)); err != nil {
			return &exitError{code: ExitFailure, err: err}
		}
		written = true
	}
	switch {
	case opts.Format == "json":
		if err := writeIgnoreJSON(s.Out, res, written); err != nil {
			return err
		}
	case !opts.Write:
		if _, err := s.Out.Write(res.New); err != nil {
			return err
		}
	}
	if !opts.Quiet {
		explainIgnore(s.ErrOut, res, opts.Write, written)
	}
	return nil
}

// ignoreTarget finds the Dockerfile: --file as given (like docker build
// -f), else PATH when it is a file, else PATH/Dockerfile.
func ignoreTarget(path, file string) (string, error) {
	if file != "" {
		return file, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	df := filepath.Join(path, "Dockerfile")
	if _, err := os.Stat(df); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: no Dockerfile in this folder (name one with --file)", path)
	}
	return df, nil
}

// ignoreFolder is the folder being processed: PATH when it is a folder,
// else the Dockerfile's.
func ignoreFolder(path, dfPath string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return path
	}
	return filepath.Dir(dfPath)
}

// planIgnore reads and parses the Dockerfile and plans its ignore file.
// Without --ecosystem, detection names the ecosystems, as in harden fix, so
// that both commands plan the same file.
func planIgnore(dfPath, contextDir string, opts ignore.Options) (*ignore.Result, error) {
	t := target{path: dfPath}
	src, name, err := readTarget(t, nil)
	if err != nil {
		return nil, err
	}
	df, err := dockerfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	if opts.Ecosystems == nil {
		ctx, err := openContext(t, contextDir)
		if err != nil {
			return nil, fmt.Errorf("%s: build context: %w", name, err)
		}
		opts.Ecosystems = detect.Detect(ctx, df).Ecosystems()
	}
	res, err := ignore.ForDockerfile(dfPath, contextDir, df, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dfPath, err)
	}
	return res, nil
}

// explainIgnore prints each reason, secret, warning and the size line,
// prefixed with the ignore file's path.
func explainIgnore(w io.Writer, res *ignore.Result, write, written bool) {
	for _, l := range res.Explain() {
		fmt.Fprintf(w, "%s: %s\n", res.Path, l)
	}
	switch {
	case !res.Changed():
		fmt.Fprintf(w, "%s: nothing to add\n", res.Path)
	case written:
		fmt.Fprintf(w, "%s: written\n", res.Path)
	case !write:
		fmt.Fprintf(w, "%s: not written (use --write)\n", res.Path)
	}
}

// ignoreJSON is the plan as `harden ignore --format json` prints it.
type ignoreJSON struct {
	*ignore.Result
	Exists  bool   `json:"exists"`
	Changed bool   `json:"changed"`
	Written bool   `json:"written"`
	Content string `json:"content"`
}

func writeIgnoreJSON(w io.Writer, res *ignore.Result, written bool) error {
	v := ignoreJSON{Result: res, Exists: res.Old != nil, Changed: res.Changed(), Written: written, Content: string(res.New)}
	for _, list := range []*[]ignore.Change{&v.Added, &v.Skipped} {
		if *list == nil {
			*list = []ignore.Change{}
		}
	}
	if v.Secrets == nil {
		v.Secrets = []ignore.SecretOutcome{}
	}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

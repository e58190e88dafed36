package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/runmodel"
)

// DetectOptions are the flags and arguments of `harden detect`.
type DetectOptions struct {
	Streams *Streams

	Path       string
	Format     string
	ContextDir string
}

// NewCmdDetect builds `harden detect`. runF replaces the run function in tests.
func NewCmdDetect(s *Streams, runF func(*DetectOptions) error) *cobra.Command {
	opts := &DetectOptions{Streams: s}
	c := &cobra.Command{
		Use:   "detect [flags] [PATH]",
		Short: "Show what application a Dockerfile or folder holds",
		Long: `detect reports what harden knows about an application: its ecosystem, framework,
package manager, the versions to pin, how it starts and on which port, and what
each base image of the Dockerfile provides (distro, shell, package manager,
non-root user). Every conclusion cites the file and line it comes from, and
disagreements between the Dockerfile and the project are listed as conflicts.

PATH is a folder (default: the current one; its Dockerfile is read when there is
one) or a Dockerfile. The build context is the Dockerfile's folder unless
--context names another, as in a monorepo built from its root.

Exit codes: 0 success (also when the ecosystem is unknown), 2 usage or input error.`,
		Example: `  harden detect                                   # the current folder
  harden detect --format json services/api        # for scripts: "ecosystem" is python, node, go, ...
  harden detect --context . services/api/Dockerfile`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Path = folderArg(args)
			if runF != nil {
				return runF(opts)
			}
			return detectRun(opts)
		},
	}
	fl := c.Flags()
	fl.StringVar(&opts.Format, "format", "text", "output format: text or json")
	fl.StringVar(&opts.ContextDir, "context", "", "build context folder (default: the Dockerfile's folder)")
	return c
}

func detectRun(opts *DetectOptions) error {
	switch opts.Format {
	case "text", "json":
	default:
		return usageError("unknown format %q (want text or json)", opts.Format)
	}
	res, err := detect.DirWithContext(opts.Path, opts.ContextDir)
	if err != nil {
		return &exitError{code: ExitFailure, err: err}
	}
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.Streams.Out)
		enc.SetEscapeHTML(false) // ">=3.12", not "\u003e=3.12"
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return writeDetectText(opts.Streams.Out, res)
}

// writeDetectText prints a result for people: the conclusions first, then
// the base images, conflicts, evidence and notes.
func writeDetectText(out io.Writer, r *detect.Result) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s\t%s\n", k, v)
		}
	}
	row("ecosystem", string(r.Ecosystem))
	row("confidence", fmt.Sprintf("%.2f", r.Confidence))
	row("dockerfile", r.Dockerfile)
	row("context", r.Context)
	if r.Root != "." {
		row("app folder", r.Root)
	}
	row("framework", r.Framework)
	row("package manager", r.PackageManager)
	row("versions", versionsText(r.Versions))
	if e := r.Entrypoint; e != nil {
		row("entrypoint", string(e.Kind)+" "+e.Value)
	}
	if r.Port > 0 {
		row("port", fmt.Sprint(r.Port))
	}
	if len(r.Also) > 0 {
		also := make([]string, len(r.Also))
		for i, e := range r.Also {
			also[i] = string(e)
		}
		row("also", strings.Join(also, ", "))
	}
	row(string(r.Ecosystem), factsText(r))
	if err := w.Flush(); err != nil {
		return err
	}
	if len(r.Base) > 0 {
		fmt.Fprintln(out, "\nbase images")
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, img := range r.Base {
			fmt.Fprintf(tw, "  line %d\tstage %s\t%s\t%s\n", img.Line, img.Stage, img.Ref, imageText(img))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	section(out, "conflicts", r.Conflicts)
	section(out, "at run time (final stage)", runtimeLines(r.Runtime))
	section(out, "evidence", evidenceLines(r.Evidence))
	section(out, "notes", evidenceLines(r.Notes))
	return nil
}

// runtimeLines render the model of the running app: what it writes and
// why, its home, ports, users, what needs root and what harden cannot tell.
func runtimeLines(m *runmodel.Model) []string {
	if m == nil {
		return nil
	}
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if len(m.Command) > 0 {
		add("command: %s (runs %s)", strings.Join(m.Command, " "), strings.Join(m.Programs, ", "))
	}
	add("working directory: %s", m.Workdir)
	if m.User != "" {
		add("user: %s", m.User)
	} else {
		add("user: root")
	}
	for _, w := range m.Writes {
		kind := map[runmodel.WriteKind]string{runmodel.CreatesIn: "creates files in", runmodel.Modifies: "writes",
			runmodel.MakesDir: "makes", runmodel.MakesDirOnce: "makes (fails if it exists)"}[w.Kind]
		vol := ""
		if w.Volume {
			vol = " (volume)"
		}
		add("%s %s%s: %s", kind, w.Path, vol, w.Why.String())
	}
	if m.Home != nil {
		add("uses its home folder: %s", m.Home.String())
	}
	for _, p := range m.Ports {
		add("port %d (%s): %s", p.Number, p.Setting, p.Why.String())
	}
	for _, u := range m.Users {
		from := "this stage"
		switch {
		case u.Stage != "":
			from = "stage " + u.Stage
		case u.Why.File == "":
			from = "the base image"
		}
		add("user %s (%s), home %s, from %s", u.Name, u.Ref(), u.Home, from)
	}
	if m.RunAsUser != nil {
		add("deployments run it as uid %d: %s", m.RunAsUser.Number, m.RunAsUser.Why.String())
	}
	for _, d := range m.Drops {
		add("%s starts as root and switches user itself (%s): %s", d.Server, d.Setting, d.Why.String())
	}
	for _, e := range m.NeedsRoot {
		add("needs root: %s", e.String())
	}
	for _, u := range m.RootHome {
		add("reads from /root: %s", u.Why.String())
	}
	for _, e := range m.Unknown {
		add("cannot tell: %s", e.String())
	}
	return out
}

func section(out io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(out, "\n%s\n", title)
	for _, l := range lines {
		fmt.Fprintf(out, "  %s\n", l)
	}
}

func evidenceLines(evs []detect.Evidence) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		at := e.File
		if e.Line > 0 {
			at = fmt.Sprintf("%s:%d", e.File, e.Line)
		}
		out = append(out, at+": "+e.Why)
	}
	return out
}

func versionsText(vs map[string]detect.Version) string {
	keys := make([]string, 0, len(vs))
	for k := range vs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := vs[k]
		s := k + " " + v.Version
		if v.Constraint != "" {
			s += " (" + v.Constraint + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// factsText lists the set fields of the ecosystem's own facts, named as
// in the JSON output, so that text and JSON never drift apart.
func factsText(r *detect.Result) string {
	v := reflect.ValueOf(r).Elem().FieldByNameFunc(func(name string) bool {
		f, _ := reflect.TypeOf(*r).FieldByName(name)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return tag == string(r.Ecosystem)
	})
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return ""
	}
	v = v.Elem()
	var parts []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		switch fv.Kind() {
		case reflect.Bool:
			parts = append(parts, name)
		case reflect.Slice:
			items := make([]string, fv.Len())
			for j := range items {
				items[j] = fmt.Sprint(fv.Index(j).Interface())
			}
			parts = append(parts, name+" "+strings.Join(items, " "))
		default:
			parts = append(parts, fmt.Sprintf("%s %v", name, fv.Interface()))
		}
	}
	return strings.Join(parts, ", ")
}

// imageText summarises what a base image provides.
func imageText(img detect.ImageFacts) string {
	if img.FromStage != "" {
		return "builds on stage " + img.FromStage
	}
	if !img.Known {
		s := "unknown image: harden has no facts about it"
		if img.Variable {
			s += " (the reference uses ARGs without defaults)"
		}
		return s
	}
	var parts []string
	distro := img.Distro
	if distro == "unknown" {
		distro = "OS unknown"
	}
	if img.DistroRelease != "" {
		distro += " " + img.DistroRelease
	}
	if img.Variant != "" && img.Variant != img.Distro {
		distro += " " + img.Variant
	}
	parts = append(parts, distro)
	if img.Runtime != "" {
		parts = append(parts, strings.TrimSpace(img.Runtime+" "+img.RuntimeVersion))
	}
	if img.Flavor != "" {
		parts = append(parts, img.Flavor)
	}
	switch img.Shell {
	case detect.TriYes:
		parts = append(parts, "shell")
	case detect.TriNo:
		parts = append(parts, "no shell")
	}
	if img.PackageManager != "unknown" {
		parts = append(parts, "packages: "+img.PackageManager)
	}
	switch {
	case img.User != nil && img.NonRootDefault:
		parts = append(parts, "runs as "+userText(img.User))
	case img.User != nil:
		parts = append(parts, "ships user "+userText(img.User)+", runs as root")
	default:
		parts = append(parts, "no non-root user")
	}
	return strings.Join(parts, ", ")
}

func userText(u *detect.ImageUser) string {
	if u.Name == "" {
		return fmt.Sprintf("uid %d", u.UID)
	}
	return fmt.Sprintf("%s (%d)", u.Name, u.UID)
}

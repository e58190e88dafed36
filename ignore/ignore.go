// Package ignore generates the .dockerignore that keeps a build context
// clean: secrets, version-control history, host dependencies, caches and
// build leftovers stay out, and nothing a COPY or ADD in the Dockerfile
// reads is ever hidden.
//
// The file lists what the context holds, not a catalogue: an entry is
// written only when it keeps something out that would be sent, except for
// the secret patterns every new file gets (dotenv files, private keys,
// Terraform state), so a three-file app gets a couple of dozen lines.
//
// The generator merges with the ignore file already in force (its lines,
// comments, negations and line endings are kept, new entries are appended
// under one marked comment for what it still sends, and a second run
// changes nothing), checks every
// context source of the Dockerfile against the final patterns with
// github.com/moby/patternmatcher, and measures what the context sends before
// and after by walking it as fsutil's filter does, the code BuildKit's
// client runs to send a local context.
package ignore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// MaxFileSize bounds the ignore file harden reads and merges with.
const MaxFileSize = 1 << 20

// File is the ignore file in force for a Dockerfile, or where a new one
// belongs.
type File struct {
	// Path is the file on disk.
	Path string
	// Data is the current content; nil when the file does not exist.
	Data []byte
	// Shared is set for the context's .dockerignore, which every Dockerfile
	// without its own <name>.dockerignore reads.
	Shared bool
}

// Locate finds the ignore file BuildKit reads for the Dockerfile at
// dockerfilePath built with the context folder contextDir ("" means the
// Dockerfile's folder): <name>.dockerignore beside the Dockerfile, else the
// context's .dockerignore. With neither, a Dockerfile named Dockerfile gets
// the conventional .dockerignore and any other name its own
// <name>.dockerignore, so that ignoring for one Dockerfile never changes
// what another sends.
func Locate(dockerfilePath, contextDir string) (*File, error) {
	dir, base := filepath.Dir(dockerfilePath), filepath.Base(dockerfilePath)
	if contextDir == "" {
		contextDir = dir
	}
	own := filepath.Join(dir, base+".dockerignore")
	shared := filepath.Join(contextDir, ".dockerignore")
	for _, cand := range []*File{{Path: own}, {Path: shared, Shared: true}} {
		data, err := readIgnoreFile(cand.Path)
		if err != nil {
			return nil, err
		}
		if data != nil {
			cand.Data = data
			return cand, nil
		}
	}
	if base == "Dockerfile" {
		return &File{Path: shared, Shared: true}, nil
	}
	return &File{Path: own}, nil
}

func readIgnoreFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not an ignore file", path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, over the %d KiB harden reads for an ignore file", path, st.Size(), MaxFileSize>>10)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// Options are what the caller knows about the project.
type Options struct {
	// Context, when it is the build context being planned, lends the
	// listing that harden's secrets scan (FindSecretsIn) made of it, so a
	// fix reads each folder once between the two; a large context (a
	// node_modules) made that the most of a run.
	Context *buildctx.Context
	// Ecosystems of the project: "python", "node", "go", "java", "ruby",
	// "rust", "php", "dotnet", "static". nil means infer them from marker
	// files at the context root (package.json, pyproject.toml, go.mod,
	// ...), a fallback for callers without harden's detection.
	Ecosystems []string
	// BuildOutputs are context folders the Dockerfile rebuilds itself
	// (e.g. "dist"); stale copies are excluded. nil means infer the usual
	// ones from the build commands the Dockerfile runs.
	BuildOutputs []string
	// Siblings are other Dockerfiles that read the same ignore file; what
	// they copy is protected too.
	Siblings []*dockerfile.File
	// MaxEntries bounds each walk of the context; 0 means
	// DefaultMaxEntries.
	MaxEntries int
}

// Change is one pattern harden added, or chose not to add, and why.
type Change struct {
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
	// Excludes is what an added entry keeps out of the context now; nil
	// when it matches nothing yet (it guards against future files).
	Excludes *Size `json:"excludes,omitempty"`
}

// SecretOutcome is a secret-looking file the old ignore file let through,
// and what the new one does about it.
type SecretOutcome struct {
	Secret
	// Excluded reports whether the new ignore file keeps it out.
	Excluded bool `json:"excluded"`
	// Reason says why it is still sent, when it is.
	Reason string `json:"reason,omitempty"`
}

// Result is the planned ignore file for one Dockerfile. Nothing is written.
type Result struct {
	// Path is where the ignore file goes.
	Path string `json:"path"`
	// Shared is set when it is the context's .dockerignore.
	Shared bool `json:"shared"`
	// Old is the current content, nil when the file does not exist.
	Old []byte `json:"-"`
	// New is the merged content.
	New []byte `json:"-"`
	// Ecosystems are those the entries were chosen for; Inferred says
	// they came from marker files rather than the caller.
	Ecosystems []string `json:"ecosystems"`
	Inferred   bool     `json:"ecosystems_inferred"`
	// Added lists the appended patterns (re-inclusions start with "!").
	Added []Change `json:"added"`
	// Skipped lists entries harden left out because the build needs what
	// they would hide.
	Skipped []Change `json:"skipped"`
	// Secrets are the secret-looking files the old ignore file let through.
	Secrets []SecretOutcome `json:"secrets"`
	// Warnings are sources harden could not check and conflicts in the
	// user's own lines that it left alone.
	Warnings []string `json:"warnings"`
	// Before and After are what the context sends with the old and the new
	// ignore file.
	Before Size `json:"before"`
	After  Size `json:"after"`
	// Partial is set when a walk stopped at MaxEntries: the sizes are then
	// lower bounds.
	Partial bool `json:"partial"`
}

// Changed reports whether the ignore file would change.
func (r *Result) Changed() bool {
	return r.Old == nil && r.New != nil || string(r.Old) != string(r.New)
}

// ForDockerfile plans the ignore file for the Dockerfile at dockerfilePath
// (parsed as df, typically after harden's fixes) built with contextDir (""
// means the Dockerfile's folder). It is the one call `harden fix` and
// `harden ignore` make per Dockerfile; nothing is written.
func ForDockerfile(dockerfilePath, contextDir string, df *dockerfile.File, opts Options) (*Result, error) {
	file, err := Locate(dockerfilePath, contextDir)
	if err != nil {
		return nil, err
	}
	if contextDir == "" {
		contextDir = filepath.Dir(dockerfilePath)
	}
	st, err := os.Stat(contextDir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: build context is not a folder", contextDir)
	}
	var tree *contextTree
	if opts.Context != nil && opts.Context.Dir != "" && sameDir(opts.Context.Dir, contextDir) {
		tree = sharedTree(opts.Context)
	} else {
		// os.DirFS answers Stat(".") with this same stat of the folder.
		tree = newContextTree(os.DirFS(contextDir)).withRoot(st)
	}
	var warnings []string
	if file.Shared && opts.Siblings == nil {
		opts.Siblings, warnings = siblings(tree, dockerfilePath, contextDir, df.Name)
	}
	res, err := generate(tree, contextDir, df, file, opts)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, warnings...)
	return res, nil
}

// siblings parses the other Dockerfiles in the Dockerfile's folder that
// read the shared .dockerignore (those without their own ignore file), when
// that folder is the context (tree). They are named like the Dockerfile's
// own display name (shown), in its folder.
func siblings(tree *contextTree, dockerfilePath, contextDir, shown string) ([]*dockerfile.File, []string) {
	dir := filepath.Dir(dockerfilePath)
	if !sameDir(dir, contextDir) {
		return nil, nil
	}
	var names []string
	if entries, ok := tree.rootEntries(); ok { // the walks list it anyway
		names = make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.entry.Name())
		}
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, []string{fmt.Sprintf("%s: cannot list the other Dockerfiles sharing .dockerignore: %v", dir, err)}
		}
		names = make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	var out []*dockerfile.File
	var warnings []string
	sort.Strings(names)
	for _, name := range names {
		if name == filepath.Base(dockerfilePath) || !isDockerfileName(name) {
			continue
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p + ".dockerignore"); err == nil {
			continue // it has its own ignore file
		}
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() > dockerfile.MaxSize {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: not checked against the shared .dockerignore: %v", p, err))
			continue
		}
		f, err := dockerfile.Parse(filepath.Join(filepath.Dir(shown), name), src)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("not checked against the shared .dockerignore: %v", err))
			continue
		}
		out = append(out, f)
	}
	return out, warnings
}

func sameDir(a, b string) bool {
	if a == b {
		return true // the usual case, without asking for the working folder twice
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// isDockerfileName recognises Dockerfile, Dockerfile.*, *.Dockerfile and
// *.dockerfile, but not ignore files or harden's temporary files.
func isDockerfileName(name string) bool {
	if strings.HasSuffix(name, ".dockerignore") || strings.Contains(name, ".harden-") {
		return false
	}
	return name == "Dockerfile" || strings.HasPrefix(name, "Dockerfile.") || strings.HasSuffix(name, ".Dockerfile") || strings.HasSuffix(name, ".dockerfile")
}

// contextRelative is the path of file inside the context folder dir, in
// the form the walks use; ok is false when dir is unknown or file lies
// outside it.
func contextRelative(dir, file string) (string, bool) {
	if dir == "" || file == "" {
		return "", false
	}
	rel, err := filepath.Rel(dir, file)
	if err != nil {
		aDir, err1 := filepath.Abs(dir)
		aFile, err2 := filepath.Abs(file)
		if err1 != nil || err2 != nil {
			return "", false
		}
		if rel, err = filepath.Rel(aDir, aFile); err != nil {
			return "", false
		}
	}
	rel = filepath.ToSlash(rel)
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

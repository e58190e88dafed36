package cmd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/harden-dev/harden/internal/safewrite"
)

// target is one Dockerfile to process.
type target struct {
	path  string // as given or found; "-" for stdin
	stdin bool
	// root is the folder named on the command line that the file was
	// found in, or the file's own folder when the file itself was named:
	// the "repository" that --write may change when there is no git
	// checkout around it.
	root string
}

// skipDirs are never walked with --recursive: they hold dependencies and
// history, not the project's Dockerfiles.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".venv": true, "venv": true, "__pycache__": true, "target": true}

// fixtureDirs hold test inputs (golden files, sample projects), which a
// test compares byte for byte: --recursive leaves them alone, as the go
// command skips testdata, unless the path named on the command line is
// one of them or inside one. "fixtures" covers test/fixtures and
// spec/fixtures alike.
var fixtureDirs = map[string]bool{"testdata": true, "fixtures": true, "__fixtures__": true}

// findTargets expands the command-line paths. A folder means its
// Dockerfile; with all, also *.Dockerfile and Dockerfile.* beside it; with
// recursive, the same in every subfolder. Paths that do not exist are
// returned as errors so that the other files are still processed.
func findTargets(paths []string, all, recursive bool) ([]target, []error) {
	var out []target
	var errs []error
	for _, p := range paths {
		if p == "-" {
			out = append(out, target{path: "-", stdin: true})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			if broken := safewrite.BrokenLink(p); broken != nil {
				err = broken // names the path, as errorPath expects
			}
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			out = append(out, target{path: p, root: filepath.Dir(p)})
			continue
		}
		found, skipped, err := dockerfilesIn(p, all, recursive)
		if err != nil {
			errs = append(errs, err)
		}
		if len(found) == 0 && err == nil {
			errs = append(errs, noDockerfileError(p, skipped))
		}
		for _, f := range found {
			out = append(out, target{path: f, root: p})
		}
	}
	return out, errs
}

// noDockerfileError says that a folder holds no Dockerfile, and why the
// ones under test-fixture folders were not counted.
func noDockerfileError(dir string, skipped []string) error {
	if len(skipped) == 0 {
		return fmt.Errorf("%s: no Dockerfile in this folder", dir)
	}
	return fmt.Errorf("%s: no Dockerfile outside test fixtures (--recursive skipped %s; name a fixture folder to process it)", dir, joinAnd(skipped))
}

// dockerfilesIn lists the Dockerfiles in dir (and its subfolders when
// recursive), and the test-fixture folders the walk left out. A symbolic
// link to a Dockerfile counts, as docker build follows it, unless the
// walk also finds the file it points to: each file is fixed once. A link
// whose target is missing is listed too, so that it is reported.
func dockerfilesIn(dir string, all, recursive bool) (found, skipped []string, err error) {
	// A fixture folder named on the command line, or one inside it, is
	// what the user asked for: its own fixtures are walked too.
	keepFixtures := false
	for _, elem := range strings.Split(filepath.ToSlash(filepath.Clean(dir)), "/") {
		keepFixtures = keepFixtures || fixtureDirs[elem]
	}
	// WalkDir does not enter a root that is a link to a folder: walk the
	// folder it leads to, and name what is found under the link.
	walkRoot := dir
	if st, err := os.Lstat(dir); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		if walkRoot, err = filepath.EvalSymlinks(dir); err != nil {
			return nil, nil, err
		}
	}
	var links []string
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == walkRoot {
			return nil // dir itself
		}
		if walkRoot != dir {
			rel, _ := filepath.Rel(walkRoot, p)
			p = filepath.Join(dir, rel)
		}
		if d.IsDir() {
			if !recursive || skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			if fixtureDirs[d.Name()] && !keepFixtures {
				skipped = append(skipped, p)
				return filepath.SkipDir
			}
			return nil
		}
		if !isDockerfileName(d.Name(), all) {
			return nil
		}
		switch {
		case d.Type().IsRegular():
			found = append(found, p)
		case d.Type()&fs.ModeSymlink != 0:
			st, err := os.Stat(p)
			switch {
			case err != nil:
				found = append(found, p) // a broken link: reading it says why
			case st.Mode().IsRegular():
				links = append(links, p)
			}
		}
		return nil
	})
	found = append(found, dropSameFiles(links, found)...)
	sort.Strings(found)
	return found, skipped, err
}

// dropSameFiles keeps the links that lead to a file not already in files
// (nor reached by an earlier link).
func dropSameFiles(links, files []string) []string {
	seen := map[string]bool{}
	for _, f := range files {
		if real, err := filepath.EvalSymlinks(f); err == nil {
			seen[real] = true
		}
	}
	var out []string
	for _, l := range links {
		real, err := filepath.EvalSymlinks(l)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		out = append(out, l)
	}
	return out
}

// isDockerfileName recognises Dockerfile, and with all the common variants
// (api.Dockerfile, Dockerfile.prod), but never ignore files or harden's
// own temporary files.
func isDockerfileName(name string, all bool) bool {
	if name == "Dockerfile" {
		return true
	}
	if !all || strings.HasSuffix(name, ".dockerignore") || strings.Contains(name, ".harden-") {
		return false
	}
	return strings.HasSuffix(name, ".Dockerfile") || strings.HasPrefix(name, "Dockerfile.")
}

// folderArg is the optional PATH argument of detect, ignore and new: the
// current folder when it is left out.
func folderArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

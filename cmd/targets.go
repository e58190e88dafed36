package cmd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// target is one Dockerfile to process.
type target struct {
	path  string // as given or found; "-" for stdin
	stdin bool
}

// skipDirs are never walked with --recursive: they hold dependencies and
// history, not the project's Dockerfiles.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".venv": true, "venv": true, "__pycache__": true, "target": true}

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
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			out = append(out, target{path: p})
			continue
		}
		found, err := dockerfilesIn(p, all, recursive)
		if err != nil {
			errs = append(errs, err)
		}
		if len(found) == 0 && err == nil {
			errs = append(errs, fmt.Errorf("%s: no Dockerfile in this folder", p))
		}
		for _, f := range found {
			out = append(out, target{path: f})
		}
	}
	return out, errs
}

func dockerfilesIn(dir string, all, recursive bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (!recursive || skipDirs[d.Name()]) {
				return filepath.SkipDir
			}
			return nil
		}
		if isDockerfileName(d.Name(), all) && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
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

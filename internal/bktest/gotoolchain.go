package bktest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// GoToolchain is a golang image with a real Go toolchain: the host's GOROOT
// (the go command on PATH, the one running the tests) at /usr/local/go on
// the Debian-like stand-in base, with the official image's environment.
// Unlike the Golang stand-in, whose go command only makes a canned server,
// it compiles real programs; a build that uses it fetches modules from the
// Go module proxy over the host's network (buildkitd's worker uses the
// host's network, and the base carries the host's CA certificates).
type GoToolchain struct {
	Image v1.Image
	// Version is the toolchain's version without the "go" prefix, e.g. "1.26.8".
	Version string
}

// HostGoToolchain builds the GoToolchain image from the host's Go. The
// GOROOT layer is made once per process: it is the size of a Go install.
func HostGoToolchain() (*GoToolchain, error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT GOVERSION: %w", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		return nil, fmt.Errorf("go env GOROOT GOVERSION printed %q", out)
	}
	goroot, version := fields[0], strings.TrimPrefix(fields[1], "go")
	layers := make([]v1.Layer, 0, 4)
	for _, k := range []string{"busybox", "etc-debian", "accounts-debian"} {
		l, err := cachedLayer(k, layerFiles[k])
		if err != nil {
			return nil, fmt.Errorf("go toolchain image: %w", err)
		}
		layers = append(layers, l)
	}
	l, err := cachedLayer("goroot:"+goroot, func() ([]File, error) { return gorootFiles(goroot) })
	if err != nil {
		return nil, fmt.Errorf("go toolchain image: %w", err)
	}
	layers = append(layers, l)
	// The official golang image's settings: GOTOOLCHAIN=local, so a go.mod
	// asking for a newer Go fails instead of downloading one.
	img, err := Image(v1.Config{
		Env: []string{
			"PATH=/go/bin:/usr/local/go/bin:" + defaultPath,
			"GOLANG_VERSION=" + version, "GOTOOLCHAIN=local", "GOPATH=/go",
		},
		WorkingDir: "/go",
		Cmd:        []string{"bash"},
	}, layers...)
	if err != nil {
		return nil, err
	}
	return &GoToolchain{Image: img, Version: version}, nil
}

// gorootFiles lists a Go installation as layer entries under /usr/local/go,
// keeping file modes (the go command and its tools are executables) and
// symlinks.
func gorootFiles(goroot string) ([]File, error) {
	var files []File
	files = append(files,
		File{Path: "/go", Dir: true, Mode: 0o777},
		File{Path: "/go/bin", Dir: true, Mode: 0o777},
		File{Path: "/go/src", Dir: true, Mode: 0o777},
	)
	err := filepath.WalkDir(goroot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(goroot, p)
		if err != nil {
			return err
		}
		dst := filepath.ToSlash(filepath.Join("/usr/local/go", rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			files = append(files, File{Path: dst, Dir: true, Mode: info.Mode().Perm()})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files = append(files, File{Path: dst, Link: target})
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files = append(files, File{Path: dst, Data: data, Mode: info.Mode().Perm()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("GOROOT %s: %w", goroot, err)
	}
	return files, nil
}

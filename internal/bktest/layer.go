package bktest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of a layer made in memory.
type File struct {
	// Path inside the image, e.g. "/usr/local/bin/python3".
	Path string
	Data []byte
	// Mode holds permission bits; zero means 0644 for files and 0755 for directories.
	Mode fs.FileMode
	Dir  bool
	// Link makes the entry a symlink to Link.
	Link     string
	UID, GID int
}

// layerTime is every entry's mtime, so identical content gives identical
// layer digests from run to run.
var layerTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Layer packs files into a gzip-compressed OCI layer. Parent directories
// that are not listed are added (0755, root-owned) before their children.
func Layer(files ...File) (v1.Layer, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	written := map[string]bool{}
	var writeDir func(p string) error
	writeDir = func(p string) error {
		if p == "." || p == "/" || p == "" || written[p] {
			return nil
		}
		if err := writeDir(path.Dir(p)); err != nil {
			return err
		}
		written[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, ModTime: layerTime, Format: tar.FormatPAX})
	}
	for _, f := range files {
		name := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if name == "" {
			return nil, fmt.Errorf("layer entry %q: empty path", f.Path)
		}
		if err := writeDir(path.Dir(name)); err != nil {
			return nil, err
		}
		hdr := &tar.Header{Name: name, ModTime: layerTime, Uid: f.UID, Gid: f.GID, Format: tar.FormatPAX}
		mode := f.Mode
		switch {
		case f.Dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
			if mode == 0 {
				mode = 0o755
			}
			written[name] = true
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, mode = tar.TypeSymlink, f.Link, 0o777
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Data))
			if mode == 0 {
				mode = 0o644
			}
		}
		hdr.Mode = int64(mode.Perm())
		for bit, flag := range map[fs.FileMode]int64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
			if mode&bit != 0 {
				hdr.Mode |= flag
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", f.Path, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	// BestSpeed: much of the content is random on purpose and does not shrink.
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := io.Copy(zw, &raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	data := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// Image stacks layers on an empty OCI image for this machine's platform,
// with cfg as its runtime config.
func Image(cfg v1.Config, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: layerTime}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// RandomBytes returns n bytes from crypto/rand: content that does not
// compress, so compressed and uncompressed sizes both mean something.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// BusyboxPath is where Debian's busybox-static installs a static busybox.
const BusyboxPath = "/bin/busybox"

// busyboxFiles returns a static busybox with a symlink for each applet at
// the path `busybox --list-full` names, which is what `busybox --install -s`
// creates. The binary must be static: it has to run in images that have no
// C library.
func busyboxFiles() ([]File, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("busybox: %w (install it: apt-get install busybox-static)", err)
	}
	if err := requireStatic(BusyboxPath); err != nil {
		return nil, err
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list-full: %w", err)
	}
	files := []File{{Path: "/bin/busybox", Data: bin, Mode: 0o755}}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "bin/busybox" {
			continue
		}
		files = append(files, File{Path: "/" + applet, Link: "/bin/busybox"})
	}
	return files, nil
}

func requireStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; install Debian's busybox-static instead of busybox", p)
		}
	}
	return nil
}

// hostCACerts returns the host's CA bundle, so RUN steps in images built on
// these bases trust what the host trusts (including a TLS-intercepting proxy).
func hostCACerts() []File {
	data, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return nil
	}
	return []File{{Path: "/etc/ssl/certs/ca-certificates.crt", Data: data}}
}

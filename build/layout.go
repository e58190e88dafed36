package build

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
)

// layoutWriter receives the OCI exporter's tar stream and unpacks it into an
// OCI layout directory as it arrives, so the tar never sits on disk.
type layoutWriter struct {
	dir  string
	mu   sync.Mutex
	done chan error
}

// open is the exporter's output callback; BuildKit calls it once, when the
// export starts, and closes the writer when the image is written.
func (l *layoutWriter) open(map[string]string) (io.WriteCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return nil, errors.New("OCI exporter opened its output twice")
	}
	pr, pw := io.Pipe()
	l.done = make(chan error, 1)
	go func() {
		err := untarLayout(pr, l.dir)
		// Fail BuildKit's writes if unpacking failed; drain otherwise.
		pr.CloseWithError(err)
		l.done <- err
	}()
	return pw, nil
}

// wait returns once the stream is unpacked.
func (l *layoutWriter) wait() error {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	if done == nil {
		return errors.New("BuildKit exported no image")
	}
	return <-done
}

// untarLayout writes the directories and regular files of an OCI layout tar
// (oci-layout, index.json, blobs/...) under dir; anything else is refused.
func untarLayout(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if name == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if d := path.Dir(name); d != "." {
				if err := root.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			f, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		default:
			return fmt.Errorf("unexpected entry %s (type %c) in the OCI export", hdr.Name, hdr.Typeflag)
		}
	}
}

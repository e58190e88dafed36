//go:build unix

package safewrite

import (
	"io/fs"
	"os"
	"syscall"
)

// chownLike gives f the owner of the file it replaces. It only succeeds
// as root; otherwise the new file is the caller's, as it would be anyway.
func chownLike(f *os.File, st fs.FileInfo) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(sys.Uid), int(sys.Gid))
	}
}

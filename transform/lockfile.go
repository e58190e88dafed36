package transform

import (
	"path"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// lockState says whether a lockfile-respecting install is provably safe.
type lockState int

const (
	lockUnknown   lockState = iota // no build context to look at
	lockMissing                    // the context has no lockfile
	lockNotCopied                  // the lockfile exists but is not in the image yet
	lockReady                      // the lockfile is copied before the install
)

// lockfileFor decides whether the RUN at ins can rely on lockfile name. It
// looks for the manifest-bearing COPY sources before ins to find which
// folder of the context the install runs on, then for the lockfile there.
func lockfileFor(p *Pass, ins *dockerfile.Instruction, name string) (lockState, string) {
	if p.Context == nil {
		return lockUnknown, name
	}
	candidates := []string{name}
	before(p.File, ins, func(prev *dockerfile.Instruction) bool {
		if prev.Keyword != "copy" && prev.Keyword != "add" {
			return true
		}
		if _, fromStage := prev.Flag("from"); fromStage {
			return true
		}
		args := prev.Args()
		for _, src := range args[:max(0, len(args)-1)] {
			if dir := path.Dir(strings.TrimPrefix(path.Clean("/"+src), "/")); dir != "." && dir != "/" && strings.Contains(src, "package") {
				candidates = append(candidates, path.Join(dir, name))
			}
		}
		return true
	})
	state := lockMissing
	for _, lock := range candidates {
		if !p.Context.Sent(lock) {
			continue
		}
		if copiedBefore(p.File, ins, lock) {
			return lockReady, lock
		}
		state = lockNotCopied
	}
	return state, name
}

// lockAdvice turns a lock state into the advice of a finding without a fix.
func lockAdvice(state lockState, lock, install string) string {
	switch state {
	case lockUnknown:
		return "harden cannot see the build context to check for " + lock + "; with a committed lockfile use " + install
	case lockMissing:
		return "the build context has no " + lock + ": commit one so installs are reproducible, then use " + install
	default:
		return lock + " is not copied into the image before this RUN: copy it with the manifest, then use " + install
	}
}

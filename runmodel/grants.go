package runmodel

import (
	"path"
	"slices"
	"strings"
)

// Grants are what a user must own so that the app can do what the model
// says it writes: folders to make (if missing) and own, without their
// contents, so that files already in them stay read-only (Dirs), and
// paths to own with everything in them (Trees). Reasons says each path
// with why, paths with the same reason grouped ("/rails/log, /rails/tmp
// (Rails' caches ...)"). harden fix and harden new both grant through it.
type Grants struct {
	Dirs, Trees []string
	Reasons     []string
}

// Empty reports whether nothing needs granting.
func (g Grants) Empty() bool { return len(g.Dirs) == 0 && len(g.Trees) == 0 }

// GrantsFor works out the grants for user, whose home is home (its
// contents are the user's already), skipping what own says the Dockerfile
// already gives the user. VOLUME and compose mounts are included: whether
// to touch them is the caller's decision. It fails with the reason when a
// write lands in a folder of the system, which harden never hands out.
func (m *Model) GrantsFor(user User, home string, own *Ownership) (Grants, string) {
	var g Grants
	// The app's own folder may lie in a system tree (/usr/src/app); it and
	// what is below it are the app's, not the system's.
	blocked := func(p string) bool {
		if AppFolder(m.Workdir) && Under(p, m.Workdir) {
			return false
		}
		return SystemFolder(p)
	}
	var reasons []string
	byReason := map[string][]string{}
	add := func(list *[]string, p string, w Write) {
		if slices.Contains(*list, p) {
			return
		}
		*list = append(*list, p)
		r := shortWhy(w.Why)
		if _, seen := byReason[r]; !seen {
			reasons = append(reasons, r)
		}
		byReason[r] = append(byReason[r], p)
	}
	mine := func(p string) bool {
		return home != "" && Under(p, home) || worldWritable(p)
	}
	writes := append([]Write(nil), m.Writes...)
	slices.SortStableFunc(writes, func(a, b Write) int {
		return strings.Count(a.Path, "/") - strings.Count(b.Path, "/")
	})
	for _, w := range writes {
		p := w.Path
		if mine(p) {
			continue
		}
		// A folder the app makes inside one it can already write needs
		// nothing: the app makes it itself.
		if (w.Kind == MakesDir || w.Kind == MakesDirOnce) && !w.Copied && (slices.Contains(g.Dirs, path.Dir(p)) || mine(path.Dir(p))) {
			continue
		}
		if own != nil && (user.UID >= 0 || user.Name != "") {
			if ok, _ := own.Writable(w, user); ok {
				continue // the Dockerfile already gives it to the user
			}
		}
		switch w.Kind {
		case CreatesIn:
			if blocked(p) {
				return Grants{}, "the app writes in " + p + " (" + w.Why.String() + "), a system folder harden will not hand to a user; point the app at a folder of its own, then add USER"
			}
			add(&g.Dirs, p, w)
		case MakesDir:
			if blocked(p) {
				return Grants{}, "the app makes " + p + " (" + w.Why.String() + "), a system folder"
			}
			add(&g.Dirs, p, w)
		case MakesDirOnce:
			parent := path.Dir(p)
			if blocked(parent) {
				return Grants{}, "the app makes " + p + " and fails if it already exists (" + w.Why.String() + "), so only its parent " + parent + " could be given to the user, and that is a system folder; make the app accept an existing folder, then add USER"
			}
			add(&g.Dirs, parent, w)
		case Modifies:
			if blocked(p) {
				return Grants{}, "the app writes " + p + " (" + w.Why.String() + "), which belongs to the system"
			}
			add(&g.Trees, p, w)
		}
	}
	for _, r := range reasons {
		g.Reasons = append(g.Reasons, joinAnd(byReason[r])+" ("+r+")")
	}
	return g, ""
}

// SystemFolder reports whether a folder is one harden never gives to the
// app's user: the root of the file system and the system's own folders.
func SystemFolder(p string) bool {
	p = path.Clean(p)
	switch p {
	case "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv",
		"/sys", "/usr", "/var", "/var/lib", "/var/log", "/var/cache", "/var/run", "/mnt", "/media", "/usr/local", "/usr/share":
		return true
	}
	for _, pre := range []string{"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/proc/", "/sys/", "/dev/", "/boot/", "/etc/", "/root/"} {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// shortWhy trims evidence to its reason and place, for summaries.
func shortWhy(e Evidence) string {
	switch {
	case e.File != "" && e.Line > 0:
		return e.Why + ", " + e.File + ":" + itoa(e.Line)
	case e.File != "":
		return e.Why + ", " + e.File
	}
	return e.Why
}

// joinAnd joins phrases as "a, b and c".
func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// Package runmodel models what an application does when its image runs:
// the paths it writes, whether it needs a home folder, the ports it binds,
// the users it could run as, and whatever needs root at start. Every
// conclusion carries the evidence behind it (a Dockerfile line, a script
// line, a source line, a framework's convention), and what the evidence
// cannot settle is listed as Unknown rather than guessed.
//
// detect shows the model to users (`harden detect`); transform's
// non-root-user rule reads it to decide whether and how a non-root user
// can run the app: exactly the paths the app writes belong to that user,
// the code stays root-owned and read-only, and where the model cannot tell,
// the rule leaves the user alone and reports why.
//
// The model reads the Dockerfile (the running stage and the stages it
// builds on), the build context (entrypoint scripts, server configs, the
// app's sources, framework settings) and, where present, Kubernetes
// manifests. It never runs anything.
package runmodel

import (
	"path"
	"slices"
	"strconv"
	"strings"
)

// Evidence is one fact and where it was found. File is a path in the build
// context or the Dockerfile's name; Line is 0 when the whole file is the
// evidence or the fact is a convention.
type Evidence struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Why  string `json:"why"`
}

// String renders evidence as "file:line: why".
func (e Evidence) String() string {
	switch {
	case e.File == "":
		return e.Why
	case e.Line == 0:
		return e.File + ": " + e.Why
	}
	return e.File + ":" + itoa(e.Line) + ": " + e.Why
}

// WriteKind says what the app does with a path.
type WriteKind string

const (
	// CreatesIn: the app creates files in this folder (a SQLite database
	// and its journal, uploads, logs), so the folder itself must be
	// writable; the files already in it may stay read-only.
	CreatesIn WriteKind = "creates-in"
	// Modifies: the app writes to this existing file or into this existing
	// folder tree (it was copied into the image or made by RUN).
	Modifies WriteKind = "modifies"
	// MakesDir: the app makes this folder itself, tolerating an existing
	// one (mkdir -p, os.makedirs(exist_ok=True), recursive: true), so
	// making it beforehand, owned by the user, is safe.
	MakesDir WriteKind = "makes-dir"
	// MakesDirOnce: the app makes this folder and fails if it exists
	// (mkdir without -p, os.mkdir), so only its parent can be prepared.
	MakesDirOnce WriteKind = "makes-dir-once"
)

// Write is a path the app writes at run time. Path is absolute in the
// image.
type Write struct {
	Path string    `json:"path"`
	Kind WriteKind `json:"kind"`
	// Volume is set when the path is a VOLUME or a mount of a compose
	// service: existing deployments keep their own copy of it. Mount says
	// which: "VOLUME", or the compose mount type ("volume", "bind").
	Volume bool   `json:"volume,omitempty"`
	Mount  string `json:"mount,omitempty"`
	// Copied is set when the image already holds the path, copied from the
	// build context or made by RUN: its owner is decided by the Dockerfile.
	Copied bool     `json:"copied,omitempty"`
	Why    Evidence `json:"why"`
}

// Port is a port the app binds inside the container.
type Port struct {
	Number int `json:"number"`
	// Setting is how the Dockerfile chooses it, when it does: "env NAME"
	// for an ENV the app reads, "flag" for a command-line flag, "expose"
	// when only EXPOSE says so, "config" for a server configuration file,
	// "code" when it is fixed in the app.
	Setting string   `json:"setting"`
	Why     Evidence `json:"why"`
}

// User is an account the image could run as.
type User struct {
	Name string `json:"name,omitempty"`
	// UID and GID are -1 when unknown.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// Group is the primary group's name, when known to exist.
	Group string `json:"group,omitempty"`
	// Home is the home folder; HomeExists says whether the creation makes it.
	Home       string `json:"home,omitempty"`
	HomeExists bool   `json:"homeExists"`
	// Stage is the stage that creates the user; empty for the base image's.
	Stage string   `json:"stage,omitempty"`
	Why   Evidence `json:"why"`
}

// Ref is the value for USER: numeric when the ids are known, so that
// Kubernetes' runAsNonRoot can check it, else the name.
func (u User) Ref() string {
	switch {
	case u.UID >= 0 && u.GID >= 0:
		return itoa(u.UID) + ":" + itoa(u.GID)
	case u.UID >= 0:
		return itoa(u.UID)
	}
	return u.Name
}

// Owner is the value for chown and COPY --chown: names where they exist,
// numbers otherwise (a group created by `useradd --gid 50` has no name of
// its own).
func (u User) Owner() string {
	name := u.Name
	if name == "" {
		name = itoa(u.UID)
	}
	switch {
	case u.Group != "":
		return name + ":" + u.Group
	case u.GID >= 0:
		return name + ":" + itoa(u.GID)
	}
	return name
}

// PrivilegeDrop is a server that starts as root and switches to another
// user itself (Apache, php-fpm pools, uWSGI with uid=, supervisord,
// gosu in an entrypoint).
type PrivilegeDrop struct {
	Server string `json:"server"`
	// Setting is the server's own setting for its user, for the advice.
	Setting string   `json:"setting"`
	Why     Evidence `json:"why"`
}

// Model is what the running stage of an image does at run time.
type Model struct {
	// Stage is the stage modelled: its name, or its index.
	Stage string `json:"stage"`
	// Workdir is the working directory the process starts in.
	Workdir string `json:"workdir"`
	// User is the USER in force at the end of the stage, "" for root.
	User string `json:"user,omitempty"`
	// Command is the start command (ENTRYPOINT then CMD), as exec words;
	// a shell-form command is ["/bin/sh", "-c", text].
	Command []string `json:"command,omitempty"`
	// Programs are the programs the start command runs, after wrappers,
	// scripts and package.json scripts are followed ("python", "gunicorn").
	Programs []string `json:"programs,omitempty"`

	// Writes are the paths the app writes, each with its evidence.
	Writes []Write `json:"writes,omitempty"`
	// Home is set when something at run time uses the user's home
	// folder: an interpreter or tool that keeps caches, settings or
	// history there.
	Home *Evidence `json:"home,omitempty"`
	// HomeEnv is HOME as an ENV of the chain sets it, "" when none does
	// (the runtime then takes it from the user's account).
	HomeEnv string `json:"homeEnv,omitempty"`
	// Ports are the ports the app binds.
	Ports []Port `json:"ports,omitempty"`

	// Users are the non-root accounts the image has or that other stages
	// create, nearest first: those the running stage's chain creates,
	// then the base image's, then other stages'.
	Users []User `json:"users,omitempty"`
	// RunAsUser is a uid that deployment manifests run the image as.
	RunAsUser *Port `json:"runAsUser,omitempty"`
	// Deployed are the users compose services run the image as.
	Deployed []DeployedUser `json:"deployed,omitempty"`

	// Drops lists servers that start as root and drop privileges
	// themselves: a USER would stop them from starting.
	Drops []PrivilegeDrop `json:"drops,omitempty"`
	// NeedsRoot lists start-up steps that need root (an entrypoint that
	// installs packages or changes owners).
	NeedsRoot []Evidence `json:"needsRoot,omitempty"`
	// RootHome lists what the app reads from /root, which is private to
	// root (packages installed with pip --user, poetry's default
	// virtualenvs, a copy into /root).
	RootHome []RootHomeUse `json:"rootHome,omitempty"`

	// Unknown lists what the model could not settle: a script it could not
	// read, a path computed at run time.
	Unknown []Evidence `json:"unknown,omitempty"`
	// Notes are facts worth showing that change no decision.
	Notes []Evidence `json:"notes,omitempty"`
}

// RootHomeUse is something the app needs from root's home folder.
type RootHomeUse struct {
	// Kind is "pip-user", "poetry-venv", "pipx" or "copy".
	Kind string   `json:"kind"`
	Why  Evidence `json:"why"`
}

// EnvHome returns HOME as the Dockerfile sets it, if it does.
func (m *Model) EnvHome() []string {
	if m.HomeEnv == "" {
		return nil
	}
	return []string{m.HomeEnv}
}

// WritesUnder returns the writes at or below dir.
func (m *Model) WritesUnder(dir string) []Write {
	var out []Write
	for _, w := range m.Writes {
		if Under(w.Path, dir) {
			out = append(out, w)
		}
	}
	return out
}

// Volumes returns the writes that are volumes.
func (m *Model) Volumes() []Write {
	var out []Write
	for _, w := range m.Writes {
		if w.Volume {
			out = append(out, w)
		}
	}
	return out
}

// addWrite records a write, keeping the first evidence for a path and kind
// but letting a volume mark stick.
func (m *Model) addWrite(w Write) {
	w.Path = path.Clean(w.Path)
	for i, old := range m.Writes {
		if old.Path == w.Path && old.Kind == w.Kind {
			if w.Volume && !old.Volume {
				m.Writes[i].Mount, m.Writes[i].Why = w.Mount, w.Why
			}
			m.Writes[i].Volume = old.Volume || w.Volume
			m.Writes[i].Copied = old.Copied || w.Copied
			return
		}
	}
	m.Writes = append(m.Writes, w)
}

func (m *Model) setHome(e Evidence) {
	if m.Home == nil {
		m.Home = &e
	}
}

func (m *Model) unknown(e Evidence) {
	if !slices.Contains(m.Unknown, e) {
		m.Unknown = append(m.Unknown, e)
	}
}

func (m *Model) addPort(p Port) {
	for _, old := range m.Ports {
		if old.Number == p.Number {
			return
		}
	}
	m.Ports = append(m.Ports, p)
}

// sortWrites orders writes by path for stable output.
func (m *Model) sortWrites() {
	slices.SortStableFunc(m.Writes, func(a, b Write) int { return strings.Compare(a.Path, b.Path) })
}

// Under reports whether p is dir or inside it.
func Under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// AppFolder reports whether a working directory is a folder of the app's
// own, even inside a system tree (/usr/src/app), rather than one of the
// system's top folders (/, /usr, /usr/local, /var/lib, ...).
func AppFolder(wd string) bool {
	wd = path.Clean(wd)
	if wd == "/" {
		return false
	}
	for _, pre := range []string{"/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/lib", "/boot"} {
		if Under(wd, pre) {
			return false
		}
	}
	switch wd {
	case "/usr", "/usr/local", "/usr/share", "/usr/lib", "/usr/src", "/var", "/var/lib", "/var/log", "/var/cache", "/opt", "/srv", "/home", "/root", "/run", "/tmp", "/mnt", "/media":
		return false
	}
	return true
}

// systemDir reports whether a path is part of the operating system or a
// language installation rather than app data: harden never hands these to
// the app's user.
func systemDir(p string) bool {
	p = path.Clean(p)
	switch p {
	case "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin",
		"/srv", "/sys", "/usr", "/var", "/var/lib", "/var/log", "/var/cache", "/var/run", "/var/tmp", "/tmp", "/mnt", "/media":
		return true
	}
	for _, pre := range []string{"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/proc/", "/sys/", "/dev/", "/boot/", "/etc/"} {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// worldWritable are folders every user can write in a Linux image.
func worldWritable(p string) bool {
	return Under(p, "/tmp") || Under(p, "/var/tmp") || Under(p, "/dev/shm") || p == "/dev/null" || p == "/dev/stdout" ||
		p == "/dev/stderr" || Under(p, "/proc/self/fd")
}

func itoa(n int) string { return strconv.Itoa(n) }

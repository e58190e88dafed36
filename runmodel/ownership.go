package runmodel

import (
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

// Ownership is who owns the paths of an image, worked out from its
// Dockerfile alone: the folders WORKDIR, COPY and RUN make, the owners
// chown and COPY --chown give, the modes chmod opens and the homes
// useradd makes. Paths no instruction touches belong to root, except the
// world-writable /tmp and /var/tmp. It answers "could this user write
// there?" for a model's writes, which is how harden's tests hold every
// non-root rewrite to the model.
type Ownership struct {
	entries map[string]*pathOwner
	// made are the paths instructions are known to create; what a copy of
	// a folder brings is looked up in the build context through a.
	made map[string]bool
	a    *analysis
	// uids maps account names to uids, as the chain creates them.
	uids map[string]int
}

type pathOwner struct {
	owner string // account name or uid; "root" for root
	// tree is set when the owner covers everything below (chown -R, a
	// COPY --chown of a folder, a folder made by this owner).
	tree bool
	// open is set when chmod lets everyone write it.
	open bool
}

// OwnershipOf simulates the running stage's chain of a file; ctx, when
// known, tells what copies of folders bring.
func OwnershipOf(f *dockerfile.File, st *dockerfile.Stage, ctx *buildctx.Context, base *User) *Ownership {
	if st == nil {
		st = f.FinalStage()
	}
	o := &Ownership{entries: map[string]*pathOwner{}, uids: map[string]int{}, made: map[string]bool{}}
	for _, p := range []string{"/tmp", "/var/tmp", "/dev/shm"} {
		o.made[p] = true
		o.entries[p] = &pathOwner{owner: "root", open: true}
	}
	if base != nil {
		if base.Name != "" && base.UID >= 0 {
			o.uids[base.Name] = base.UID
		}
		if base.Home != "" && base.HomeExists {
			o.entries[base.Home] = &pathOwner{owner: userKey(*base), tree: true}
			o.made[base.Home] = true
		}
	}
	var chain []*dockerfile.Stage
	for c := st; c != nil; c = c.Parent() {
		chain = append([]*dockerfile.Stage{c}, chain...)
	}
	s := &stageState{file: f, workdir: "/", env: map[string]string{}}
	for _, c := range chain {
		for _, ins := range c.Instructions[1:] {
			o.apply(s, ins)
			s.read(ins)
		}
	}
	o.a = &analysis{in: Input{File: f, Stage: st, Context: ctx}, st: s, m: &Model{}, seen: map[string]bool{}}
	return o
}

func userKey(u User) string {
	if u.Name != "" {
		return u.Name
	}
	return itoa(u.UID)
}

// current is who RUN, WORKDIR and COPY act as.
func (o *Ownership) current(s *stageState) string {
	if s.user == "" {
		return "root"
	}
	name, _, _ := strings.Cut(s.user, ":")
	return name
}

func (o *Ownership) apply(s *stageState, ins *dockerfile.Instruction) {
	switch c := ins.Command.(type) {
	case *instructions.WorkdirCommand:
		wd, ok := s.expand(unquote(c.Path))
		if !ok {
			return
		}
		p := s.abs(wd)
		if !o.exists(p) {
			o.make(p, o.current(s), true)
		}
	case *instructions.CopyCommand:
		o.copy(s, c.DestPath, c.Chown, len(c.SourcePaths) > 1 || hasDirSource(c.SourcePaths))
	case *instructions.AddCommand:
		o.copy(s, c.DestPath, c.Chown, len(c.SourcePaths) > 1 || hasDirSource(c.SourcePaths))
	case *instructions.RunCommand:
		o.run(s, ins)
	}
}

func hasDirSource(srcs []string) bool {
	for _, x := range srcs {
		if x == "." || strings.HasSuffix(x, "/") || strings.ContainsAny(x, "*?[") {
			return true
		}
	}
	return false
}

// copy records a COPY: the destination belongs to --chown's user (or root)
// unless it is a folder that existed, whose own owner a copy keeps.
func (o *Ownership) copy(s *stageState, dest, chown string, dirSource bool) {
	d, ok := s.expand(dest)
	if !ok {
		return
	}
	p := s.abs(d)
	owner := "root"
	if chown != "" {
		owner, _, _ = strings.Cut(chown, ":")
	} else if s.user != "" {
		owner = "root" // COPY writes root's files whatever USER says
	}
	if o.exists(p) && (dirSource || strings.HasSuffix(d, "/")) {
		// A copy into an existing folder keeps the folder's owner; what it
		// copies belongs to the copy's owner.
		o.subtree(p, owner)
		return
	}
	o.make(p, owner, true)
}

// subtree gives what a copy puts below p (not p) to owner. Paths the
// simulation already knows below p keep their owners: harden does not know
// which of them the copy overwrites, and a copy into a folder rarely
// replaces a home or a data folder made there.
func (o *Ownership) subtree(p, owner string) {
	o.entries[path.Join(p, "*")] = &pathOwner{owner: owner, tree: true}
}

func (o *Ownership) make(p, owner string, tree bool) {
	for k := range o.entries {
		if k != p && Under(k, p) {
			delete(o.entries, k)
		}
	}
	o.entries[p] = &pathOwner{owner: owner, tree: tree}
	o.made[p] = true
	// Parents that did not exist are made by the same user (mkdir -p,
	// WORKDIR, COPY).
	for d := path.Dir(p); d != "/" && !o.exists(d); d = path.Dir(d) {
		o.entries[d] = &pathOwner{owner: owner}
		o.made[d] = true
	}
}

// exists reports whether an instruction made the path, or a copy brings it
// from the build context.
func (o *Ownership) exists(p string) bool {
	if systemDir(p) || o.made[p] {
		return true
	}
	if o.a != nil {
		if _, ok := o.a.contextFile(p); ok {
			return true
		}
	}
	return false
}

// run applies what a RUN does to owners: mkdir, touch, chown, chmod and
// user creation with a home.
func (o *Ownership) run(s *stageState, ins *dockerfile.Instruction) {
	sc, err := ins.Script()
	if err != nil || sc.Form == dockerfile.ExecForm {
		return
	}
	wd := s.workdir
	who := o.current(s)
	for _, c := range sc.Commands {
		args := literalWords(c)
		if len(args) == 0 {
			continue
		}
		switch c.Name() {
		case "cd":
			if len(args) > 1 {
				if p, ok := s.expand(args[1]); ok {
					wd = joinAbs(wd, p)
				}
			}
		case "mkdir":
			for _, p := range operands(args[1:], "-m", "--mode") {
				if x, ok := s.expand(p); ok && !o.exists(joinAbs(wd, x)) {
					o.make(joinAbs(wd, x), who, true)
				}
			}
		case "touch":
			for _, p := range operands(args[1:], "-d", "-r", "-t") {
				if x, ok := s.expand(p); ok && !o.exists(joinAbs(wd, x)) {
					o.make(joinAbs(wd, x), who, false)
				}
			}
		case "chown":
			recursive := hasArg(args, "-R") || hasArg(args, "--recursive")
			ops := operands(args[1:], "--reference", "--from")
			if len(ops) < 2 {
				continue
			}
			owner, _, _ := strings.Cut(ops[0], ":")
			for _, p := range ops[1:] {
				if x, ok := s.expand(p); ok {
					o.chown(joinAbs(wd, x), owner, recursive)
				}
			}
		case "chmod":
			ops := operands(args[1:])
			if len(ops) < 2 || !opensWrite(ops[0]) {
				continue
			}
			for _, p := range ops[1:] {
				if x, ok := s.expand(p); ok {
					e := o.entry(joinAbs(wd, x))
					e.open = true
				}
			}
		case "useradd", "adduser":
			if u, ok := parseUserAdd(c.Name(), args, "", 0); ok {
				if u.UID >= 0 {
					o.uids[u.Name] = u.UID
				}
				if u.HomeExists && u.Home != "" {
					o.make(u.Home, u.Name, true)
				}
			}
		}
	}
}

func (o *Ownership) chown(p, owner string, recursive bool) {
	if recursive {
		o.make(p, owner, true)
		return
	}
	e := o.entry(p)
	e.owner = owner
	e.tree = false
}

// entry returns the entry for p, made from what covers it when it has
// none of its own.
func (o *Ownership) entry(p string) *pathOwner {
	if e, ok := o.entries[p]; ok {
		return e
	}
	owner := o.ownerOf(p)
	e := &pathOwner{owner: owner}
	o.entries[p] = e
	return e
}

// ownerOf is who owns p: its own entry, else the nearest tree above it.
func (o *Ownership) ownerOf(p string) string {
	if e, ok := o.entries[p]; ok {
		return e.owner
	}
	best, owner := "", "root"
	for k, e := range o.entries {
		dir := strings.TrimSuffix(k, "/*")
		if !e.tree || !Under(p, dir) || k == p {
			continue
		}
		if strings.HasSuffix(k, "/*") && p == dir {
			continue // the folder itself keeps its own owner
		}
		if len(k) > len(best) {
			best, owner = k, e.owner
		}
	}
	return owner
}

// canWrite reports whether user may create and delete entries in the
// folder p, or write the file p.
func (o *Ownership) canWrite(p string, user User) bool {
	if worldWritable(p) {
		return true
	}
	if e, ok := o.entries[p]; ok && e.open {
		return true
	}
	return o.is(o.ownerOf(p), user)
}

func (o *Ownership) is(owner string, user User) bool {
	if owner == "root" {
		return false
	}
	if owner == user.Name && user.Name != "" {
		return true
	}
	if n := atoi(owner); n >= 0 && n == user.UID {
		return true
	}
	if uid, ok := o.uids[owner]; ok && uid == user.UID && user.UID >= 0 {
		return true
	}
	return false
}

// Writable reports whether user can do the write, and if not, why.
func (o *Ownership) Writable(w Write, user User) (bool, string) {
	switch w.Kind {
	case CreatesIn:
		if !o.exists(w.Path) {
			return o.canWrite(o.nearest(w.Path), user), "nothing makes " + w.Path + " and the user cannot make it"
		}
		return o.canWrite(w.Path, user), w.Path + " belongs to " + o.ownerOf(w.Path)
	case MakesDir:
		if o.exists(w.Path) {
			return o.canWrite(w.Path, user), w.Path + " exists and belongs to " + o.ownerOf(w.Path)
		}
		return o.canWrite(o.nearest(w.Path), user), o.nearest(w.Path) + " belongs to " + o.ownerOf(o.nearest(w.Path))
	case MakesDirOnce:
		if o.exists(w.Path) {
			return false, w.Path + " already exists, and the app's mkdir fails on it"
		}
		return o.canWrite(o.nearest(w.Path), user), o.nearest(w.Path) + " belongs to " + o.ownerOf(o.nearest(w.Path))
	case Modifies:
		if !o.canWrite(w.Path, user) {
			return false, w.Path + " belongs to " + o.ownerOf(w.Path)
		}
		// Everything below must be the user's too.
		for k, e := range o.entries {
			if k != w.Path && Under(strings.TrimSuffix(k, "/*"), w.Path) && !o.is(e.owner, user) && !e.open {
				return false, k + " belongs to " + e.owner
			}
		}
		return true, ""
	}
	return false, "unknown kind of write"
}

// HomeUsable reports whether the user's home exists and is theirs.
func (o *Ownership) HomeUsable(home string, user User) bool {
	return home != "" && o.exists(home) && o.canWrite(home, user)
}

// nearest is the closest folder at or above p that exists.
func (o *Ownership) nearest(p string) string {
	for d := path.Dir(p); ; d = path.Dir(d) {
		if o.exists(d) || d == "/" {
			return d
		}
	}
}

// Paths lists the paths the simulation knows, for debugging messages.
func (o *Ownership) Paths() []string {
	var out []string
	for k, e := range o.entries {
		out = append(out, k+"="+e.owner)
	}
	sort.Strings(out)
	return out
}

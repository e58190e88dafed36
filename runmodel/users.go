package runmodel

import (
	"strings"
)

// parseUserAdd reads the account a useradd or adduser command creates:
// shadow's useradd, Debian's adduser (long options) and BusyBox's adduser
// (short options, as on Alpine). ok is false when the name is computed.
func parseUserAdd(prog string, args []string, file string, line int) (User, bool) {
	u := User{UID: -1, GID: -1, Why: Evidence{File: file, Line: line, Why: strings.Join(args, " ")}}
	var rest []string
	groupName := ""
	createHome, noHome := false, false
	debianAdduser := prog == "adduser" && hasLongOption(args)
	busybox := prog == "adduser" && !debianAdduser
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		next := func() string {
			if hasVal {
				return val
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case name == "-u" || name == "--uid":
			u.UID = atoi(next())
		case busybox && name == "-G", !busybox && (name == "-g" || name == "--gid" || name == "--ingroup"):
			g := next()
			if n := atoi(g); n >= 0 {
				u.GID = n
			} else {
				groupName = g
			}
		case name == "-d" || name == "--home-dir" || name == "--home" || busybox && name == "-h":
			u.Home = next()
		case name == "-m" || name == "--create-home":
			createHome = true
		case name == "-M" || name == "--no-create-home" || busybox && name == "-H":
			noHome = true
		case busybox && (name == "-g" || name == "-s" || name == "-k"),
			!busybox && (name == "-s" || name == "--shell" || name == "-c" || name == "--comment" || name == "--gecos" ||
				name == "-G" || name == "--groups" || name == "-k" || name == "--skel" || name == "-K" || name == "--key" ||
				name == "-p" || name == "--password" || name == "-e" || name == "--expiredate" || name == "-f" ||
				name == "--inactive" || name == "-R" || name == "--root" || name == "-Z" || name == "--selinux-user" ||
				name == "-b" || name == "--base-dir" || name == "--firstuid" || name == "--lastuid" || name == "--conf" ||
				name == "--add-extra-groups" || name == "--extrausers"):
			next()
		case strings.HasPrefix(a, "-"):
		default:
			rest = append(rest, a)
		}
	}
	// A name that is all digits reads as a uid in USER ("0" is root), and
	// root is root: neither is an account to run as.
	if len(rest) == 0 || strings.ContainsAny(rest[0], "$`") || strings.Trim(rest[0], "0123456789") == "" || rest[0] == "root" {
		return u, false
	}
	u.Name = rest[0]
	if busybox && len(rest) > 1 && groupName == "" && u.GID < 0 {
		groupName = rest[1] // adduser USER GROUP adds to an existing group
	}
	if u.Home == "" {
		u.Home = "/home/" + u.Name
	}
	switch {
	case noHome:
		u.HomeExists = false
	case createHome:
		u.HomeExists = true
	case busybox:
		u.HomeExists = true // BusyBox adduser makes the home unless -H
	case debianAdduser:
		// Debian's adduser makes the home of a normal user; a system
		// user's default home is /nonexistent unless one is named.
		u.HomeExists = !hasArg(args, "--system") || hasArg(args, "--home")
	}
	if groupName != "" {
		u.Group = groupName
	} else if u.GID < 0 && !hasArg(args, "-N") && !hasArg(args, "--no-user-group") {
		// useradd (with USERGROUPS_ENAB, the default) and both adduser
		// make a group named after the user.
		u.Group = u.Name
		if prog == "adduser" && debianAdduser && hasArg(args, "--system") && !hasArg(args, "--group") {
			u.Group = "nogroup"
		}
	}
	return u, true
}

func hasLongOption(args []string) bool {
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "--") {
			return true
		}
	}
	return false
}

func hasArg(args []string, want string) bool {
	for _, a := range args {
		if a == want || strings.HasPrefix(a, want+"=") {
			return true
		}
	}
	return false
}

// resolveGroups fills in the gid of users whose primary group the chain
// creates with a known gid, so that USER can be numeric.
func (s *stageState) resolveGroups() {
	for i, u := range s.created {
		if u.GID >= 0 || u.Group == "" {
			continue
		}
		for _, g := range s.groups {
			if g.name == u.Group && g.gid >= 0 {
				s.created[i].GID = g.gid
			}
		}
	}
}

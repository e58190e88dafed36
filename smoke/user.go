package smoke

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// User is the identity a container process gets.
type User struct {
	UID, GID uint32
	// AdditionalGids are the supplementary groups /etc/group lists the user in.
	AdditionalGids []uint32
	Home           string
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// ResolveUser turns an image config's User ("", "name", "uid", with an
// optional ":group" or ":gid") into ids the way docker run does: names must
// exist in passwd/group, a numeric uid without a passwd entry is accepted with
// gid 0, and a user found by name or uid without an explicit group gets its
// passwd gid plus the groups that list it as a member. Either reader may be
// nil when the image has no such file.
func ResolveUser(spec string, passwd, group io.Reader) (User, error) {
	u := User{Home: "/"}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	users, err := parsePasswd(passwd)
	if err != nil {
		return u, fmt.Errorf("/etc/passwd: %w", err)
	}

	uid, uidErr := parseID(userPart)
	var matched *passwdEntry
	for i, e := range users {
		if (userPart == "" && e.uid == 0) ||
			(userPart != "" && uidErr == nil && e.uid == uid) ||
			(userPart != "" && uidErr != nil && e.name == userPart) {
			matched = &users[i]
			break
		}
	}
	switch {
	case matched != nil:
		u.UID, u.GID, u.Home = matched.uid, matched.gid, matched.home
		if u.Home == "" {
			u.Home = "/"
		}
	case userPart == "":
		// root without a passwd file: uid 0, gid 0.
	case uidErr != nil:
		return u, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
	default:
		u.UID = uid
	}

	if hasGroup && groupPart == "" {
		return u, fmt.Errorf("user %q: empty group", spec)
	}
	if !hasGroup && matched == nil {
		return u, nil
	}
	groups, err := parseGroup(group)
	if err != nil {
		return u, fmt.Errorf("/etc/group: %w", err)
	}
	if hasGroup {
		gid, gidErr := parseID(groupPart)
		for _, g := range groups {
			if (gidErr == nil && g.gid == gid) || (gidErr != nil && g.name == groupPart) {
				u.GID = g.gid
				return u, nil
			}
		}
		if gidErr != nil {
			return u, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
		}
		u.GID = gid
		return u, nil
	}
	for _, g := range groups {
		for _, m := range g.members {
			if m == matched.name {
				u.AdditionalGids = append(u.AdditionalGids, g.gid)
				break
			}
		}
	}
	return u, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// parsePasswd reads name:password:uid:gid:gecos:home:shell lines, skipping
// comments and malformed lines as libc does.
func parsePasswd(r io.Reader) ([]passwdEntry, error) {
	var out []passwdEntry
	err := eachLine(r, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := parseID(f[2])
		gid, err2 := parseID(f[3])
		if err1 != nil || err2 != nil {
			return
		}
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		out = append(out, e)
	})
	return out, err
}

// parseGroup reads name:password:gid:member,member lines.
func parseGroup(r io.Reader) ([]groupEntry, error) {
	var out []groupEntry
	err := eachLine(r, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := parseID(f[2])
		if err != nil {
			return
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out, err
}

func eachLine(r io.Reader, fn func(fields []string)) error {
	if r == nil {
		return nil
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}

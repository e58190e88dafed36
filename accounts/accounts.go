// Package accounts knows how each Linux distribution creates a system
// account with a home folder, so that harden's rules and templates write
// the same commands, made the way the distribution's own tools make them.
package accounts

import (
	"fmt"
	"strings"
)

// Account is a system user to create, with a group of the same name.
type Account struct {
	Name string
	UID  int
	GID  int
	// Home is the home folder; empty means /home/NAME. It is created,
	// owned by the account, since interpreters and tools keep caches,
	// settings and history there.
	Home string
}

// HomeDir is the account's home folder.
func (a Account) HomeDir() string {
	if a.Home == "" {
		return "/home/" + a.Name
	}
	return a.Home
}

// Tool names the family of account tools a distribution has.
type Tool string

const (
	// Shadow is useradd and groupadd (Debian, Ubuntu, Fedora, RHEL, UBI).
	Shadow Tool = "shadow"
	// BusyBox is adduser and addgroup with BusyBox's options (Alpine,
	// BusyBox, Wolfi).
	BusyBox Tool = "busybox"
	// None means the image has no tools to create accounts (distroless,
	// scratch, minimal images without shadow-utils).
	None Tool = ""
)

// ToolFor picks the account tools of a distribution family and package
// manager, as detect reports them.
func ToolFor(distro, packageManager string) Tool {
	switch {
	case distro == "debian" || distro == "ubuntu" || distro == "ubi" || distro == "rhel" || distro == "amazonlinux" ||
		distro == "oraclelinux" || distro == "azurelinux" || packageManager == "dnf" || packageManager == "yum":
		return Shadow
	case distro == "alpine" || distro == "busybox" || distro == "wolfi":
		return BusyBox
	}
	return None
}

// Create returns the shell commands that create the group and the account
// with its home folder.
func Create(tool Tool, a Account) ([]string, error) {
	if a.Name == "" || strings.ContainsAny(a.Name, " \t$`'\"") {
		return nil, fmt.Errorf("invalid account name %q", a.Name)
	}
	gid := a.GID
	if gid <= 0 {
		gid = a.UID
	}
	switch tool {
	case Shadow:
		return []string{
			fmt.Sprintf("groupadd --system --gid %d %s", gid, a.Name),
			fmt.Sprintf("useradd --system --create-home --home-dir %s --uid %d --gid %s --shell /usr/sbin/nologin %s", a.HomeDir(), a.UID, a.Name, a.Name),
		}, nil
	case BusyBox:
		return []string{
			fmt.Sprintf("addgroup -S -g %d %s", gid, a.Name),
			fmt.Sprintf("adduser -S -D -h %s -u %d -G %s -s /sbin/nologin %s", a.HomeDir(), a.UID, a.Name, a.Name),
		}, nil
	}
	return nil, fmt.Errorf("the image has no tools to create accounts")
}

// Program names the tool that creates the account, for summaries.
func (t Tool) Program() string {
	if t == BusyBox {
		return "adduser"
	}
	return "useradd"
}

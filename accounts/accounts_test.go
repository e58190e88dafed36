package accounts

import (
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	for _, tc := range []struct {
		tool Tool
		acct Account
		want string
	}{
		{Shadow, Account{Name: "app", UID: 10001}, "groupadd --system --gid 10001 app && useradd --system --create-home --home-dir /home/app --uid 10001 --gid app --shell /usr/sbin/nologin app"},
		{Shadow, Account{Name: "svc", UID: 2000, GID: 3000, Home: "/srv/svc"}, "groupadd --system --gid 3000 svc && useradd --system --create-home --home-dir /srv/svc --uid 2000 --gid svc --shell /usr/sbin/nologin svc"},
		{BusyBox, Account{Name: "app", UID: 10001}, "addgroup -S -g 10001 app && adduser -S -D -h /home/app -u 10001 -G app -s /sbin/nologin app"},
	} {
		cmds, err := Create(tc.tool, tc.acct)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cmds, " && "); got != tc.want {
			t.Errorf("%s %+v:\n got %s\nwant %s", tc.tool, tc.acct, got, tc.want)
		}
	}
	if _, err := Create(None, Account{Name: "app", UID: 1}); err == nil {
		t.Error("an image without account tools cannot create a user")
	}
	if _, err := Create(Shadow, Account{Name: "a b", UID: 1}); err == nil {
		t.Error("a name with a space is refused")
	}
}

func TestToolFor(t *testing.T) {
	for distro, want := range map[string]Tool{"debian": Shadow, "ubuntu": Shadow, "ubi": Shadow, "alpine": BusyBox, "wolfi": BusyBox, "distroless": None, "scratch": None} {
		if got := ToolFor(distro, ""); got != want {
			t.Errorf("%s: %q, want %q", distro, got, want)
		}
	}
	if ToolFor("unknown", "dnf") != Shadow {
		t.Error("an image with dnf has shadow-utils")
	}
}

package smoke

import (
	"slices"
	"strings"
	"testing"
)

const passwd = `root:x:0:0:root:/root:/bin/sh
# a comment
broken line
app:x:10001:10001:App:/srv/app:/sbin/nologin
nohome:x:20000:20000::
`

const group = `root:x:0:
app:x:10001:
web:x:33:app,other
tools:x:500:other,app
`

func TestResolveUser(t *testing.T) {
	tests := []struct {
		spec    string
		want    User
		wantErr string
	}{
		{spec: "", want: User{UID: 0, GID: 0, Home: "/root"}},
		{spec: "root", want: User{Home: "/root"}},
		{spec: "app", want: User{UID: 10001, GID: 10001, AdditionalGids: []uint32{33, 500}, Home: "/srv/app"}},
		{spec: "10001", want: User{UID: 10001, GID: 10001, AdditionalGids: []uint32{33, 500}, Home: "/srv/app"}},
		{spec: "app:web", want: User{UID: 10001, GID: 33, Home: "/srv/app"}},
		{spec: "app:77", want: User{UID: 10001, GID: 77, Home: "/srv/app"}},
		{spec: "4242", want: User{UID: 4242, GID: 0, Home: "/"}},
		{spec: "4242:4242", want: User{UID: 4242, GID: 4242, Home: "/"}},
		{spec: "nohome", want: User{UID: 20000, GID: 20000, Home: "/"}},
		{spec: "ghost", wantErr: "unable to find user ghost"},
		{spec: "app:ghosts", wantErr: "unable to find group ghosts"},
		{spec: "app:", wantErr: "empty group"},
	}
	for _, tt := range tests {
		got, err := ResolveUser(tt.spec, strings.NewReader(passwd), strings.NewReader(group))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: want error %q, got %v (%+v)", tt.spec, tt.wantErr, err, got)
			}
			continue
		}
		if err != nil || got.UID != tt.want.UID || got.GID != tt.want.GID || got.Home != tt.want.Home || !slices.Equal(got.AdditionalGids, tt.want.AdditionalGids) {
			t.Errorf("%q: got %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

func TestResolveUserWithoutFiles(t *testing.T) {
	// scratch images: numbers work, names cannot.
	if u, err := ResolveUser("65532:65532", nil, nil); err != nil || u.UID != 65532 || u.GID != 65532 {
		t.Errorf("got %+v, %v", u, err)
	}
	if u, err := ResolveUser("", nil, nil); err != nil || u.UID != 0 || u.Home != "/" {
		t.Errorf("got %+v, %v", u, err)
	}
	if _, err := ResolveUser("nonroot", nil, nil); err == nil {
		t.Error("a user name resolved without /etc/passwd")
	}
}

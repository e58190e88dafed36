package runmodel

import (
	"testing"
	"testing/fstest"

	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
)

func ownership(t *testing.T, text string, files map[string]string) *Ownership {
	t.Helper()
	f, err := dockerfile.Parse("Dockerfile", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	ctx, err := buildctx.FromFS(fsys, "ctx", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return OwnershipOf(f, nil, ctx, nil)
}

func TestOwnership(t *testing.T) {
	app := User{Name: "app", UID: 10001, GID: 10001}
	o := ownership(t, `FROM debian:bookworm-slim
WORKDIR /app
COPY . .
RUN useradd --create-home --uid 10001 app && mkdir -p /data /cache && chown app /app /data && chmod 777 /cache
USER 10001
`, map[string]string{"main.py": "", "media/a.png": ""})
	for _, tc := range []struct {
		w    Write
		want bool
	}{
		{Write{Path: "/app", Kind: CreatesIn}, true},
		{Write{Path: "/app/main.py", Kind: Modifies}, false}, // the copy's files stay root's
		{Write{Path: "/app/media", Kind: CreatesIn}, false},  // a copied folder is root's
		{Write{Path: "/app/uploads", Kind: MakesDir}, true},  // made inside a folder the user owns
		{Write{Path: "/data", Kind: Modifies}, true},
		{Write{Path: "/cache", Kind: CreatesIn}, true}, // chmod 777
		{Write{Path: "/var/lib/app", Kind: MakesDir}, false},
		{Write{Path: "/tmp/x", Kind: MakesDir}, true},
		{Write{Path: "/app", Kind: MakesDirOnce}, false}, // exists: the app's mkdir would fail
	} {
		if got, why := o.Writable(tc.w, app); got != tc.want {
			t.Errorf("%s %s: %v (%s), want %v", tc.w.Kind, tc.w.Path, got, why, tc.want)
		}
	}
	if !o.HomeUsable("/home/app", app) {
		t.Error("useradd --create-home makes the home")
	}
	if o.HomeUsable("/home/other", app) {
		t.Error("a home nothing makes is not usable")
	}
}

func TestOwnershipCopyChownAndWorkdirAfterUser(t *testing.T) {
	app := User{Name: "app", UID: 10001}
	o := ownership(t, `FROM alpine:3.20
RUN adduser -S -D -u 10001 app
USER app
WORKDIR /work
COPY --chown=app:app state/ /var/lib/state/
`, map[string]string{"state/x": ""})
	if ok, why := o.Writable(Write{Path: "/work", Kind: CreatesIn}, app); !ok {
		t.Errorf("WORKDIR made after USER belongs to the user: %s", why)
	}
	if ok, why := o.Writable(Write{Path: "/var/lib/state", Kind: Modifies}, app); !ok {
		t.Errorf("COPY --chown gives the copy to the user: %s", why)
	}
	if !o.HomeUsable("/home/app", app) {
		t.Error("BusyBox adduser makes the home unless -H")
	}
}

package bktest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRealRecipeBuildsEachVariantFromAnEarlierOne(t *testing.T) {
	r, err := defaultRealRecipe()
	if err != nil {
		t.Fatal(err)
	}
	built := map[RealBase]bool{}
	for i, v := range r.Variants {
		if (v.From == "") != (i == 0) {
			t.Errorf("%s: only the first variant starts from debootstrap (from %q)", v.Base, v.From)
		}
		if v.From != "" && !built[v.From] {
			t.Errorf("%s is built from %s, which is not built before it", v.Base, v.From)
		}
		if built[v.Base] {
			t.Errorf("%s appears twice", v.Base)
		}
		built[v.Base] = true
		if len(v.Cmd) == 0 || !slices.ContainsFunc(v.Env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") }) {
			t.Errorf("%s: config needs a command and a PATH: %+v", v.Base, v)
		}
		if (v.VersionEnv == "") != (len(v.VersionCommand) == 0) {
			t.Errorf("%s: a version variable needs the command that reads it", v.Base)
		}
	}
	for _, n := range DefaultRealNames {
		if !built[n.Base] {
			t.Errorf("%s names %s, which the recipe does not build", n.Ref, n.Base)
		}
	}
	// Every image's chain of layers ends in a full layer.
	for _, v := range r.Variants {
		cur, seen := v, 0
		for !cur.Full {
			cur, _ = r.variant(cur.From)
			if seen++; seen > len(r.Variants) {
				t.Fatalf("%s: no full layer below it", v.Base)
			}
		}
	}
}

func TestRealRecipeKeyFollowsTheRecipe(t *testing.T) {
	a, err := defaultRealRecipe()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := defaultRealRecipe()
	if a.key() != b.key() {
		t.Fatalf("the key of the same recipe changed: %s, %s", a.key(), b.key())
	}
	b.Variants = slices.Clone(b.Variants)
	b.Variants[len(b.Variants)-1].Packages = append(slices.Clone(b.Variants[len(b.Variants)-1].Packages), "jq")
	if a.key() == b.key() {
		t.Error("adding a package does not change the key")
	}
	t.Setenv(EnvDebianMirror, "http://mirror.example/debian/")
	c, _ := defaultRealRecipe()
	if c.Mirror != "http://mirror.example/debian" || c.key() == a.key() {
		t.Errorf("another mirror: %q, key %s", c.Mirror, c.key())
	}
}

func TestDebianSourcesAddSecurityBesideTheMirror(t *testing.T) {
	got := debianSources("http://deb.debian.org/debian")
	for _, want := range []string{"URIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates", "URIs: http://deb.debian.org/debian-security\nSuites: bookworm-security"} {
		if !strings.Contains(got, want) {
			t.Errorf("sources lack %q:\n%s", want, got)
		}
	}
	if got := debianSources("http://apt.internal/mirror"); strings.Contains(got, "security") {
		t.Errorf("a mirror without a known security archive beside it got one:\n%s", got)
	}
}

func TestSlimifyKeepsCopyrightsAndRemovesDocs(t *testing.T) {
	root := tree(t, map[string]string{
		"usr/share/doc/bash/README":            "docs",
		"usr/share/doc/bash/copyright":         "license",
		"usr/share/doc/gone/changelog.gz":      "log",
		"usr/share/doc/gone/link":              "->changelog.gz",
		"usr/share/man/man1/ls.1.gz":           "manual",
		"usr/share/locale/locale.alias":        "aliases",
		"usr/share/locale/de/LC_MESSAGES/x.mo": "übersetzt",
		"usr/share/info/dir":                   "info",
		"usr/bin/ls":                           "binary",
		"usr/share/misc/magic":                 "kept",
	})
	if err := slimify(root); err != nil {
		t.Fatal(err)
	}
	have := describe(t, root)
	for _, kept := range []string{"usr/share/doc/bash/copyright", "usr/share/locale/locale.alias", "usr/bin/ls", "usr/share/misc/magic", "usr/share/man", "usr/share/doc"} {
		if _, ok := have[kept]; !ok {
			t.Errorf("%s was removed", kept)
		}
	}
	for _, gone := range []string{"usr/share/doc/bash/README", "usr/share/doc/gone", "usr/share/man/man1", "usr/share/locale/de", "usr/share/info/dir"} {
		if _, ok := have[gone]; ok {
			t.Errorf("%s is still there", gone)
		}
	}
}

func TestFinishTreeRemovesCachesAndBuildTraces(t *testing.T) {
	root := tree(t, map[string]string{
		"var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease": "index",
		"var/cache/apt/pkgcache.bin":                                "cache",
		"var/log/dpkg.log":                                          "log",
		"usr/lib/python3.11/EXTERNALLY-MANAGED":                     "marker",
		"usr/lib/python3.11/os.py":                                  "code",
		"etc/resolv.conf":                                           "nameserver 10.0.0.1",
		"etc/hostname":                                              "buildhost",
		"root/.cache/pip/x":                                         "wheel",
	})
	if err := finishTree(root); err != nil {
		t.Fatal(err)
	}
	have := describe(t, root)
	for _, gone := range []string{"var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", "var/cache/apt/pkgcache.bin", "var/log/dpkg.log", "usr/lib/python3.11/EXTERNALLY-MANAGED", "etc/hostname", "root/.cache"} {
		if _, ok := have[gone]; ok {
			t.Errorf("%s is still there", gone)
		}
	}
	if have["usr/lib/python3.11/os.py"] == "" || have["var/lib/apt/lists"] == "" {
		t.Error("finishTree removed more than caches")
	}
	if data, err := os.ReadFile(filepath.Join(root, "etc/resolv.conf")); err != nil || len(data) != 0 {
		t.Errorf("resolv.conf %q, %v: want an empty mount point", data, err)
	}
}

package detect

import "testing"

func TestLowestVersion(t *testing.T) {
	cases := []struct {
		in, version string
		exact       bool
	}{
		{"3.12", "3.12", true},
		{"3.12.4", "3.12.4", true},
		{"v20.11.1", "20.11.1", true},
		{"==3.11.*", "3.11", false},
		{">=3.10,<4", "3.10", false},
		{">=3.10, <3.13", "3.10", false},
		{"~=3.11", "3.11", false},
		{"^3.11", "3.11", false},
		{"^20.11.0", "20.11", false},
		{">=18.0.0", "18", false},
		{">=18 <21", "18", false},
		{"18.x", "18", false},
		{"^18 || ^20", "20", false},
		{"^8.1|^8.2", "8.2", false},
		{"~> 3.2", "3.2", false},
		{">= 3.1.0", "3.1", false},
		{"3.12.0rc1", "3.12.0", true},
		{"*", "", false},
		{"", "", false},
		{"lts/*", "", false},
		{"stable", "", false},
		{"<4", "", false},
	}
	for _, c := range cases {
		v, exact := lowestVersion(c.in)
		if v != c.version || exact != c.exact {
			t.Errorf("lowestVersion(%q) = %q, %v; want %q, %v", c.in, v, exact, c.version, c.exact)
		}
	}
}

func TestDisagree(t *testing.T) {
	pin := func(v string) versionClaim {
		return versionClaim{key: "python", v: Version{Version: v, File: "a"}}
	}
	rng := func(v, c string) versionClaim {
		return versionClaim{key: "python", v: Version{Version: v, Constraint: c, File: "b"}}
	}
	cases := []struct {
		a, b versionClaim
		want bool
	}{
		{pin("3.12"), pin("3.12.4"), false},
		{pin("3.12"), pin("3.11"), true},
		{pin("3.9"), rng("3.10", ">=3.10"), true},
		{pin("3.12"), rng("3.10", ">=3.10"), false},
		{rng("3.10", ">=3.10"), pin("3.9.18"), true},
		{rng("3.10", ">=3.10"), rng("3.12", ">=3.12"), false},
		{pin("20"), rng("18", ">=18"), false},
	}
	for _, c := range cases {
		if got := disagree(c.a, c.b) != ""; got != c.want {
			t.Errorf("disagree(%+v, %+v) = %v, want %v", c.a.v, c.b.v, got, c.want)
		}
	}
}

func TestSettleVersionsPrefersPinFiles(t *testing.T) {
	claims := []versionClaim{
		{key: "node", rank: rankDockerfile, v: Version{Version: "18", File: "Dockerfile", Line: 1}},
		{key: "node", rank: rankManifest, v: Version{Version: "18", Constraint: ">=18", File: "package.json"}},
		{key: "node", rank: rankPinFile, v: Version{Version: "20.11.1", File: ".nvmrc", Line: 1}},
	}
	got, conflicts, _ := settleVersions(claims)
	is(t, "chosen", got["node"].File, ".nvmrc")
	is(t, "conflicts", len(conflicts), 1) // .nvmrc 20.11.1 against FROM node:18
}

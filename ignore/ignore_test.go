package ignore

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"

	"github.com/harden-dev/harden/dockerfile"
)

// The walk must send exactly what BuildKit's client sends: compare harden's
// io/fs adapter with fsutil's own walker over the same folder on disk, for
// patterns that exercise parent exclusion, re-inclusion inside an excluded
// folder, ** and symlinks.
func TestWalkMatchesFsutil(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"app.py", "README.md", "docs/a.md", "docs/keep/b.md", "build/out.bin", "build/keep.txt",
		"src/pkg/__pycache__/m.pyc", "src/pkg/m.py", ".git/HEAD", "deep/a/b/c/.env", "node_modules/x/index.js",
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("app.py", filepath.Join(dir, "link.py")); err != nil {
		t.Fatal(err)
	}
	patterns := [][]string{
		nil,
		{"build", "!build/keep.txt"},
		{"*.md", "!README.md", "docs", "!docs/keep"},
		{"**/__pycache__", "**/.env", ".git", "node_modules/**"},
		{"*", "!src", "src/**/*.pyc"},
		{"**", "!app.py"},
	}
	for _, pats := range patterns {
		var want []string
		err := fsutil.WalkDir(context.Background(), dir, &fsutil.FilterOpt{ExcludePatterns: pats}, func(p string, _ fs.DirEntry, err error) error {
			want = append(want, filepath.ToSlash(p))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if _, err := walkSent(os.DirFS(dir), pats, 0, func(e sentEntry) error {
			got = append(got, e.path)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("patterns %q:\n got  %q\n want %q", pats, got, want)
		}
	}
}

func TestWalkStopsAtTheEntryLimit(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		fsys[n] = &fstest.MapFile{Data: []byte("x")}
	}
	size, partial, err := newContextTree(fsys).measure(newMatchers().list(nil), 3)
	if err != nil || !partial || size.Files != 3 {
		t.Fatalf("measure with a limit of 3 = %+v, partial %v, %v", size, partial, err)
	}
	size, partial, err = newContextTree(fsys).measure(newMatchers().list(nil), 0)
	if err != nil || partial || size.Files != 5 || size.Bytes != 5 {
		t.Fatalf("measure without a limit = %+v, partial %v, %v", size, partial, err)
	}
}

func TestFindSecrets(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n"
	cert := "-----BEGIN CERTIFICATE-----\nnot-a-real-certificate\n-----END CERTIFICATE-----\n"
	fsys := fstest.MapFS{
		".env":                       {Data: []byte("A=1")},
		".env.local":                 {Data: []byte("A=1")},
		".env.example":               {Data: []byte("A=")},
		"config/.env.Sample":         {Data: []byte("A=")},
		"id_ed25519":                 {Data: []byte(key)},
		"id_ed25519.pub":             {Data: []byte("ssh-ed25519 AAAA")},
		"tls/server.pem":             {Data: []byte(cert + strings.Replace(key, "OPENSSH ", "", -1))},
		"tls/ca.pem":                 {Data: []byte(cert)},
		"tls/keynote.key":            {Data: []byte("a presentation")},
		".aws/credentials":           {Data: []byte("[default]")},
		".aws/config":                {Data: []byte("[default]")},
		"gcloud/client.go":           {Data: []byte("package gcloud")},
		"home/gcloud/credentials.db": {Data: []byte("x")},
		".npmrc":                     {Data: []byte("//registry.npmjs.org/:_authToken=not-a-real-token\n")},
		"web/.npmrc":                 {Data: []byte("registry=https://registry.example.com/\n//r/:_authToken=${NPM_TOKEN}\n")},
		".pypirc":                    {Data: []byte("[pypi]\nusername = __token__\npassword = not-a-real-token\n")},
		".git-credentials":           {Data: []byte("https://u:p@example.com")},
		".netrc":                     {Data: []byte("machine x")},
		"infra/terraform.tfstate":    {Data: []byte("{}")},
		"certs/client.p12":           {Data: []byte{0x30, 0x82, 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02}},
		".docker/config.json":        {Data: []byte(`{"auths": {"r": {"auth": "eA=="}}}`)},
		// Not secrets, though their names are those of credential files:
		// a truststore (no key bag), a project's .kube and .ssh folders
		// without logins, public front-end settings, a credential helper.
		"certs/truststore.p12":     {Data: []byte{0x30, 0x82, 0x04, 0x5e}},
		".kube/nginx/default.conf": {Data: []byte("server {}\n")},
		"deploy/.ssh/known_hosts":  {Data: []byte("github.com ssh-ed25519 AAAA\n")},
		"web/.env.production":      {Data: []byte("VITE_API_URL=https://api.example.com\n")},
		"ci/.docker/config.json":   {Data: []byte(`{"credsStore": "desktop"}`)},
		"app.py":                   {Data: []byte("print(1)")},
	}
	got, partial, err := FindSecrets(fsys, []string{".npmrc"}, 0)
	if err != nil || partial {
		t.Fatal(err, partial)
	}
	var paths []string
	for _, s := range got {
		paths = append(paths, s.Path+" ("+s.Kind+")")
	}
	want := []string{
		".aws/ (AWS credentials folder)",
		".docker/config.json (Docker registry credentials)",
		".env (dotenv file)",
		".env.local (dotenv file)",
		".git-credentials (git credentials)",
		".netrc (netrc credentials)",
		".pypirc (PyPI credentials)",
		"certs/client.p12 (PKCS#12 key bundle)",
		"home/gcloud/ (Google Cloud credentials folder)",
		"id_ed25519 (SSH private key)",
		"infra/terraform.tfstate (Terraform state)",
		"tls/server.pem (private key)",
		"web/.npmrc (npm registry token)",
	}
	if !slices.Equal(paths, want) {
		t.Errorf("FindSecrets:\n got  %q\n want %q", paths, want)
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(dockerfile, wantName string, wantShared, wantExists bool) {
		t.Helper()
		f, err := Locate(filepath.Join(dir, dockerfile), "")
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f.Path) != wantName || f.Shared != wantShared || (f.Data != nil) != wantExists {
			t.Errorf("Locate(%s) = %s shared=%v exists=%v, want %s shared=%v exists=%v", dockerfile, filepath.Base(f.Path), f.Shared, f.Data != nil, wantName, wantShared, wantExists)
		}
	}
	write("Dockerfile", "FROM scratch\n")
	write("api.Dockerfile", "FROM scratch\n")
	check("Dockerfile", ".dockerignore", true, false)
	check("api.Dockerfile", "api.Dockerfile.dockerignore", false, false)
	write(".dockerignore", "")
	check("api.Dockerfile", ".dockerignore", true, true)
	write("api.Dockerfile.dockerignore", ".git\n")
	check("api.Dockerfile", "api.Dockerfile.dockerignore", false, true)
	check("Dockerfile", ".dockerignore", true, true)
}

// generateIn runs Generate over an in-memory context with an existing file.
func generateIn(t *testing.T, fsys fstest.MapFS, src, existing string, opts Options) *Result {
	t.Helper()
	df, err := dockerfile.Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	file := &File{Path: ".dockerignore", Shared: true}
	if existing != "" {
		file.Data = []byte(existing)
	}
	res, err := Generate(fsys, df, file, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMergeKeepsTheFileAsItIs(t *testing.T) {
	// The dotenv file is sent, so the merge has an entry to add.
	fsys := fstest.MapFS{"app.py": {Data: []byte("x")}, ".env": {Data: []byte("A=1")}}
	for _, existing := range []string{"node_modules", "\ufeff# with a BOM\nnode_modules\n", "a\n\n\n", "a\r\nb"} {
		res := generateIn(t, fsys, "FROM python:3.12\nCOPY . .\n", existing, Options{Ecosystems: []string{}})
		if !strings.HasPrefix(string(res.New), existing) {
			t.Errorf("%q: the old text is not kept at the start:\n%s", existing, res.New)
		}
		rest := strings.TrimPrefix(string(res.New), existing)
		wantEOL := "\n"
		if strings.Contains(existing, "\r\n") {
			wantEOL = "\r\n"
		}
		if !strings.Contains(rest, wantEOL+Marker) && !strings.HasPrefix(rest, Marker) {
			t.Errorf("%q: the block does not start on a line of its own:\n%q", existing, rest)
		}
		if strings.Contains(rest, wantEOL+wantEOL+wantEOL) || strings.HasPrefix(rest, wantEOL+wantEOL) && strings.HasSuffix(existing, "\n\n") {
			t.Errorf("%q: more than one blank line before the block:\n%q", existing, rest)
		}
		if wantEOL == "\r\n" && strings.Count(rest, "\n") != strings.Count(rest, "\r\n") {
			t.Errorf("%q: the block mixes line endings", existing)
		}
	}
}

func TestEquivalentSpellingsAreNotRepeated(t *testing.T) {
	fsys := fstest.MapFS{
		"app.py": {Data: []byte("x")}, ".git/HEAD": {Data: []byte("x")}, ".vscode/settings.json": {Data: []byte("{}")},
		".idea/workspace.xml": {Data: []byte("x")}, "logs/debug.log": {Data: []byte("x")}, "pkg/m.pyc": {Data: []byte("x")},
	}
	existing := "/.git/\n./.vscode\n.idea/**\n**/*.log\n*.pyc\n"
	res := generateIn(t, fsys, "FROM python:3.12\nCOPY . .\n", existing, Options{Ecosystems: []string{"python"}})
	added := map[string]bool{}
	for _, c := range res.Added {
		added[c.Pattern] = true
	}
	for _, p := range []string{".git", ".vscode", "**/*.log"} {
		if added[p] {
			t.Errorf("%s added although the file has it in another spelling", p)
		}
	}
	// .idea/** leaves the folder itself, and *.pyc only covers the root:
	// the broader entries are still worth adding.
	for _, p := range []string{"**/*.py[cod]"} {
		if !added[p] {
			t.Errorf("%s not added, though the file only covers the root", p)
		}
	}
}

func TestBadExistingPatternNamesTheLine(t *testing.T) {
	df, _ := dockerfile.Parse("Dockerfile", []byte("FROM scratch\n"))
	_, err := Generate(fstest.MapFS{}, df, &File{Path: "ctx/.dockerignore", Data: []byte("# ok\nfine\n[\n")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "ctx/.dockerignore:3:") {
		t.Fatalf("error = %v, want one naming ctx/.dockerignore:3", err)
	}
}

func TestDockerfileAndIgnoreFileCanBeExcluded(t *testing.T) {
	// BuildKit reads the Dockerfile and .dockerignore through their own
	// transfers, so excluding them is safe, unless a COPY names them.
	fsys := fstest.MapFS{"Dockerfile": {Data: []byte("x")}, "app": {Data: []byte("x")}}
	res := generateIn(t, fsys, "FROM scratch\nCOPY . .\n", "", Options{Ecosystems: []string{}})
	if !slices.ContainsFunc(res.Added, func(c Change) bool { return c.Pattern == "**/Dockerfile*" }) {
		t.Errorf("Dockerfiles are not excluded: %v", res.Added)
	}
	// A Dockerfile the build copies stays in: the entry that would hide it
	// is re-included by name or, keeping nothing else out, left out.
	res = generateIn(t, fsys, "FROM scratch\nCOPY Dockerfile /src/\n", "", Options{Ecosystems: []string{}})
	if excluded(t, res.New, "Dockerfile") {
		t.Errorf("a Dockerfile the build copies is excluded:\n%s", res.New)
	}
	fsys["docker/Dockerfile.dev"] = &fstest.MapFile{Data: []byte("x")}
	res = generateIn(t, fsys, "FROM scratch\nCOPY Dockerfile /src/\n", "", Options{Ecosystems: []string{}})
	if excluded(t, res.New, "Dockerfile") || !excluded(t, res.New, "docker/Dockerfile.dev") {
		t.Errorf("the copied Dockerfile must stay in and the other go:\n%s", res.New)
	}
}

// excluded reports whether the ignore file keeps p out of the context.
func excluded(t *testing.T, ignoreFile []byte, p string) bool {
	t.Helper()
	pats, err := ignorefile.ReadAll(bytes.NewReader(ignoreFile))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(pats)
	if err != nil {
		t.Fatal(err)
	}
	hit, err := pm.MatchesOrParentMatches(p)
	if err != nil {
		t.Fatal(err)
	}
	return hit
}

// A small app gets a short file: the secrets everyone must exclude and an
// entry for each kind of thing its context holds, nothing for what is not
// there.
func TestNewFileListsWhatTheContextHolds(t *testing.T) {
	fsys := fstest.MapFS{
		"Dockerfile": {Data: []byte("x")}, "app.py": {Data: []byte("x")}, "requirements.txt": {Data: []byte("")},
		".git/HEAD": {Data: []byte("x")}, "__pycache__/app.cpython-311.pyc": {Data: []byte("x")},
	}
	res := generateIn(t, fsys, "FROM python:3.11-slim\nCOPY . .\n", "", Options{Ecosystems: []string{"python"}})
	var pats []string
	for _, c := range res.Added {
		pats = append(pats, c.Pattern)
	}
	for _, want := range []string{"**/.env", "**/*.pem", "**/id_ed25519*", "**/*.tfstate", ".git", "**/__pycache__", "**/Dockerfile*", "*.dockerignore"} {
		if !slices.Contains(pats, want) {
			t.Errorf("%s missing from %q", want, pats)
		}
	}
	for _, absent := range []string{"node_modules", ".venv", ".idea", "**/*.log", ".hg", "**/.aws", "**/docker-compose*", ".pytest_cache"} {
		if slices.Contains(pats, absent) {
			t.Errorf("%s added, though nothing in the context matches it", absent)
		}
	}
	if len(pats) > 30 {
		t.Errorf("%d entries for a small app, want at most 30: %q", len(pats), pats)
	}
}

// A curated file that already keeps out everything the context holds is
// left as it is, though it lacks entries for things that are not there.
func TestMergeIntoAFileThatDoesTheJobChangesNothing(t *testing.T) {
	fsys := fstest.MapFS{
		"Dockerfile": {Data: []byte("x")}, ".dockerignore": {Data: []byte("x")}, "server.js": {Data: []byte("x")},
		"package.json": {Data: []byte("{}")}, "README.md": {Data: []byte("x")},
		".git/HEAD": {Data: []byte("x")}, "node_modules/a/index.js": {Data: []byte("x")}, ".env": {Data: []byte("A=1")},
		"npm-debug.log": {Data: []byte("x")},
	}
	existing := ".git\nnode_modules\n.env\n*.log\n"
	res := generateIn(t, fsys, "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", existing, Options{Ecosystems: []string{"node"}})
	if res.Changed() {
		t.Errorf("a file that keeps the context clean was changed:\n%s", res.New)
	}
	// A secret that turns up later is added, and only that.
	fsys["deploy/id_ed25519"] = &fstest.MapFile{Data: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n")}
	res = generateIn(t, fsys, "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", existing, Options{Ecosystems: []string{"node"}})
	if len(res.Added) != 1 || res.Added[0].Pattern != "**/id_ed25519*" {
		t.Errorf("added %v, want only **/id_ed25519*", res.Added)
	}
}

func TestEscapePattern(t *testing.T) {
	for p, want := range map[string]string{
		"build":        "build",
		"a[1]/*.txt":   `a\[1\]/\*.txt`,
		`odd\name^x?`:  `odd\\name\^x\?`,
		" leading":     "",
		"line\nbreak":  "",
		"ünïcödé/dätä": "ünïcödé/dätä",
	} {
		got, ok := escapePattern(p)
		if got != want || ok != (want != "") {
			t.Errorf("escapePattern(%q) = %q, %v; want %q", p, got, ok, want)
		}
		if ok && !isLiteralPattern(got) {
			t.Errorf("isLiteralPattern(%q) = false", got)
		}
		if ok {
			if hit, _ := patternmatcher.MatchesOrParentMatches(p, []string{got}); !hit {
				t.Errorf("pattern %q does not match %q", got, p)
			}
		}
	}
}

func TestConcrete(t *testing.T) {
	for pat, want := range map[string]string{
		"**/*.py[cod]":      "x.pyc",
		"**/.env.*":         ".env.x",
		"dist/**/x.js":      "dist/x.js",
		`a\*b`:              "a*b",
		"[!a]bc":            "xbc",
		"**/.config/gcloud": ".config/gcloud",
	} {
		if got := concrete(strings.TrimPrefix(pat, "**/")); got != want {
			t.Errorf("concrete(%q) = %q, want %q", pat, got, want)
		}
	}
}

// walkSent walks fsys afresh with patterns, as one caller without a
// shared tree does (see contextTree.walkSent).
func walkSent(fsys fs.FS, patterns []string, max int, visit func(sentEntry) error) (partial bool, err error) {
	return newContextTree(fsys).walkSent(newMatchers().list(patterns), max, visit)
}

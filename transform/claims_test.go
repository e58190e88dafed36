package transform

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/dockerfile"
)

// TestChangeClaimsHold reads every golden case (a rule's cases under
// testdata/<rule>/ and the applications under ../testdata/ecosystems) and
// checks that each claim a change description makes follows from the case's
// Dockerfile.golden: "added --no-cache-dir" means the flag is there, "runs
// as app (uid 10001)" means the final stage's USER is 10001, "a
// python:3.12-slim runtime" means that is the final FROM, and so on.
// Descriptions are split into clauses at "; ", and every clause must match
// a claim checker below: a rule that starts saying something new fails
// here until a checker proves it.
func TestChangeClaimsHold(t *testing.T) {
	var cases []string
	for _, pattern := range []string{"testdata/*/*/findings.golden", "../testdata/ecosystems/*/*/findings.golden"} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, found...)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d golden cases found", len(cases))
	}
	claims, withChanges, ran := 0, 0, 0
	knownFalseSeen = map[string]bool{}
	for _, findings := range cases {
		dir := filepath.Dir(findings)
		name := strings.TrimPrefix(filepath.ToSlash(dir), "../testdata/")
		name = strings.TrimPrefix(name, "testdata/")
		data, err := os.ReadFile(findings)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "change ") {
				changes = append(changes, line)
			}
		}
		if len(changes) == 0 {
			continue
		}
		withChanges++
		t.Run(name, func(t *testing.T) {
			ran++
			c := loadClaimCase(t, dir, name)
			for _, line := range changes {
				rule, desc, ok := parseChangeLine(line)
				if !ok {
					t.Fatalf("unreadable change line %q", line)
				}
				c.desc = desc
				for _, clause := range strings.Split(desc, "; ") {
					claims++
					checkClaim(t, c, rule, clause)
				}
			}
		})
	}
	if ran < withChanges {
		return // -run picked some cases: the totals below need them all
	}
	if claims < 100 {
		t.Errorf("only %d claims checked", claims)
	}
	for name, clauses := range knownFalseClaims {
		for clause := range clauses {
			if !knownFalseSeen[name+"\x00"+clause] {
				t.Errorf("knownFalseClaims lists %q for %s, which no change says any more: remove it", clause, name)
			}
		}
	}
}

// knownFalseSeen records the knownFalseClaims entries the golden cases
// still make.
var knownFalseSeen = map[string]bool{}

// claimCase is one golden case: its input, output and build context.
type claimCase struct {
	name   string
	dir    string // the build context
	input  *dockerfile.File
	output *dockerfile.File
	// desc is the whole description the clause being checked is part of.
	desc string
}

func loadClaimCase(t *testing.T, dir, name string) *claimCase {
	t.Helper()
	c := &claimCase{name: name, dir: dir}
	for _, f := range []struct {
		file string
		into **dockerfile.File
	}{{"Dockerfile", &c.input}, {"Dockerfile.golden", &c.output}} {
		src, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			t.Fatal(err)
		}
		if *f.into, err = dockerfile.Parse(f.file, src); err != nil {
			t.Fatalf("%s does not parse: %v", f.file, err)
		}
	}
	return c
}

var changeLine = regexp.MustCompile(`^change \d+-\d+ ([a-z0-9-]+): (.*)$`)

func parseChangeLine(line string) (rule, desc string, ok bool) {
	m := changeLine.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// knownFalseClaims are claims the checkers have found false in rules
// another change is fixing; each is reported as a skip, and fails once it
// holds, so that the entry is removed. Keyed by case, then by clause.
var knownFalseClaims = map[string]map[string]string{}

// evalClaim runs the checker for a clause; matched is false when none
// knows the phrase.
func evalClaim(c *claimCase, rule, clause string) (matched bool, err error) {
	for _, ch := range claimCheckers {
		if ch.rule != "" && ch.rule != rule {
			continue
		}
		if m := ch.phrase.FindStringSubmatch(clause); m != nil {
			return true, ch.check(c, rule, m)
		}
	}
	return false, nil
}

// checkClaim finds the checker for a clause and runs it.
func checkClaim(t *testing.T, c *claimCase, rule, clause string) {
	t.Helper()
	if matched, err := evalClaim(c, rule, clause); matched {
		if why, known := knownFalseClaims[c.name][clause]; known {
			knownFalseSeen[c.name+"\x00"+clause] = true
			if err == nil {
				t.Errorf("%s: %q now holds: remove it from knownFalseClaims", rule, clause)
				return
			}
			t.Run("known-false", func(t *testing.T) { t.Skipf("%s: %q: %v (%s)", rule, clause, err, why) })
			return
		}
		if err != nil {
			t.Errorf("%s claims %q, but Dockerfile.golden does not show it: %v", rule, clause, err)
		}
		return
	}
	t.Errorf("%s: no claim checker matches %q: add one to claims_test.go", rule, clause)
}

// TestClaimCheckersRejectFalseClaims feeds the checkers outputs that do
// not support their claims: each must fail, or the golden test above could
// pass whatever the rules say.
func TestClaimCheckersRejectFalseClaims(t *testing.T) {
	for _, tc := range []struct {
		rule, clause, input, output string
	}{
		{"pip-no-cache-dir", "added --no-cache-dir to pip install so pip's download cache stays out of the image",
			"FROM python:3.12\nRUN pip install flask\n", "FROM python:3.12\nRUN pip install flask\n"},
		{"exec-form-cmd", "CMD now uses exec form, so the app is PID 1 and receives SIGTERM",
			"FROM alpine\nCMD sh run.sh\n", "FROM alpine\nCMD sh run.sh\n"},
		{"non-root-user", "the app now runs as app (uid 10001), a system user created with useradd",
			"FROM debian\n", "FROM debian\nRUN useradd --uid 10001 app\nUSER 10002\n"},
		{"non-root-user", "it owns /app",
			"FROM debian\n", "FROM debian\nWORKDIR /app\nUSER 10001\n"},
		{"non-root-user", "2 COPY give the files to it",
			"FROM debian\n", "FROM debian\nRUN useradd --uid 10001 app\nCOPY --chown=app . .\nCOPY x y\nUSER 10001\n"},
		{"multi-stage-build", "split into a builder that installs the Python dependencies into /opt/venv and a python:3.12-slim runtime that receives only the virtualenv and the app",
			"FROM python:3.12\n", "FROM python:3.12 AS builder\nRUN python -m venv /opt/venv\nFROM python:3.12\nCOPY --from=builder /opt/venv /opt/venv\nCOPY . .\n"},
		{"multi-stage-build", "split into a builder that compiles the Go binary and a gcr.io/distroless/static-debian12:nonroot runtime that receives only /app/server",
			"FROM golang\n", "FROM golang AS builder\nRUN go build -o /app/server .\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=builder /app/server /app/server\nCOPY --from=builder /src /src\n"},
		{"multi-stage-build", "the build adds CGO_ENABLED=0, -trimpath and stripping",
			"FROM golang\n", "FROM golang AS builder\nRUN go build -trimpath -o /app/server .\nFROM scratch\nCOPY --from=builder /app/server /server\n"},
		{"multi-stage-build", "split into a builder that runs bundle install without the development and test groups and a ruby:3.3-slim runtime that receives the gems and the libraries they link",
			"FROM ruby:3.3\n", "FROM ruby:3.3 AS builder\nENV BUNDLE_WITHOUT=development:test\nRUN bundle install\nFROM ruby:3.3-slim\nCOPY --from=builder /usr/local/bundle /usr/local/bundle\n"},
		{"multi-stage-build", "the runtime's virtualenv leaves out wheel, setuptools and pip, unless an installed package requires them",
			"FROM python:3.12\n", "FROM python:3.12 AS builder\nRUN python -m venv /opt/venv\nRUN for tool in wheel pip; do /opt/venv/bin/pip uninstall -y \"$tool\"; done\n" +
				"RUN /opt/venv/bin/pip install flask\nFROM python:3.12-slim\nCOPY --from=builder /opt/venv /opt/venv\n"},
		{"multi-stage-build", "nginx gets a server block for serve's clean URLs and single-page fallback",
			"FROM node:20\n", "FROM node:20 AS builder\nFROM nginxinc/nginx-unprivileged:1.27-alpine\nCOPY <<'EOF' /etc/nginx/conf.d/default.conf\nserver { try_files $uri $uri.html =404; }\nEOF\n"},
		{"multi-stage-build", "the image's interface changes: it listens on port 8080 instead of 3000 (serve -l 3000)",
			"FROM node:20\nCMD serve -l 3000\n", "FROM node:20 AS builder\nFROM nginxinc/nginx-unprivileged:1.27-alpine\nEXPOSE 3000\n"},
		{"multi-stage-build", "nginx replaces serve, which is no longer installed",
			"FROM node:20\nRUN npm install -g serve\n", "FROM node:20 AS builder\nRUN npm install -g serve\nFROM nginxinc/nginx-unprivileged:1.27-alpine\n"},
		{"multi-stage-build", "the runtime installs serve as the Dockerfile did, since serve runs with --cors, which nginx does not reproduce",
			"FROM node:20\nRUN npm install -g serve\n", "FROM node:20 AS builder\nRUN npm install -g serve\nFROM node:20-slim\n"},
		{"slim-base", "moved from python:3.11 to python:3.11-slim, which lacks the full image's compilers, headers and tools (curl, git)",
			"FROM python:3.11\n", "FROM python:3.11\n"},
		{"slim-base", "nothing here needs them: apt-get installs only python3-flask and the image runs python",
			"FROM python:3.11\n", "FROM python:3.11-slim\nRUN apt-get install -y python3-flask curl\nRUN git pull\nCMD [\"python\", \"app.py\"]\n"},
		{"slim-base", "nothing here needs them: it installs no packages and the image runs node",
			"FROM node:20\n", "FROM node:20-slim\nRUN apt-get install -y jq\nCMD [\"node\", \"app.js\"]\n"},
		{"deps-before-source", "copy requirements.txt and install before copying the rest of the source, so dependency layers stay cached",
			"FROM python\n", "FROM python\nCOPY . .\nRUN pip install -r requirements.txt\n"},
		{"non-root-user", "it can write /app (the app's SQLite database, app.py:3), and the other files stay root's and read-only",
			"FROM debian\n", "FROM debian\nWORKDIR /app\nRUN useradd --uid 10001 app && chown app:app /app\nCOPY --chown=app:app . /srv\nUSER 10001\n"},
		{"non-root-user", "the app's files stay root's and read-only",
			"FROM debian\n", "FROM debian\nWORKDIR /app\nRUN useradd --uid 10001 app\nCOPY --chown=app:app . .\nUSER 10001\n"},
		{"non-root-user", "pip on line 3 installs into the image's site-packages instead of /root/.local, which only root can read",
			"FROM python\n", "FROM python\nRUN pip install --user flask\nUSER 10001\n"},
		{"non-root-user", "the app now listens on port 8080 instead of 80, since a non-root user cannot bind ports below 1024",
			"FROM node\n", "FROM node\nEXPOSE 80\nUSER 1000\n"},
		{"non-root-user", "the app now runs as app (uid 10001), a new system user, created with useradd with the home folder /home/app",
			"FROM debian\n", "FROM debian\nRUN useradd --uid 10001 --home-dir /srv app\nUSER 10001\n"},
		{"nginx-unprivileged", "serve with nginxinc/nginx-unprivileged:1.27, the same nginx running as a non-root user on port 8080",
			"FROM nginx\n", "FROM nginxinc/nginx-unprivileged:1.27\nEXPOSE 80\n"},
		{"slim-base", "python:3.11-slim is pinned to sha256:" + strings.Repeat("ab", 32) + ", the digest BuildKit resolved for that tag on the day of this build",
			"FROM python:3.11@sha256:" + strings.Repeat("cd", 32) + "\n", "FROM python:3.11-slim\n"},
		{"slim-base", "looking up the digest of python:3.11-slim through BuildKit failed: not found",
			"FROM python:3.11@sha256:" + strings.Repeat("cd", 32) + "\n", "FROM python:3.11-slim@sha256:" + strings.Repeat("ab", 32) + "\n"},
	} {
		c := &claimCase{name: "synthetic", dir: t.TempDir()}
		var err error
		if c.input, err = dockerfile.Parse("Dockerfile", []byte(tc.input)); err != nil {
			t.Fatal(err)
		}
		if c.output, err = dockerfile.Parse("Dockerfile.golden", []byte(tc.output)); err != nil {
			t.Fatal(err)
		}
		c.desc = tc.clause
		matched, err := evalClaim(c, tc.rule, tc.clause)
		switch {
		case !matched:
			t.Errorf("%s: no checker for %q", tc.rule, tc.clause)
		case err == nil:
			t.Errorf("%s: %q accepted for an output that does not show it:\n%s", tc.rule, tc.clause, tc.output)
		}
	}
	if matched, _ := evalClaim(&claimCase{}, "pip-no-cache-dir", "made the image faster"); matched {
		t.Error("an unknown phrase matched a checker")
	}
}

// claimChecker proves one kind of clause; rule restricts it to one rule's
// descriptions ("" for any).
type claimChecker struct {
	rule   string
	phrase *regexp.Regexp
	check  func(c *claimCase, rule string, m []string) error
}

// flagTools are the commands each flag-adding rule edits.
var flagTools = map[string][]string{
	"pip-no-cache-dir":          {"pip", "install"},
	"apk-no-cache":              {"apk", "add"},
	"apt-get-yes":               {"apt-get", "install"},
	"apt-no-install-recommends": {"apt-get", "install"},
	"gem-no-document":           {"gem", "install"},
	"pnpm-frozen-lockfile":      {"pnpm", "install"},
	"yarn-frozen-lockfile":      {"yarn", "install"},
}

var claimCheckers = []claimChecker{
	// Flags: "added --no-cache-dir to pip install so ...".
	{"", regexp.MustCompile(`^added (-[-a-z]+|-y)\b(?: to [a-z -]+)? so (.+)$`), func(c *claimCase, rule string, m []string) error {
		tool, ok := flagTools[rule]
		if !ok {
			return fmt.Errorf("no tool known for %s", rule)
		}
		if n := countCommands(c.output, tool, m[1]); n == 0 {
			return fmt.Errorf("no %s command with %s", strings.Join(tool, " "), m[1])
		}
		return lockfileClaim(c, m[2])
	}},
	{"add-to-copy", regexp.MustCompile(`^replaced ADD with COPY: the sources are plain local files$`), func(c *claimCase, _ string, _ []string) error {
		if count(c.output, "add") >= count(c.input, "add") {
			return fmt.Errorf("as many ADD instructions as before")
		}
		return nil
	}},
	{"apk-update-redundant", regexp.MustCompile(`^removed apk update, which apk add --no-cache makes redundant$`), func(c *claimCase, _ string, _ []string) error {
		if countCommands(c.output, []string{"apk", "update"}, "") >= countCommands(c.input, []string{"apk", "update"}, "") {
			return fmt.Errorf("as many apk update commands as before")
		}
		if countCommands(c.output, []string{"apk", "add"}, "--no-cache") == 0 {
			return fmt.Errorf("no apk add --no-cache")
		}
		return nil
	}},
	{"apt-get-over-apt", regexp.MustCompile(`^replaced apt with apt-get, whose interface is stable for scripts$`), func(c *claimCase, _ string, _ []string) error {
		if countCommands(c.output, []string{"apt"}, "") >= countCommands(c.input, []string{"apt"}, "") {
			return fmt.Errorf("as many apt commands as before")
		}
		return nil
	}},
	{"apt-lists-cleanup", regexp.MustCompile(`^removed /var/lib/apt/lists/\* in the same RUN, so the package lists do not ship in the image$`), func(c *claimCase, _ string, _ []string) error {
		for _, ins := range runs(c.output) {
			if runHas(ins, []string{"apt-get", "install"}, "") && strings.Contains(ins.Text(), "/var/lib/apt/lists/") {
				return nil
			}
		}
		return fmt.Errorf("no RUN both installs with apt-get and removes /var/lib/apt/lists")
	}},
	{"apt-update-merge", regexp.MustCompile(`^moved apt-get update into the RUN that installs \(line \d+\), so the lists are never cached stale$`), func(c *claimCase, _ string, _ []string) error {
		for _, ins := range runs(c.output) {
			if runHas(ins, []string{"apt-get", "update"}, "") && runHas(ins, []string{"apt-get", "install"}, "") {
				return nil
			}
		}
		return fmt.Errorf("no RUN both updates and installs")
	}},
	{"apt-update-merge", regexp.MustCompile(`^removed a separate apt-get update: the RUN that installs \(line \d+\) already updates$`), func(c *claimCase, _ string, _ []string) error {
		if countCommands(c.output, []string{"apt-get", "update"}, "") >= countCommands(c.input, []string{"apt-get", "update"}, "") {
			return fmt.Errorf("as many apt-get update commands as before")
		}
		return nil
	}},
	{"exec-form-cmd", regexp.MustCompile(`^(CMD|ENTRYPOINT) now uses exec form, so the app is PID 1 and receives SIGTERM$`), func(c *claimCase, _ string, m []string) error {
		kw := strings.ToLower(m[1])
		if shellForm(c.output, kw) >= shellForm(c.input, kw) {
			return fmt.Errorf("as many shell-form %s instructions as before", m[1])
		}
		return nil
	}},
	{"npm-ci", regexp.MustCompile(`^replaced npm install with npm ci, which installs exactly what (\S+) pins$`), func(c *claimCase, _ string, m []string) error {
		if countCommands(c.output, []string{"npm", "ci"}, "") == 0 {
			return fmt.Errorf("no npm ci")
		}
		return lockfileClaim(c, "exactly what "+m[1]+" pins")
	}},
	{"nginx-unprivileged", regexp.MustCompile(`^serve with (\S+), the same nginx running as a non-root user on port 8080$`), func(c *claimCase, _ string, m []string) error {
		for _, st := range c.output.Stages {
			if st.BaseName == m[1] {
				return exposesOnly(st, "8080")
			}
		}
		return fmt.Errorf("no stage is FROM %s", m[1])
	}},
	{"deps-before-source", regexp.MustCompile(`^copy (.+) and install before copying the rest of the source, so dependency layers stay cached$`), func(c *claimCase, _ string, m []string) error {
		return manifestsFirst(c, splitList(m[1]), "")
	}},
	{"deps-before-source", regexp.MustCompile(`^copy (.+) and run (go mod download) before the source, so module downloads stay cached$`), func(c *claimCase, _ string, m []string) error {
		return manifestsFirst(c, splitList(m[1]), m[2])
	}},
	{"deps-before-source", regexp.MustCompile(`^run the install before copying the rest of the source, so dependency layers stay cached$`), func(c *claimCase, _ string, _ []string) error {
		return manifestsFirst(c, nil, "")
	}},

	// multi-stage-build: "split into a builder that WHAT and a RUNTIME
	// runtime that receives ...", with what the runtime receives.
	{"multi-stage-build", regexp.MustCompile(`^split into a builder that (.+?) and (?:a (\S+) runtime|an unprivileged nginx \((\S+), port (\d+)\)) that (receives only|receives|serves) (.+)$`), checkSplit},
	{"slim-base", regexp.MustCompile(`^moved from (\S+) to (\S+), which lacks the full image's .+$`), func(c *claimCase, _ string, m []string) error {
		in, _ := c.input.ExpandGlobalArgs(finalStage(c.input).BaseName)
		out, _ := c.output.ExpandGlobalArgs(finalStage(c.output).BaseName)
		if in != m[1] || out != m[2] {
			return fmt.Errorf("the final stage moved from %s to %s, not from %s to %s", in, out, m[1], m[2])
		}
		if len(c.output.Stages) != len(c.input.Stages) {
			return fmt.Errorf("the stages changed too: %d, then %d", len(c.input.Stages), len(c.output.Stages))
		}
		return nil
	}},
	{"slim-base", regexp.MustCompile(`^nothing here needs them: (.+)$`), func(c *claimCase, _ string, m []string) error {
		return slimEvidenceClaim(c, m[1])
	}},
	{"", regexp.MustCompile(`^(\S+) is pinned by tag only, not by digest as (\S+) was$`), func(c *claimCase, _ string, m []string) error {
		if base, _ := c.output.ExpandGlobalArgs(finalStage(c.output).BaseName); base != m[1] {
			return fmt.Errorf("the final stage is FROM %s, not %s", base, m[1])
		}
		return inputPinned(c)
	}},
	// A digest that the case's digests.txt says was looked up for the tag
	// is the final FROM's, and the input pinned its base by digest.
	{"", regexp.MustCompile(`^(\S+) is pinned to (sha256:[0-9a-f]{64}), the digest BuildKit resolved for that tag on the day of this build$`), func(c *claimCase, _ string, m []string) error {
		if base, _ := c.output.ExpandGlobalArgs(finalStage(c.output).BaseName); base != m[1]+"@"+m[2] {
			return fmt.Errorf("the final stage is FROM %s, not %s@%s", base, m[1], m[2])
		}
		if strings.Contains(string(c.input.Src), m[2]) {
			return fmt.Errorf("the input already has %s", m[2])
		}
		if err := inputPinned(c); err != nil {
			return err
		}
		digests, err := readDigests(c.dir)
		if err != nil {
			return err
		}
		if got := digests[m[1]]; got.Digest != m[2] {
			return fmt.Errorf("the lookup of %s found %q, not %s", m[1], got.Digest, m[2])
		}
		return nil
	}},
	{"", regexp.MustCompile(`^looking up the digest of (\S+) through BuildKit failed: (.+)$`), func(c *claimCase, _ string, m []string) error {
		if base, _ := c.output.ExpandGlobalArgs(finalStage(c.output).BaseName); base != m[1] {
			return fmt.Errorf("the final stage is FROM %s, not %s", base, m[1])
		}
		digests, err := readDigests(c.dir)
		if err != nil {
			return err
		}
		if got, ok := digests[m[1]]; !ok || got.Digest != "" || oneClause(got.Failure) != m[2] {
			return fmt.Errorf("the lookup of %s did not fail with %q: %+v", m[1], m[2], got)
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^the runtime's virtualenv leaves out (.+), unless an installed package requires (?:them|it)$`), func(c *claimCase, _ string, m []string) error {
		return leanVenvClaim(c, splitList(m[1]))
	}},
	{"multi-stage-build", regexp.MustCompile(`^nginx gets a server block for serve's clean URLs( and single-page fallback)?$`), func(c *claimCase, _ string, m []string) error {
		return nginxServerBlockClaim(c, m[1] != "")
	}},
	{"multi-stage-build", regexp.MustCompile(`^the image's interface changes: it listens on port 8080 instead of (\d+) \((.+)\)$`), func(c *claimCase, _ string, m []string) error {
		if err := exposesOnly(finalStage(c.output), "8080"); err != nil {
			return err
		}
		if !strings.HasSuffix(m[2], "default") && !strings.Contains(string(c.input.Src), m[1]) {
			return fmt.Errorf("the original final stage does not mention port %s", m[1])
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^nginx replaces (.+), which is no longer installed$`), func(c *claimCase, _ string, m []string) error {
		for _, pkg := range splitList(m[1]) {
			if !installsGlobally(c.input, pkg) {
				return fmt.Errorf("the input does not install %s globally", pkg)
			}
			if installsGlobally(c.output, pkg) {
				return fmt.Errorf("the output still installs %s", pkg)
			}
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^the runtime installs (\S+) as the Dockerfile did, since .+, which nginx does not reproduce$`), func(c *claimCase, _ string, m []string) error {
		for _, ins := range finalStage(c.output).Instructions {
			if ins.Keyword == "run" && strings.Contains(ins.Text(), " -g ") && strings.Contains(ins.Text(), m[1]) {
				return nil
			}
		}
		return fmt.Errorf("the runtime does not install %s globally", m[1])
	}},
	{"multi-stage-build", regexp.MustCompile(`^NODE_ENV=production$`), func(c *claimCase, _ string, _ []string) error {
		if !setsEnv(finalStage(c.output), "NODE_ENV", "production") {
			return fmt.Errorf("the runtime does not set NODE_ENV=production")
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^dev dependencies removed with (npm prune --omit=dev|npm prune --production|yarn install --production)(?:, since .+)?$`), func(c *claimCase, _ string, m []string) error {
		words := strings.Fields(m[1])
		if countCommands(c.output, words[:2], words[2]) == 0 {
			return fmt.Errorf("no %s in the output", m[1])
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^dev dependencies kept and NODE_ENV left alone, because the image runs a development server: .+$`), func(c *claimCase, _ string, _ []string) error {
		if prunes(c.output) {
			return fmt.Errorf("a step still removes the development dependencies")
		}
		if setsEnv(finalStage(c.output), "NODE_ENV", "production") && !setsEnv(finalStage(c.input), "NODE_ENV", "production") {
			return fmt.Errorf("the runtime sets NODE_ENV=production")
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^every group is kept because .+$`), func(c *claimCase, _ string, _ []string) error {
		if strings.Contains(string(c.output.Src), "BUNDLE_WITHOUT") && !strings.Contains(string(c.input.Src), "BUNDLE_WITHOUT") {
			return fmt.Errorf("the output sets BUNDLE_WITHOUT")
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^the runtime also installs (?:the runtime packages )?(.+)$`), func(c *claimCase, _ string, m []string) error {
		return installsPackages(finalStage(c.output), m[1])
	}},
	{"multi-stage-build", regexp.MustCompile(`^the build adds (.+)$`), func(c *claimCase, _ string, m []string) error {
		build := builderText(c.output)
		for _, part := range splitList(m[1]) {
			var want []string
			switch part {
			case "stripping":
				want = []string{"-s -w"}
			default:
				want = []string{part}
			}
			for _, w := range want {
				if !strings.Contains(build, w) {
					return fmt.Errorf("the builder's RUN has no %s", w)
				}
			}
		}
		return nil
	}},

	// non-root-user.
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), a system user created with (useradd|adduser)$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		for _, ins := range runs(finalStage(c.output)) {
			if runHas(ins, []string{m[3]}, "") && strings.Contains(ins.Text(), m[2]) && strings.Contains(ins.Text(), " "+m[1]) {
				return nil
			}
		}
		return fmt.Errorf("no RUN in the final stage creates %s with uid %s using %s", m[1], m[2], m[3])
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), the non-root user the base image ships$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		for _, ins := range runs(finalStage(c.output)) {
			if runHas(ins, []string{"useradd"}, "") || runHas(ins, []string{"adduser"}, "") {
				return fmt.Errorf("the final stage creates a user: %s", ins.Text())
			}
		}
		return nil
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+), the (user the Dockerfile already creates|non-root user the base image ships)$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, "", m[1]); err != nil {
			return err
		}
		if m[2] == "user the Dockerfile already creates" && !createsUser(c.input, m[1]) {
			return fmt.Errorf("the Dockerfile does not create %s", m[1])
		}
		return nil
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as uid (\d+) \(scratch has no user database, so the uid is numeric\)$`), func(c *claimCase, _ string, m []string) error {
		if base := finalStage(c.output).BaseName; base != "scratch" {
			return fmt.Errorf("the final stage is FROM %s, not scratch", base)
		}
		return finalUserIs(c.output, m[1], "")
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), a new system user, created with (useradd|adduser) with the home folder (\S+)$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		return createsIn(finalStage(c.output), m[3], m[1], m[2], m[4])
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), a new system user with the uid (\S+) service (\S+) runs the container as, created with (useradd|adduser) with the home folder (\S+)$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(c.dir, m[3]))
		if err != nil {
			return fmt.Errorf("no compose file %s: %v", m[3], err)
		}
		if !regexp.MustCompile(`(?m)^\s*user:\s*["']?` + m[2] + `\b`).Match(data) {
			return fmt.Errorf("%s does not run a service as uid %s", m[3], m[2])
		}
		return createsIn(finalStage(c.output), m[5], m[1], m[2], m[6])
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), the user the Dockerfile already creates$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		if !createsUser(c.input, m[1]) {
			return fmt.Errorf("the Dockerfile does not create %s", m[1])
		}
		return nil
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), whom the Dockerfile already gives its files$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		for _, ins := range c.input.Instructions {
			if chown, ok := ins.Flag("chown"); ok && strings.HasPrefix(chown+":", m[1]+":") {
				return nil
			}
			for _, cmd := range commands(ins) {
				if cmd.Name() == "chown" && slices.ContainsFunc(cmd.Args, func(a string) bool { return strings.HasPrefix(a+":", m[1]+":") }) {
					return nil
				}
			}
		}
		return fmt.Errorf("the Dockerfile gives %s no files", m[1])
	}},
	{"non-root-user", regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\), the user stage (\S+) creates, now made in this stage too, created with (useradd|adduser) with the home folder (\S+)$`), func(c *claimCase, _ string, m []string) error {
		if err := finalUserIs(c.output, m[2], m[1]); err != nil {
			return err
		}
		st := c.output.StageByName(m[3])
		if st == nil {
			return fmt.Errorf("no stage %s", m[3])
		}
		if err := createsIn(st, "", m[1], "", ""); err != nil {
			return fmt.Errorf("stage %s: %v", m[3], err)
		}
		return createsIn(finalStage(c.output), m[4], m[1], m[2], m[5])
	}},
	{"non-root-user", regexp.MustCompile(`^it can write (.+), and the other files stay root's and read-only$`), func(c *claimCase, _ string, m []string) error {
		var paths []string
		for _, w := range regexp.MustCompile(`(?:^|, | and )(/[^\s,()]*)`).FindAllStringSubmatch(withoutParens(m[1]), -1) {
			paths = append(paths, w[1])
		}
		if len(paths) == 0 {
			return fmt.Errorf("no path in %q", m[1])
		}
		for _, p := range paths {
			if !ownedByUser(c, p) {
				return fmt.Errorf("nothing gives %s to the user", p)
			}
		}
		return onlyThese(c, paths)
	}},
	{"non-root-user", regexp.MustCompile(`^the app's files stay root's and read-only$`), func(c *claimCase, _ string, _ []string) error {
		return onlyThese(c, nil)
	}},
	{"non-root-user", regexp.MustCompile(`^pip on line \d+ installs into the image's site-packages instead of /root/\.local, which only root can read$`), func(c *claimCase, _ string, _ []string) error {
		if n := countCommands(c.output, []string{"pip", "install"}, "--user"); n > 0 {
			return fmt.Errorf("%d pip install --user left", n)
		}
		return nil
	}},
	{"non-root-user", regexp.MustCompile(`^poetry makes its virtualenv in the project's \.venv instead of under /root/\.cache, which only root can read$`), func(c *claimCase, _ string, _ []string) error {
		for _, st := range c.output.Stages {
			if setsEnv(st, "POETRY_VIRTUALENVS_IN_PROJECT", "true") || setsEnv(st, "POETRY_VIRTUALENVS_IN_PROJECT", "1") {
				return nil
			}
		}
		if strings.Contains(stageText(finalStage(c.output)), "virtualenvs.in-project true") {
			return nil
		}
		return fmt.Errorf("nothing sets POETRY_VIRTUALENVS_IN_PROJECT or virtualenvs.in-project")
	}},
	{"non-root-user", regexp.MustCompile(`^the app now listens on port (\d+) instead of (\d+), since .+$`), func(c *claimCase, _ string, m []string) error {
		if err := exposesOnly(finalStage(c.output), m[1]); err != nil {
			return err
		}
		if strings.Contains(stageText(finalStage(c.output)), ":"+m[2]+"/") {
			return fmt.Errorf("the final stage still reaches port %s", m[2])
		}
		return nil
	}},
	{"multi-stage-build", regexp.MustCompile(`^the runtime creates (\S+) too, since USER names it$`), func(c *claimCase, _ string, m []string) error {
		return createsIn(finalStage(c.output), "", m[1], "", "")
	}},
	{"non-root-user", regexp.MustCompile(`^(\d+) COPY (?:gives|give) the files to it$`), func(c *claimCase, _ string, m []string) error {
		want, _ := strconv.Atoi(m[1])
		user := lastFinalUser(c.output)
		// The description names the user and its uid first.
		name := ""
		if u := regexp.MustCompile(`^the app now runs as (\S+)`).FindStringSubmatch(c.desc); u != nil {
			name = u[1]
		}
		n := 0
		for _, ins := range finalStage(c.output).Instructions {
			chown, ok := ins.Flag("chown")
			owner, _, _ := strings.Cut(chown, ":")
			if ok && ins.Keyword == "copy" && (owner == name || ownerMatches(chown, user, c.output)) {
				n++
			}
		}
		if n < want {
			return fmt.Errorf("%d COPY --chown to the user %s in the final stage, want %d", n, user, want)
		}
		return nil
	}},
	{"non-root-user", regexp.MustCompile(`^it owns (.+)$`), func(c *claimCase, _ string, m []string) error {
		for _, dir := range strings.Split(m[1], ", ") {
			owned := false
			for _, ins := range runs(finalStage(c.output)) {
				for _, cmd := range commands(ins) {
					if cmd.Name() == "chown" && slices.Contains(cmd.Args[cmd.Prog+1:], dir) {
						owned = true
					}
				}
			}
			if !owned {
				return fmt.Errorf("no chown of %s in the final stage", dir)
			}
		}
		return nil
	}},
}

// checkSplit proves a multi-stage-build summary: the final stage is FROM
// the runtime named, an earlier stage builds, and the runtime receives what
// the summary lists from it.
func checkSplit(c *claimCase, _ string, m []string) error {
	what, runtime, nginx, port, receives, rest := m[1], m[2], m[3], m[4], m[5], m[6]
	final := finalStage(c.output)
	if len(c.output.Stages) < 2 {
		return fmt.Errorf("one stage only")
	}
	if runtime == "" {
		runtime = nginx
	}
	if final.BaseName != runtime {
		return fmt.Errorf("the final stage is FROM %s, not %s", final.BaseName, runtime)
	}
	builder := builderText(c.output)
	if err := builderDoes(builder, what); err != nil {
		return err
	}
	copied := copiesFromStage(c.output, final)
	switch receives {
	case "serves":
		if err := exposesOnly(final, port); err != nil {
			return err
		}
		for _, cp := range copied {
			if path.Base(cp.src) == path.Base(rest) && cp.dest == "/usr/share/nginx/html" {
				return nil
			}
		}
		return fmt.Errorf("the nginx stage receives no %s in /usr/share/nginx/html", rest)
	case "receives only":
		return receivesOnly(c, final, copied, rest)
	}
	return receivesWhat(c, final, copied, rest)
}

// builderDoes checks the builder clause against the builder stages' RUNs.
func builderDoes(builder, what string) error {
	var want []string
	switch {
	case strings.HasPrefix(what, "installs the Python dependencies into "):
		want = []string{"venv " + strings.TrimPrefix(what, "installs the Python dependencies into ")}
	case strings.HasPrefix(what, "installs and builds with "):
		want = []string{strings.TrimPrefix(what, "installs and builds with ")}
	case what == "builds the static site":
		want = []string{"build"}
	case what == "runs bundle install without the development and test groups":
		want = []string{"bundle", "development", "test"}
	case what == "runs bundle install with every group":
		want = []string{"bundle"}
		if strings.Contains(builder, "BUNDLE_WITHOUT") {
			return fmt.Errorf("the builder sets BUNDLE_WITHOUT")
		}
	case strings.HasPrefix(what, "runs bundle install with the groups ") && strings.HasSuffix(what, " leaves out"):
		want = []string{"bundle", "without"}
	case what == "runs composer install --no-dev":
		want = []string{"composer install", "--no-dev"}
	case what == "publishes the .NET app":
		want = []string{"dotnet publish"}
	case strings.HasPrefix(what, "builds the application archive with "):
		want = []string{strings.TrimPrefix(what, "builds the application archive with ")}
	case what == "compiles the Go binary":
		want = []string{"go build"}
	case what == "compiles the Rust binary":
		want = []string{"cargo "}
		if !strings.Contains(builder, "cargo build") && !strings.Contains(builder, "cargo install") {
			return fmt.Errorf("the builder stages neither cargo build nor cargo install")
		}
	default:
		return fmt.Errorf("no check for a builder that %s", what)
	}
	for _, w := range want {
		if !strings.Contains(builder, w) {
			return fmt.Errorf("the builder stages never mention %q", w)
		}
	}
	return nil
}

// receivesOnly proves "receives only P1, P2": each is copied from the
// builder, and the final stage copies nothing else from it.
func receivesOnly(c *claimCase, final *dockerfile.Stage, copied []stageCopy, list string) error {
	switch list {
	case "the virtualenv and the app", "the virtualenv":
		return receivesWhat(c, final, copied, list)
	}
	want := strings.Split(list, ", ")
	for _, w := range want {
		found := false
		for _, cp := range copied {
			found = found || cp.src == w
		}
		if !found {
			return fmt.Errorf("the runtime does not receive %s from the builder (it receives %v)", w, copied)
		}
	}
	for _, cp := range copied {
		if !slices.Contains(want, cp.src) {
			return fmt.Errorf("the runtime also receives %s, but the summary says only %s", cp.src, list)
		}
	}
	return nil
}

// receivesWhat proves the other receive clauses of multi-stage-build.
func receivesWhat(c *claimCase, final *dockerfile.Stage, copied []stageCopy, what string) error {
	has := func(pred func(stageCopy) bool) bool { return slices.ContainsFunc(copied, pred) }
	fromContext := false
	for _, ins := range final.Instructions {
		if cp, ok := ins.Command.(*instructions.CopyCommand); ok && cp.From == "" {
			fromContext = true
		}
	}
	switch {
	case strings.HasPrefix(what, "the virtualenv"):
		if !has(func(cp stageCopy) bool { return strings.Contains(builderText(c.output), "venv "+cp.src) }) {
			return fmt.Errorf("the runtime receives no virtualenv from the builder")
		}
		app := strings.Contains(what, "and the app")
		if app != fromContext {
			return fmt.Errorf("the summary says the app is received: %v; the runtime copies from the build context: %v", app, fromContext)
		}
		if others := strings.HasSuffix(what, ", and keeps its copies from other stages"); others != copiesFromOtherStages(c.output, final) {
			return fmt.Errorf("the summary says other stages' copies are kept: %v, and the output disagrees", others)
		}
		return nil
	case strings.HasPrefix(what, "the finished app"):
		if len(copied) == 0 {
			return fmt.Errorf("the runtime receives nothing from the builder")
		}
		if strings.Contains(what, "production dependencies only") && !prunes(c.output) {
			return fmt.Errorf("no step removes the development dependencies")
		}
		if strings.Contains(what, "NODE_ENV=production") && !setsEnv(final, "NODE_ENV", "production") {
			return fmt.Errorf("the runtime does not set NODE_ENV=production")
		}
		return nil
	case strings.HasPrefix(what, "the gems"):
		if !has(func(cp stageCopy) bool { return strings.Contains(cp.src, "bundle") || strings.Contains(cp.src, "gems") }) {
			return fmt.Errorf("the runtime receives no gems from the builder")
		}
		if _, pkgs, ok := strings.Cut(what, " and installs "); ok {
			return installsPackages(final, strings.TrimPrefix(pkgs, "the runtime packages "))
		}
		if strings.Contains(what, "the libraries they link") && !providesLibraries(final, copied) {
			return fmt.Errorf("the runtime neither receives nor installs a library")
		}
		return nil
	case strings.HasPrefix(what, "the vendor folder"):
		if !has(func(cp stageCopy) bool { return path.Base(cp.src) == "vendor" }) {
			return fmt.Errorf("the runtime receives no vendor folder")
		}
		if strings.Contains(what, "without composer") {
			for _, ins := range final.Instructions {
				if strings.Contains(ins.Text(), "/usr/bin/composer") || ins.Keyword == "run" && strings.Contains(ins.Text(), "composer ") {
					return fmt.Errorf("the runtime still has composer: %s", ins.Text())
				}
			}
		}
		return nil
	}
	return fmt.Errorf("no check for a runtime that receives %s", what)
}

// lockfileClaim checks "exactly what X pins" and "versions X does not pin":
// the lockfile is in the build context.
func lockfileClaim(c *claimCase, reason string) error {
	m := regexp.MustCompile(`(?:exactly what|versions) (\S+) (?:pins|does not pin)`).FindStringSubmatch(reason)
	if m == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(c.dir, m[1])); err != nil {
		if _, err := os.Stat(filepath.Join(c.dir, "NO_CONTEXT")); err == nil {
			return nil // a case without a build context
		}
		return fmt.Errorf("the build context has no %s", m[1])
	}
	return nil
}

// manifestsFirst proves deps-before-source: in file order (a split moves
// the source copy into the runtime stage), the manifests are copied, then
// an install (or the step) runs, then the rest of the source is copied.
func manifestsFirst(c *claimCase, manifests []string, step string) error {
	copied := map[string]bool{}
	installed := false
	for _, ins := range c.output.Instructions {
		switch cmd := ins.Command.(type) {
		case *instructions.CopyCommand:
			if cmd.From != "" {
				continue
			}
			whole := false
			for _, src := range cmd.SourcePaths {
				whole = whole || path.Clean(src) == "." || strings.HasSuffix(src, "/")
				if !whole {
					copied[path.Clean(src)] = true
				}
			}
			if whole && installed {
				for _, mf := range manifests {
					if !copied[path.Clean(mf)] && !copiedByPattern(copied, mf) {
						return fmt.Errorf("%s is not copied before the install", mf)
					}
				}
				return nil
			}
		case *instructions.RunCommand:
			if step == "" || strings.Contains(ins.Text(), step) {
				installed = installed || len(copied) > 0 || manifests == nil
			}
		}
	}
	return fmt.Errorf("the manifests are not copied and installed before the source")
}

// copiedByPattern reports whether a COPY source pattern (package*.json)
// took the file along.
func copiedByPattern(copied map[string]bool, file string) bool {
	for src := range copied {
		if ok, _ := path.Match(src, file); ok {
			return true
		}
	}
	return false
}

// splitList reads "a, b and c" and "a and b".
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ", ") {
		out = append(out, strings.Split(part, " and ")...)
	}
	return out
}

func finalStage(f *dockerfile.File) *dockerfile.Stage { return f.FinalStage() }

func count(f *dockerfile.File, keyword string) int {
	n := 0
	for _, ins := range f.Instructions {
		if ins.Keyword == keyword {
			n++
		}
	}
	return n
}

func shellForm(f *dockerfile.File, keyword string) int {
	n := 0
	for _, ins := range f.Instructions {
		if ins.Keyword == keyword && !ins.IsJSON() {
			n++
		}
	}
	return n
}

func runs(x any) []*dockerfile.Instruction {
	var all []*dockerfile.Instruction
	switch v := x.(type) {
	case *dockerfile.File:
		all = v.Instructions
	case *dockerfile.Stage:
		all = v.Instructions
	}
	var out []*dockerfile.Instruction
	for _, ins := range all {
		if ins.Keyword == "run" {
			out = append(out, ins)
		}
	}
	return out
}

func commands(ins *dockerfile.Instruction) []*dockerfile.Command {
	s, err := ins.Script()
	if err != nil {
		return nil
	}
	return s.Commands
}

// matches reports whether a command is tool[0] (with the subcommand
// tool[1], when given) and, when flag is set, has it.
func matches(cmd *dockerfile.Command, tool []string, flag string) bool {
	name := cmd.Name()
	switch {
	case tool[0] == "pip" && (name == "pip3" || name == "python" || name == "python3") && strings.Contains(cmd.Text(), "pip"):
	case name != tool[0]:
		return false
	}
	if len(tool) > 1 && !slices.Contains(cmd.Args[cmd.Prog+1:], tool[1]) && !(tool[0] == "yarn" && cmd.NArgs() >= 1) &&
		!(tool[0] == "gem" && tool[1] == "install" && slices.Contains(cmd.Args[cmd.Prog+1:], "i")) {
		return false
	}
	return flag == "" || cmd.HasArg(flag) || len(flag) == 2 && cmd.HasShortFlag(flag[1])
}

func runHas(ins *dockerfile.Instruction, tool []string, flag string) bool {
	return slices.ContainsFunc(commands(ins), func(c *dockerfile.Command) bool { return matches(c, tool, flag) })
}

func countCommands(f *dockerfile.File, tool []string, flag string) int {
	n := 0
	for _, ins := range runs(f) {
		for _, c := range commands(ins) {
			if matches(c, tool, flag) {
				n++
			}
		}
	}
	return n
}

// lastFinalUser is the final stage's last USER, "" when there is none.
func lastFinalUser(f *dockerfile.File) string {
	user := ""
	for _, ins := range finalStage(f).Instructions {
		if ins.Keyword == "user" && len(ins.Args()) > 0 {
			user = ins.Args()[0]
		}
	}
	return user
}

// finalUserIs checks the final USER against a uid or a name (either may be
// empty).
func finalUserIs(f *dockerfile.File, uid, name string) error {
	user, _, _ := strings.Cut(lastFinalUser(f), ":")
	if user == "" || user == uid || user == name {
		if user != "" {
			return nil
		}
	}
	return fmt.Errorf("the final stage's USER is %q, want uid %s or %s", lastFinalUser(f), uid, name)
}

// ownerMatches reports whether a --chown value names the user (by name or
// uid) the final USER names, or the user created with that uid.
func ownerMatches(chown, user string, f *dockerfile.File) bool {
	owner, _, _ := strings.Cut(chown, ":")
	u, _, _ := strings.Cut(user, ":")
	if owner == u {
		return true
	}
	// USER 10001 with --chown=app: the account app is created with 10001.
	for _, ins := range runs(finalStage(f)) {
		if strings.Contains(ins.Text(), " "+owner) && strings.Contains(ins.Text(), u) {
			return true
		}
	}
	return false
}

// createsIn checks that a RUN in the stage creates the user name with the
// tool, uid and home folder given (those that are not empty).
func createsIn(st *dockerfile.Stage, tool, name, uid, home string) error {
	for _, ins := range runs(st) {
		for _, cmd := range commands(ins) {
			if cmd.Name() != "useradd" && cmd.Name() != "adduser" || tool != "" && cmd.Name() != tool || !slices.Contains(cmd.Args, name) {
				continue
			}
			if uid != "" && !slices.Contains(cmd.Args, uid) || home != "" && !slices.Contains(cmd.Args, home) {
				return fmt.Errorf("%s creates %s, but not with uid %s and home %s", cmd.Name(), name, uid, home)
			}
			return nil
		}
	}
	return fmt.Errorf("no RUN in the stage creates %s", name)
}

// userNames are the names the final USER goes by: itself and the account
// a RUN of the final stage creates with its uid.
func userNames(f *dockerfile.File) []string {
	user, _, _ := strings.Cut(lastFinalUser(f), ":")
	names := []string{user}
	for _, ins := range runs(finalStage(f)) {
		for _, cmd := range commands(ins) {
			if (cmd.Name() == "useradd" || cmd.Name() == "adduser") && slices.Contains(cmd.Args, user) {
				names = append(names, cmd.Args[len(cmd.Args)-1])
			}
		}
	}
	return names
}

// ownedByUser reports whether a chown in the final stage gives p to the
// final user.
func ownedByUser(c *claimCase, p string) bool {
	names := userNames(c.output)
	// A user the base image ships has no useradd to name it: the
	// description names it ("runs as node (uid 1000)") and USER its uid.
	if u := regexp.MustCompile(`^the app now runs as (\S+) \(uid (\d+)\)`).FindStringSubmatch(c.desc); u != nil && slices.Contains(names, u[2]) {
		names = append(names, u[1])
	}
	for _, ins := range finalStage(c.output).Instructions {
		for _, cmd := range commands(ins) {
			if cmd.Name() == "chown" && slices.Contains(cmd.Args, p) && slices.ContainsFunc(cmd.Args, func(a string) bool {
				owner, _, _ := strings.Cut(a, ":")
				return slices.Contains(names, owner)
			}) {
				return true
			}
		}
	}
	return false
}

// onlyThese checks "the other files stay root's": every chown and COPY
// --chown of the final stage is of one of the paths the app writes (or
// below them).
func onlyThese(c *claimCase, paths []string) error {
	within := func(p string) bool {
		return slices.ContainsFunc(paths, func(w string) bool { return p == w || strings.HasPrefix(p, strings.TrimSuffix(w, "/")+"/") })
	}
	wd := "/"
	for _, ins := range finalStage(c.output).Instructions {
		wd = workdirAfter(wd, ins)
		if _, ok := ins.Flag("chown"); ok && ins.Keyword != "run" {
			dest := path.Join(wd, ins.Args()[len(ins.Args())-1])
			if strings.HasPrefix(ins.Args()[len(ins.Args())-1], "/") {
				dest = path.Clean(ins.Args()[len(ins.Args())-1])
			}
			if !within(dest) {
				return fmt.Errorf("%s gives %s to the user", ins.Text(), dest)
			}
		}
		for _, cmd := range commands(ins) {
			if cmd.Name() != "chown" {
				continue
			}
			for _, a := range cmd.Args[cmd.Prog+2:] {
				if strings.HasPrefix(a, "/") && !within(path.Clean(a)) {
					return fmt.Errorf("chown gives %s to the user", a)
				}
			}
		}
	}
	return nil
}

func createsUser(f *dockerfile.File, name string) bool {
	for _, ins := range runs(f) {
		for _, c := range commands(ins) {
			if (c.Name() == "useradd" || c.Name() == "adduser") && slices.Contains(c.Args, name) {
				return true
			}
		}
	}
	return false
}

// stageCopy is a COPY --from of an earlier stage into the final one.
type stageCopy struct{ src, dest string }

func copiesFromStage(f *dockerfile.File, final *dockerfile.Stage) []stageCopy {
	stages := map[string]bool{}
	for _, st := range f.Stages[:len(f.Stages)-1] {
		stages[strconv.Itoa(st.Index)] = true
		if st.Name != "" {
			stages[st.Name] = true
		}
	}
	var out []stageCopy
	for _, ins := range final.Instructions {
		cp, ok := ins.Command.(*instructions.CopyCommand)
		if !ok || !stages[strings.ToLower(cp.From)] {
			continue
		}
		for _, src := range cp.SourcePaths {
			out = append(out, stageCopy{src: src, dest: cp.DestPath})
		}
	}
	return out
}

// builderText is the text of every stage but the final one.
func builderText(f *dockerfile.File) string {
	var b strings.Builder
	for _, st := range f.Stages[:len(f.Stages)-1] {
		b.WriteString(stageText(st))
	}
	return b.String()
}

func stageText(st *dockerfile.Stage) string {
	var b strings.Builder
	for _, ins := range st.Instructions {
		b.WriteString(ins.Text() + "\n")
	}
	return b.String()
}

func exposesOnly(st *dockerfile.Stage, port string) error {
	for _, ins := range st.Instructions {
		if ins.Keyword != "expose" {
			continue
		}
		for _, p := range ins.Args() {
			if strings.TrimSuffix(p, "/tcp") != port {
				return fmt.Errorf("the stage exposes %s, not %s", p, port)
			}
		}
	}
	return nil
}

// prunes reports whether some step installs or keeps production
// dependencies only.
func prunes(f *dockerfile.File) bool {
	for _, ins := range runs(f) {
		t := ins.Text()
		if strings.Contains(t, "--omit=dev") || strings.Contains(t, "--production") || strings.Contains(t, "--prod") || strings.Contains(t, "focus --production") {
			return true
		}
	}
	return false
}

func setsEnv(st *dockerfile.Stage, key, value string) bool {
	for _, ins := range st.Instructions {
		if env, ok := ins.Command.(*instructions.EnvCommand); ok {
			for _, kv := range env.Env {
				if kv.Key == key && kv.Value == value {
					return true
				}
			}
		}
	}
	return false
}

// providesLibraries reports whether the runtime stage installs system
// packages or receives files from a library folder of the builder.
func providesLibraries(final *dockerfile.Stage, copied []stageCopy) bool {
	for _, cp := range copied {
		if strings.Contains(cp.src, "/lib/") || strings.HasSuffix(cp.src, "/lib") {
			return true
		}
	}
	for _, ins := range runs(final) {
		if runHas(ins, []string{"apt-get", "install"}, "") || runHas(ins, []string{"apk", "add"}, "") {
			return true
		}
	}
	return false
}

// installsPackages checks "libpq5 for psycopg2 and libxml2 for uwsgi" or
// "libpq5, curl": a RUN of the stage installs every package named.
func installsPackages(st *dockerfile.Stage, list string) error {
	var pkgs []string
	for _, part := range regexp.MustCompile(`, | and `).Split(list, -1) {
		name, _, _ := strings.Cut(part, " for ")
		if name = strings.TrimSpace(name); name != "" {
			pkgs = append(pkgs, name)
		}
	}
	if len(pkgs) == 0 {
		return fmt.Errorf("no package in %q", list)
	}
	for _, pkg := range pkgs {
		found := false
		for _, ins := range runs(st) {
			if (runHas(ins, []string{"apt-get", "install"}, "") || runHas(ins, []string{"apk", "add"}, "")) &&
				regexp.MustCompile(`(^|\s)`+regexp.QuoteMeta(pkg)+`(\s|$)`).MatchString(ins.Node.Original) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("no RUN of the final stage installs %s", pkg)
		}
	}
	return nil
}

// copiesFromOtherStages reports whether the final stage copies from a stage
// other than the split's builder.
func copiesFromOtherStages(f *dockerfile.File, final *dockerfile.Stage) bool {
	builder := ""
	if len(f.Stages) >= 2 {
		builder = f.Stages[len(f.Stages)-2].Name
	}
	for _, ins := range final.Instructions {
		if from, ok := ins.Flag("from"); ok && ins.Keyword == "copy" && !strings.EqualFold(from, builder) {
			return true
		}
	}
	return false
}

// withoutParens drops the parenthesised parts of a phrase (reasons, which
// hold commas and paths of their own), nested ones included.
func withoutParens(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// leanVenvClaim proves "the runtime's virtualenv leaves out TOOLS": a
// stage the runtime copies a folder from removes each tool with that
// folder's pip after its last pip install.
func leanVenvClaim(c *claimCase, tools []string) error {
	err := fmt.Errorf("the final stage copies no virtualenv from another stage")
	for _, ins := range finalStage(c.output).Instructions {
		from, ok := ins.Flag("from")
		args := ins.Args()
		if ins.Keyword != "copy" || !ok || len(args) < 2 {
			continue
		}
		for _, st := range c.output.Stages {
			if st.Name == from {
				if err = removesInstallers(st, args[0], tools); err == nil {
					return nil
				}
			}
		}
	}
	return err
}

func removesInstallers(st *dockerfile.Stage, venv string, tools []string) error {
	lastInstall, removal := -1, -1
	for i, r := range st.Instructions {
		if r.Keyword != "run" {
			continue
		}
		if runHas(r, []string{"pip", "install"}, "") {
			lastInstall = i
		}
		text := r.Text()
		if strings.Contains(text, venv+"/bin/pip uninstall -y") && strings.Contains(text, "for tool in "+strings.Join(tools, " ")+";") {
			removal = i
		}
	}
	switch {
	case removal < 0:
		return fmt.Errorf("stage %s does not remove %s with %s/bin/pip", st.Name, strings.Join(tools, ", "), venv)
	case removal < lastInstall:
		return fmt.Errorf("stage %s removes the installers before its last pip install", st.Name)
	}
	return nil
}

// nginxServerBlockClaim proves that the nginx runtime gets a site
// configuration with serve's clean URLs, and the fallback to index.html
// when fallback is set.
func nginxServerBlockClaim(c *claimCase, fallback bool) error {
	for _, ins := range finalStage(c.output).Instructions {
		text := ins.Text()
		if ins.Keyword != "copy" || !strings.Contains(text, "/etc/nginx/conf.d/default.conf") {
			continue
		}
		if !strings.Contains(text, "try_files $uri $uri.html") {
			return fmt.Errorf("the server block has no clean URLs: %s", text)
		}
		if got := strings.Contains(text, " /index.html;"); got != fallback {
			return fmt.Errorf("the server block's fallback to index.html is %v, want %v", got, fallback)
		}
		return nil
	}
	return fmt.Errorf("the nginx stage gets no conf.d/default.conf")
}

// installsGlobally reports a RUN that installs an npm package globally.
func installsGlobally(f *dockerfile.File, pkg string) bool {
	for _, ins := range runs(f) {
		text := ins.Text()
		if (strings.Contains(text, " -g ") || strings.Contains(text, "global add")) && strings.Contains(text, " "+pkg) {
			return true
		}
	}
	return false
}

// slimEvidenceClaim proves what slim-base says it checked: no RUN of the
// final stage calls a tool only the full image has (and does not install
// itself), and each piece of evidence is in the file.
func slimEvidenceClaim(c *claimCase, evidence string) error {
	final := finalStage(c.output)
	installed := map[string]bool{}
	var aptPkgs []string
	for _, ins := range final.Instructions {
		sc, err := ins.Script()
		if ins.Keyword != "run" || err != nil {
			continue
		}
		inst, _ := systemInstalls(sc)
		for _, in := range inst {
			for _, i := range in.packages {
				installed[in.cmd.Args[i]] = true
				aptPkgs = append(aptPkgs, in.cmd.Args[i])
			}
		}
		for _, cmd := range sc.Commands {
			if pkg, ok := fullImagePrograms[cmd.Name()]; ok && !installed[pkg] && cmd.Name() != "python" && cmd.Name() != "python3" {
				return fmt.Errorf("line %d runs %s, which only the full image has", ins.Line, cmd.Name())
			}
		}
	}
	start := ""
	for _, ins := range final.Instructions {
		if ins.Keyword == "cmd" || ins.Keyword == "entrypoint" {
			start += " " + ins.Text()
		}
	}
	for _, part := range strings.Split(strings.ReplaceAll(evidence, " and the image runs ", "\x00the image runs "), "\x00") {
		switch {
		case strings.HasPrefix(part, "apt-get installs only "):
			want := strings.Split(strings.TrimPrefix(part, "apt-get installs only "), ", ")
			if !slices.Equal(want, aptPkgs) {
				return fmt.Errorf("apt-get installs %v, not only %v", aptPkgs, want)
			}
		case part == "it installs no packages":
			if len(aptPkgs) > 0 || countCommands(c.output, []string{"pip", "install"}, "") > 0 || countCommands(c.output, []string{"npm", "ci"}, "") > 0 {
				return fmt.Errorf("the stage installs packages")
			}
		case strings.HasPrefix(part, "the image runs "):
			for _, prog := range splitList(strings.TrimPrefix(part, "the image runs ")) {
				if !strings.Contains(start, prog) {
					return fmt.Errorf("the start command does not run %s:%s", prog, start)
				}
			}
		case strings.HasPrefix(part, "pip installs "):
			if countCommands(c.output, []string{"pip", "install"}, "") == 0 {
				return fmt.Errorf("no pip install")
			}
		case strings.HasPrefix(part, "no line reads documentation"):
			if strings.Contains(string(c.output.Src), "/usr/share/doc") || strings.Contains(string(c.output.Src), "/usr/share/locale") {
				return fmt.Errorf("a line reads documentation or translations")
			}
		default:
			if !strings.Contains(part, "installs") {
				return fmt.Errorf("no check for the evidence %q", part)
			}
		}
	}
	return nil
}

// inputPinned checks that a stage of the input is pinned by digest.
func inputPinned(c *claimCase) error {
	for _, st := range c.input.Stages {
		if ref, _ := c.input.ExpandGlobalArgs(st.BaseName); strings.Contains(ref, "@sha256:") {
			return nil
		}
	}
	return fmt.Errorf("no stage of the input is pinned by digest")
}

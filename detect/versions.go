package detect

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/harden-dev/harden/internal/lazyre"
)

// How much a version source is trusted when sources disagree: a file
// whose only job is to pin the version beats a manifest's range, which
// beats the tag the Dockerfile happens to use (harden pins latest tags
// from the project, never the other way round).
const (
	rankPinFile = iota + 1
	rankManifest
	rankDockerfile
)

// versionClaim is one source's say on a runtime or tool version.
type versionClaim struct {
	key  string
	v    Version
	rank int
	// why explains the claim, for evidence ("pins python 3.12").
	why string
}

// claim builds a claim from text that is either an exact version or a
// range; it returns false when the text allows any version.
func claim(key, text, file string, line, rank int, source string) (versionClaim, bool) {
	v, exact := lowestVersion(text)
	if v == "" {
		return versionClaim{}, false
	}
	c := versionClaim{key: key, rank: rank, v: Version{Version: v, File: file, Line: line}}
	text = strings.TrimSpace(text)
	if !exact {
		c.v.Constraint = text
		c.why = fmt.Sprintf("%s requires %s %s", source, key, text)
	} else {
		c.why = fmt.Sprintf("%s pins %s %s", source, key, v)
	}
	return c, true
}

var (
	// An operator followed by space ("~> 3.2", ">= 18") is one comparator.
	opSpace = lazyre.New(`(>=|<=|~>|~=|===|==|!=|\^|~|>|<|=)\s+`)
	// A comparator: an operator and a version with optional wildcards.
	comparator = lazyre.New(`^(>=|<=|~>|~=|===|==|!=|\^|~|>|<|=)?v?([0-9]+(?:\.(?:[0-9]+|[*xX]))*)(?:[-+.]?[0-9A-Za-z.+-]*)?$`)
)

// lowestVersion reads a version or a range written in any of the usual
// dialects (PEP 440, npm semver, Poetry, Composer, Bundler, Cargo) and
// returns the lowest version it allows, trimmed of wildcards. exact is set
// when the text names one version. Alternatives ("^18 || ^20") yield the
// highest of their lower bounds, since projects list the newest last and
// all of them are supported.
func lowestVersion(text string) (version string, exact bool) {
	text = strings.TrimSpace(text)
	if text == "" || text == "*" {
		return "", false
	}
	alts := strings.Split(strings.ReplaceAll(text, "||", "|"), "|")
	best := ""
	for _, alt := range alts {
		v, ex := lowestInRange(alt)
		if v == "" {
			continue
		}
		if best == "" || compareVersions(v, best) > 0 {
			best, exact = v, ex && len(alts) == 1
		}
	}
	return best, exact
}

func lowestInRange(text string) (string, bool) {
	text = opSpace().ReplaceAllString(strings.TrimSpace(text), "$1")
	parts := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	lower, exact, n := "", false, 0
	for _, part := range parts {
		m := comparator().FindStringSubmatch(part)
		if m == nil {
			continue
		}
		n++
		op, v := m[1], m[2]
		wild := strings.ContainsAny(v, "*xX")
		v = trimWildcards(v)
		if v == "" {
			continue
		}
		switch op {
		case "<", "<=", "!=":
			continue
		case "", "=", "==", "===":
			exact = !wild
		}
		if lower == "" || compareVersions(v, lower) > 0 {
			lower = v
		}
	}
	if lower == "" {
		return "", false
	}
	exact = exact && n == 1
	if !exact {
		lower = trimZeros(lower)
	}
	return lower, exact
}

func trimWildcards(v string) string {
	var keep []string
	for part := range strings.SplitSeq(v, ".") {
		if part == "*" || part == "x" || part == "X" {
			break
		}
		keep = append(keep, part)
	}
	return strings.Join(keep, ".")
}

// trimZeros turns a range's lower bound 18.0.0 into 18: "from 18 on" is
// pinned as the 18 line, not the first 18 release.
func trimZeros(v string) string {
	for strings.HasSuffix(v, ".0") && strings.Count(v, ".") > 0 {
		v = strings.TrimSuffix(v, ".0")
	}
	return v
}

// compareVersions orders dotted versions numerically, part by part.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil && na != nb:
			return cmpInt(na, nb)
		case (ea != nil || eb != nil) && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	return cmpInt(len(pa), len(pb))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// samePrefix reports whether two versions agree on the parts both name
// ("3.12" and "3.12.4" agree; "3.11" and "3.12" do not).
func samePrefix(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] != pb[i] {
			return false
		}
	}
	return true
}

// disagree explains why two claims on the same key cannot both hold, or
// returns "". Two pins must agree on their common prefix; a pin must not
// be below a range's lower bound. Two ranges are not compared: ranges
// overlap more often than not.
func disagree(a, b versionClaim) string {
	switch {
	case a.v.Constraint == "" && b.v.Constraint == "":
		if !samePrefix(a.v.Version, b.v.Version) {
			return fmt.Sprintf("%s %s at %s but %s at %s", a.key, a.v.Version, where(a.v), b.v.Version, where(b.v))
		}
	case a.v.Constraint == "" && b.v.Constraint != "":
		if below(a.v.Version, b.v.Version) {
			return fmt.Sprintf("%s %s at %s is below %s at %s", a.key, a.v.Version, where(a.v), b.v.Constraint, where(b.v))
		}
	case a.v.Constraint != "" && b.v.Constraint == "":
		if below(b.v.Version, a.v.Version) {
			return fmt.Sprintf("%s %s at %s is below %s at %s", a.key, b.v.Version, where(b.v), a.v.Constraint, where(a.v))
		}
	}
	return ""
}

// below reports whether pin is older than the lower bound on the parts
// both name.
func below(pin, lower string) bool {
	pp, pl := strings.Split(pin, "."), strings.Split(lower, ".")
	n := min(len(pp), len(pl))
	return compareVersions(strings.Join(pp[:n], "."), strings.Join(pl[:n], ".")) < 0
}

func where(v Version) string {
	if v.Line > 0 {
		return fmt.Sprintf("%s:%d", v.File, v.Line)
	}
	return v.File
}

// settleVersions picks one version per key, the best-ranked source first
// (file order within a rank), and explains every disagreement.
func settleVersions(claims []versionClaim) (map[string]Version, []string, []Evidence) {
	sort.SliceStable(claims, func(i, j int) bool { return claims[i].rank < claims[j].rank })
	chosen := map[string]versionClaim{}
	var keys []string
	var conflicts []string
	var evidence []Evidence
	for _, c := range claims {
		evidence = append(evidence, Evidence{File: c.v.File, Line: c.v.Line, Why: c.why})
		first, ok := chosen[c.key]
		if !ok {
			chosen[c.key] = c
			keys = append(keys, c.key)
			continue
		}
		if why := disagree(first, c); why != "" {
			conflicts = append(conflicts, "version mismatch: "+why)
		}
	}
	if len(chosen) == 0 {
		return nil, conflicts, evidence
	}
	out := make(map[string]Version, len(chosen))
	for _, k := range keys {
		out[k] = chosen[k].v
	}
	return out, conflicts, evidence
}

// versionKeys are the Versions keys of each ecosystem's runtimes and tools.
var versionKeys = sync.OnceValue(func() map[Ecosystem][]string {
	return map[Ecosystem][]string{
		Python: {"python", "poetry", "uv"},
		Node:   {"node", "bun", "npm", "yarn", "pnpm"},
		Go:     {"go"},
		Java:   {"java", "maven", "gradle"},
		Ruby:   {"ruby", "bundler"},
		Rust:   {"rust"},
		PHP:    {"php"},
		DotNet: {"dotnet", "dotnet-sdk"},
	}
})

// keyOf reports whether a Versions key belongs to an ecosystem.
func keyOf(key string, e Ecosystem) bool { return slices.Contains(versionKeys()[e], key) }

// readPinFile reads a one-line version file such as .python-version or
// .nvmrc: the first line that is not blank or a comment.
func (s *scan) readPinFile(p string) (string, int) {
	data := s.read(p)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if j := strings.IndexAny(line, " \t#"); j >= 0 {
			line = line[:j]
		}
		return line, i + 1
	}
	return "", 0
}

// pinFileClaim reads a one-line version file into a claim for key.
// clean rewrites the file's notation ("ruby-3.3.0", "lts/iron") first.
func (s *scan) pinFileClaim(p, key string, clean func(string) string) (versionClaim, bool) {
	if !s.exists(p) {
		return versionClaim{}, false
	}
	text, line := s.readPinFile(p)
	if clean != nil {
		text = clean(text)
	}
	c, ok := claim(key, text, p, line, rankPinFile, path2name(p))
	if !ok && text != "" {
		s.note(p, line, fmt.Sprintf("%q is not a version harden can pin", text))
	}
	return c, ok
}

func path2name(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// toolVersionsKeys maps asdf/mise tool names to harden's version keys.
var toolVersionsKeys = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"python": "python", "nodejs": "node", "node": "node", "golang": "go", "go": "go",
		"java": "java", "ruby": "ruby", "rust": "rust", "php": "php", "dotnet": "dotnet-sdk",
		"dotnet-core": "dotnet-sdk", "maven": "maven", "gradle": "gradle", "pnpm": "pnpm", "yarn": "yarn",
		"bun": "bun", "poetry": "poetry", "uv": "uv",
	}
})

// leadingVersion finds the version inside tool notations such as
// "temurin-21.0.2+13.0.LTS" or "ruby-3.3.0".
var leadingVersion = lazyre.New(`[0-9]+(?:\.[0-9]+)*`)

// toolVersions reads asdf's .tool-versions (also read by mise): one tool
// per line, its preferred version first.
func (s *scan) toolVersions(dir, key string) (versionClaim, bool) {
	p := join(dir, ".tool-versions")
	if !s.exists(p) {
		return versionClaim{}, false
	}
	for i, line := range strings.Split(string(s.read(p)), "\n") {
		fields := strings.Fields(strings.SplitN(line, "#", 2)[0])
		if len(fields) < 2 || toolVersionsKeys()[fields[0]] != key {
			continue
		}
		v := leadingVersion().FindString(fields[1])
		if c, ok := claim(key, v, p, i+1, rankPinFile, ".tool-versions"); ok {
			return c, true
		}
	}
	return versionClaim{}, false
}

// Package toolversions knows which versions of pip, npm, node, yarn and
// bundler ship in a base image, from its repository and tag alone: the
// official python, node and ruby images bundle their own, and the distro
// images (debian, ubuntu) get them from the release's packages. Rules ask it
// whether the base supports a flag before they add one.
//
// Every answer comes from the table in facts.go, each row with the source
// it was checked against. A tag the table does not cover is answered
// "unknown", never with a guess; a rule then keeps its old behaviour or
// reports instead of editing, as its documentation says.
package toolversions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/harden-dev/harden/baseimage"
)

// Tool is a program whose version decides which flags a rule may use.
type Tool string

const (
	Pip     Tool = "pip"
	Npm     Tool = "npm"
	Node    Tool = "node"
	Yarn    Tool = "yarn"
	Bundler Tool = "bundler"
)

// Fact is the version of one tool in the images of one tag.
type Fact struct {
	Tool Tool
	// Min and Max bound the versions the tag's images can hold, both
	// inclusive; a bound with fewer parts covers every version it prefixes
	// (Max "6.14" includes 6.14.18). Max is empty when only the lower bound
	// is known (a tag that still receives releases).
	Min, Max string
	// Absent is set when the image ships no such tool (Min and Max are then
	// empty): yarn in node 26 and later.
	Absent bool
	// Source says where the fact comes from, for messages and the docs.
	Source string
}

// Answer is a yes/no answer that may be unknown.
type Answer int8

const (
	Unknown Answer = iota
	Yes
	No
)

func (a Answer) String() string {
	switch a {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// AtLeast says whether every image of the tag has version v or newer (Yes),
// none has (No), or the table cannot tell.
func (f Fact) AtLeast(v string) Answer {
	switch {
	case f.Absent:
		return No
	case f.Min != "" && compare(f.Min, v, false) >= 0:
		return Yes
	case f.Max != "" && compare(f.Max, v, true) < 0:
		return No
	}
	return Unknown
}

// Version renders the known range: "6.14", "5.0.0 to 5.6.0", "10.9.0 or newer".
func (f Fact) Version() string {
	switch {
	case f.Absent:
		return "none"
	case f.Min == f.Max:
		return f.Min
	case f.Max == "":
		return f.Min + " or newer"
	}
	return f.Min + " to " + f.Max
}

// Image is a base image as far as this package reads it.
type Image struct {
	// Repo is the repository as `docker pull` shows it ("node", "ubuntu").
	Repo string
	// Version is the leading version of the tag ("14", "3.12.1", "22.04"),
	// empty for tags without one ("latest", "lts-alpine", "bookworm").
	Version string
	// Codename is a release codename found in the tag ("bookworm", "jammy").
	Codename string
}

// Parse reads an image reference. ARG references must be expanded first;
// a reference that still holds one yields an Image that matches no row.
func Parse(ref string) Image {
	if strings.Contains(ref, "$") {
		return Image{}
	}
	r := baseimage.Parse(strings.TrimSpace(ref))
	_, repo, ok := r.Normalized()
	if !ok {
		return Image{}
	}
	img := Image{Repo: repo}
	for i, word := range strings.Split(r.Tag, "-") {
		if i == 0 && leadingVersion(word) != "" {
			img.Version = leadingVersion(word)
			continue
		}
		if _, ok := codenames[word]; ok && img.Codename == "" {
			img.Codename = word
		}
	}
	return img
}

// Of looks up a tool in the image of ref.
func Of(ref string, tool Tool) (Fact, bool) { return Lookup(Parse(ref), tool) }

// Lookup answers for a parsed image. The official runtime images are read
// by the runtime version in their tag: a full version is one release, a
// partial one ("14", "8.9") is the newest release it prefixes, as the
// official images tag them, and no version at all is a moving tag
// ("latest", "lts") that points at one of the lines from movingFrom on.
// Distro images are read by their release.
func Lookup(img Image, tool Tool) (Fact, bool) {
	if img.Repo == "" {
		return Fact{}, false
	}
	if fam, ok := runtimeFamilies()[img.Repo]; ok {
		return lookupRuntime(fam, img.Version, tool)
	}
	if releases, ok := distroFamilies()[img.Repo]; ok {
		release := img.Version
		if c, ok := codenames[img.Codename]; ok && c.distro == img.Repo {
			release = c.release
		}
		return lookupRelease(releases, release, tool)
	}
	return Fact{}, false
}

func lookupRuntime(fam runtimeFamily, version string, tool Tool) (Fact, bool) {
	var rows []runtimeRow
	for _, r := range fam.rows {
		if r.tool == tool {
			rows = append(rows, r)
		}
	}
	var chosen []runtimeRow
	switch parts := strings.Count(version, ".") + 1; {
	case version == "":
		for _, r := range rows {
			if compare(r.to, fam.movingFrom, false) > 0 || r.to == "" {
				chosen = append(chosen, r)
			}
		}
	case parts >= 3:
		for _, r := range rows {
			if r.covers(version) {
				chosen = append(chosen, r)
			}
		}
	default:
		// The newest release with this prefix: the last row that
		// overlaps the prefix's range, provided the line has ended or the
		// row is open-ended (rows are in order).
		next := nextPrefix(version)
		for _, r := range rows {
			if compare(r.from, next, false) < 0 && (r.to == "" || compare(r.to, version, false) > 0) {
				chosen = []runtimeRow{r}
			}
		}
	}
	if len(chosen) == 0 {
		return Fact{}, false
	}
	return merge(tool, chosen)
}

// merge joins the rows a tag may resolve to into one fact.
func merge(tool Tool, rows []runtimeRow) (Fact, bool) {
	f := Fact{Tool: tool, Min: rows[0].min, Max: rows[0].max, Absent: rows[0].absent}
	var sources []string
	for i, r := range rows {
		if !containsString(sources, r.source) {
			sources = append(sources, r.source)
		}
		if i == 0 {
			continue
		}
		if r.absent != f.Absent {
			return Fact{}, false // some lines ship it and some do not
		}
		if compare(r.min, f.Min, false) < 0 {
			f.Min = r.min
		}
		if f.Max != "" && (r.max == "" || compare(r.max, f.Max, true) > 0) {
			f.Max = r.max
		}
	}
	f.Source = strings.Join(sources, "; ")
	return f, true
}

func lookupRelease(releases []releaseRow, release string, tool Tool) (Fact, bool) {
	if release == "" {
		return Fact{}, false
	}
	for _, r := range releases {
		if r.tool != tool || !(release == r.release || strings.HasPrefix(release, r.release+".") && r.distro == "debian") {
			continue
		}
		return Fact{Tool: tool, Min: r.version, Max: r.version, Source: r.source}, true
	}
	return Fact{}, false
}

// covers reports whether the exact version v falls in the row's range.
func (r runtimeRow) covers(v string) bool {
	return compare(v, r.from, false) >= 0 && (r.to == "" || compare(v, r.to, false) < 0)
}

// nextPrefix is the first version after every version with prefix p:
// "8.9" gives "8.10", "14" gives "15".
func nextPrefix(p string) string {
	parts := strings.Split(p, ".")
	n, _ := strconv.Atoi(parts[len(parts)-1])
	parts[len(parts)-1] = strconv.Itoa(n + 1)
	return strings.Join(parts, ".")
}

// compare orders dotted versions numerically. When upper is set, a shorter
// a stands for every version it prefixes and so sorts after them ("6.14" is
// after "6.14.18").
func compare(a, b string, upper bool) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		if i >= len(pa) {
			if upper {
				return 1
			}
			return -1
		}
		if i >= len(pb) {
			return 1
		}
		na, _ := strconv.Atoi(pa[i])
		nb, _ := strconv.Atoi(pb[i])
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
	}
	return 0
}

// leadingVersion returns the dotted number a tag word is ("14", "3.12.1",
// "22.04"), or "" for words that are not one ("3.15rc1", "alpine3.19").
func leadingVersion(w string) string {
	w = strings.TrimPrefix(w, "v")
	if w == "" {
		return ""
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= '0' && c <= '9' || c == '.' && i > 0 && w[i-1] != '.') {
			return ""
		}
	}
	return strings.TrimSuffix(w, ".")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

package toolversions

import (
	"strings"
	"sync"
)

// The table behind every answer, with the source of each row. Sources:
//
//   - node: the Node.js release index (nodejs.org/dist/index.json, as
//     mirrored in nvm's test fixtures, releases up to 23.1.0) gives the npm
//     each release bundles; nodejs/node's CHANGELOG_V24 for npm 11.0.0.
//     The official node images install npm only from that tarball since
//     2016, and yarn classic from YARN_VERSION (nodejs/docker-node: added
//     2017-02-23, dropped from node 26 on 2026-03-16).
//   - python: docker-library/python pins PYTHON_PIP_VERSION from
//     2015-05-19 (6.1.1) and uses ensurepip from 2024-09-07.
//   - ruby: docker-library/ruby stops installing its own bundler for Ruby
//     2.6 and later (2018-12-31): the images ship the bundler of the Ruby
//     release, which Ruby's NEWS lists among the default gems.
//   - debian: the release's Packages index (python3-pip, npm, nodejs,
//     ruby-bundler), read with apt-cache for bullseye, bookworm and trixie;
//     older releases from install logs that name the package version.
//   - ubuntu: install logs that name the package version of the release.

// runtimeRow says which version of tool the releases [from, to) of a
// runtime ship; to is empty for a line that is still released.
type runtimeRow struct {
	tool     Tool
	from, to string
	min, max string
	absent   bool
	source   string
}

// runtimeFamily is an official image whose tag starts with the runtime's
// version.
type runtimeFamily struct {
	rows []runtimeRow
	// movingFrom is the oldest line a tag without a version ("latest",
	// "lts", "alpine") can point at.
	movingFrom string
}

const (
	nodeIndex   = "the Node.js release index: node %s bundles npm %s"
	nodeYarn    = "nodejs/docker-node installs yarn %s (YARN_VERSION)"
	nodeNoYarn  = "nodejs/docker-node strips yarn from node 26 and later images (2026-03-16)"
	pythonPip   = "docker-library/python pins PYTHON_PIP_VERSION 6.1.1 or newer from 2015-05-19 and bundles pip with ensurepip from 2024-09-07"
	rubyBundler = "Ruby %s NEWS: default gem bundler %s, which docker-library/ruby ships as is"
)

func nodeNpm(from, to, min, max string) runtimeRow {
	span := from + " up to (not including) " + to
	switch {
	case to == "":
		span = from + " and later"
	case !strings.Contains(from, ".") && to == nextPrefix(from):
		span = from + ".x"
	}
	v := min + " to " + max
	if min == max {
		v = min
	} else if max == "" {
		v = min + " or newer"
	}
	return runtimeRow{tool: Npm, from: from, to: to, min: min, max: max, source: sprintf(nodeIndex, span, v)}
}

var runtimeFamilies = sync.OnceValue(func() map[string]runtimeFamily {
	node := runtimeFamily{movingFrom: "24", rows: []runtimeRow{
		nodeNpm("4", "5", "2.14.2", "2.15.11"),
		nodeNpm("5", "6", "3.3.6", "3.8.6"),
		nodeNpm("6", "7", "3.8.6", "3.10.10"),
		nodeNpm("7", "7.4", "3.10.8", "3.10.10"),
		nodeNpm("7.4", "8", "4.0.5", "4.2.0"),
		nodeNpm("8", "8.12", "5.0.0", "5.6.0"),
		nodeNpm("8.12", "9", "6.4.1", "6.13.4"),
		nodeNpm("9", "10", "5.5.1", "5.6.0"),
		nodeNpm("10", "10.3", "5.6.0", "5.6.0"),
		nodeNpm("10.3", "11", "6.1.0", "6.14.12"),
		nodeNpm("11", "12", "6.4.1", "6.7.0"),
		nodeNpm("12", "13", "6.9.0", "6.14.16"),
		nodeNpm("13", "14", "6.12.0", "6.14.4"),
		nodeNpm("14", "15", "6.14.4", "6.14.18"),
		nodeNpm("15", "16", "7.0.2", "7.7.6"),
		nodeNpm("16", "16.11", "7.10.0", "7.24.0"),
		nodeNpm("16.11", "17", "8.0.0", "8.19.4"),
		nodeNpm("17", "18", "8.1.0", "8.11.0"),
		nodeNpm("18", "18.14", "8.6.0", "8.19.3"),
		nodeNpm("18.14", "18.19", "9.3.1", "9.8.1"),
		nodeNpm("18.19", "19", "10.2.3", ""),
		nodeNpm("19", "19.3", "8.19.2", "8.19.3"),
		nodeNpm("19.3", "20", "9.2.0", "9.6.3"),
		nodeNpm("20", "20.7", "9.6.4", "9.8.1"),
		nodeNpm("20.7", "21", "10.1.0", ""),
		nodeNpm("21", "22", "10.2.0", "10.5.0"),
		nodeNpm("22", "23", "10.5.1", ""),
		nodeNpm("23", "24", "10.9.0", ""),
		{tool: Npm, from: "24", min: "11.0.0", source: "nodejs/node CHANGELOG_V24: node 24.0.0 upgrades npm to 11.0.0; later lines keep npm 11 or newer"},

		// yarn classic, from the images' YARN_VERSION (the newest build of
		// each line: 6.17.1 has 1.15.2, 8.17.0 1.21.1, 10.24.1 1.22.5, 12.22.12
		// 1.22.18, 14 and 16 1.22.19, 18 to 25 1.22.22).
		{tool: Yarn, from: "6", to: "26", min: "1", max: "1", source: sprintf(nodeYarn, "1.x (classic)")},
		{tool: Yarn, from: "26", absent: true, source: nodeNoYarn},
	}}
	python := runtimeFamily{movingFrom: "3.14", rows: []runtimeRow{
		// Releases whose images were all built before pip was pinned are
		// left out: 2.7.9 and older, 3.3.5 and older, 3.4.2 and older.
		{tool: Pip, from: "2.7.10", to: "3", min: "6.1.1", source: pythonPip},
		{tool: Pip, from: "3.2", to: "3.3", min: "6.1.1", source: pythonPip},
		{tool: Pip, from: "3.3.6", to: "3.4", min: "6.1.1", source: pythonPip},
		{tool: Pip, from: "3.4.3", min: "6.1.1", source: pythonPip},
	}}
	ruby := runtimeFamily{movingFrom: "4.0", rows: []runtimeRow{
		{tool: Bundler, from: "2.6", to: "2.7", min: "1.17", max: "1.17", source: sprintf(rubyBundler, "2.6", "1.17.2")},
		{tool: Bundler, from: "2.7", to: "3.0", min: "2.1", max: "2.1", source: sprintf(rubyBundler, "2.7", "2.1")},
		{tool: Bundler, from: "3.0", to: "3.1", min: "2.2", max: "2.2", source: sprintf(rubyBundler, "3.0", "2.2")},
		{tool: Bundler, from: "3.1", to: "3.2", min: "2.3", max: "2.3", source: sprintf(rubyBundler, "3.1", "2.3")},
		{tool: Bundler, from: "3.2", to: "3.3", min: "2.4", max: "2.4", source: sprintf(rubyBundler, "3.2", "2.4")},
		{tool: Bundler, from: "3.3", to: "3.4", min: "2.5", max: "2.5", source: sprintf(rubyBundler, "3.3", "2.5")},
		{tool: Bundler, from: "3.4", to: "4.0", min: "2.6", max: "2.6", source: sprintf(rubyBundler, "3.4", "2.6")},
		{tool: Bundler, from: "4.0", to: "4.1", min: "4.0", max: "4.0", source: sprintf(rubyBundler, "4.0", "4.0.3")},
	}}
	return map[string]runtimeFamily{"node": node, "python": python, "ruby": ruby}
})

// releaseRow is the version of tool a distro release's package installs.
type releaseRow struct {
	distro, release string
	tool            Tool
	version         string
	source          string
}

// codename is the release a codename stands for.
type codename struct{ distro, release string }

var codenames = map[string]codename{
	"jessie": {"debian", "8"}, "stretch": {"debian", "9"}, "buster": {"debian", "10"},
	"bullseye": {"debian", "11"}, "bookworm": {"debian", "12"}, "trixie": {"debian", "13"},
	"trusty": {"ubuntu", "14.04"}, "xenial": {"ubuntu", "16.04"}, "bionic": {"ubuntu", "18.04"},
	"focal": {"ubuntu", "20.04"}, "jammy": {"ubuntu", "22.04"}, "noble": {"ubuntu", "24.04"},
}

func pkg(distro, release, name string, tool Tool, version, how string) releaseRow {
	return releaseRow{distro: distro, release: release, tool: tool, version: version,
		source: sprintf("%s %s's %s package is %s, per %s", distro, release, name, version, how)}
}

const (
	aptIndex   = "the release's Packages index"
	installLog = "install logs of the release"
)

var distroFamilies = sync.OnceValue(func() map[string][]releaseRow {
	return map[string][]releaseRow{
		"debian": {
			pkg("debian", "8", "python-pip", Pip, "1.5.6", installLog),
			pkg("debian", "9", "python3-pip", Pip, "9.0.1", installLog),
			pkg("debian", "10", "python3-pip", Pip, "18.1", installLog),
			pkg("debian", "11", "python3-pip", Pip, "20.3.4", aptIndex),
			pkg("debian", "12", "python3-pip", Pip, "23.0.1", aptIndex),
			pkg("debian", "13", "python3-pip", Pip, "25.1.1", aptIndex),
			pkg("debian", "11", "npm", Npm, "7.5.2", aptIndex),
			pkg("debian", "12", "npm", Npm, "9.2.0", aptIndex),
			pkg("debian", "13", "npm", Npm, "9.2.0", aptIndex),
			pkg("debian", "11", "nodejs", Node, "12.22.12", aptIndex),
			pkg("debian", "12", "nodejs", Node, "18.20.4", aptIndex),
			pkg("debian", "13", "nodejs", Node, "20.19.2", aptIndex),
			pkg("debian", "11", "ruby-bundler", Bundler, "2.2.5", aptIndex),
			pkg("debian", "12", "ruby-bundler", Bundler, "2.3.15", aptIndex),
			pkg("debian", "13", "ruby-bundler", Bundler, "2.6.7", aptIndex),
		},
		"ubuntu": {
			pkg("ubuntu", "14.04", "python-pip", Pip, "1.5.4", installLog),
			pkg("ubuntu", "16.04", "python-pip", Pip, "8.1.1", installLog),
			pkg("ubuntu", "18.04", "python3-pip", Pip, "9.0.1", installLog),
			pkg("ubuntu", "20.04", "python3-pip", Pip, "20.0.2", installLog),
			pkg("ubuntu", "22.04", "python3-pip", Pip, "22.0.2", installLog),
			pkg("ubuntu", "24.04", "python3-pip", Pip, "24.0", installLog),
			pkg("ubuntu", "20.04", "npm", Npm, "6.14.4", installLog),
			pkg("ubuntu", "22.04", "npm", Npm, "8.5.1", installLog),
			pkg("ubuntu", "22.04", "nodejs", Node, "12.22.9", installLog),
		},
	}
})

package transform

import (
	"fmt"
	"strings"
)

// registry lists every rule in the order the engine applies them. Order
// matters where one rule's output is another's input: apt becomes apt-get
// before the apt-get rules look, flags are added before cleanup is
// appended, and apk add gets --no-cache before apk update is judged
// redundant.
var registry = []*Rule{
	AptGetOverApt,
	AptUpdateMerge,
	AptGetYes,
	AptNoInstallRecommends,
	AptListsCleanup,
	PipNoCacheDir,
	ApkNoCache,
	ApkUpdateRedundant,
	NpmCi,
	YarnFrozenLockfile,
	PnpmFrozenLockfile,
	GemNoDocument,
	AddToCopy,
	ExecFormCmd,
	FromLatest,

	// Report-only security and hygiene rules.
	SecretInEnv,
	HardcodedSecret,
	SecretFileCopied,
	CurlPipeShell,
	InsecureDownload,
	AddURLChecksum,
	SudoInRun,
	WorldWritable,
	SSHServer,
	ExposeInvalidPort,
	MissingHealthcheck,
	Pipefail,
	RelativeWorkdir,
	MaintainerDeprecated,
	PackageUpgrade,
	CopyAllNoDockerignore,
	MultipleCmd,
	CdInRun,
	DebianFrontendEnv,
	DevelopmentServer,

	// Build-context rules.
	ContextSecrets,

	// Structural rewrites, in order: dependency installs move before the
	// source, the final stage is split, a final stage left whole moves to
	// a slim image when it can, nginx goes unprivileged, and the runtime
	// gets its non-root user last, once its shape is settled.
	DepsBeforeSource,
	MultiStageBuild,
	SlimBase,
	NginxUnprivileged,
	NonRootUser,
}

// All returns every rule in application order.
func All() []*Rule { return append([]*Rule(nil), registry...) }

// Lookup finds a rule by ID, name or hadolint code.
func Lookup(s string) (*Rule, bool) {
	for _, r := range registry {
		if r.Matches(s) {
			return r, true
		}
	}
	return nil, false
}

// Select returns the rules to run given --only and --skip lists. Unknown
// names are an error, so that a typo does not silently disable a gate.
func Select(only, skip []string) ([]*Rule, error) {
	for _, name := range append(append([]string{}, only...), skip...) {
		if _, ok := Lookup(name); !ok {
			return nil, fmt.Errorf("unknown rule %q (see `harden rules`)", name)
		}
	}
	var out []*Rule
	for _, r := range registry {
		if len(only) > 0 && !matchesList(r, only) {
			continue
		}
		if matchesList(r, skip) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func matchesList(r *Rule, names []string) bool {
	for _, n := range names {
		if r.Matches(strings.TrimSpace(n)) {
			return true
		}
	}
	return false
}

package transform

import (
	"bytes"
	"path"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
)

// AddToCopy replaces ADD of local files with COPY.
var AddToCopy = &Rule{
	ID:       "HD201",
	Name:     "add-to-copy",
	Title:    "ADD used to copy local files",
	Severity: Warning,
	Safety:   Safe,
	Hadolint: []string{"DL3020"},
	Doc: Doc{
		Why: "ADD does more than copy: it downloads URLs, clones git repositories and unpacks " +
			"local tar archives. For plain files that magic is a trap, since an archive added " +
			"later is silently extracted. COPY says what it does. harden leaves ADD alone for " +
			"URLs, git sources, ADD-only flags and any source that is, or may be, an archive.",
		Bad:  "FROM python:3.12-slim\nADD app.py /app/\n",
		Good: "FROM python:3.12-slim\nCOPY app.py /app/\n",
	},
	Check: checkAddToCopy,
}

func checkAddToCopy(p *Pass) {
	for _, ins := range p.File.Instructions {
		if ins.Keyword != "add" {
			continue
		}
		switch why := addNeeded(p, ins); why {
		case "":
		case reasonRemote, reasonArchive, reasonFlag:
			continue // ADD is doing a job COPY cannot
		default:
			p.Report(ins, "use COPY for local files unless you rely on ADD's archive extraction; harden left it because "+why, nil)
			continue
		}
		kw := ins.RawKeyword()
		repl := "COPY"
		if kw == strings.ToLower(kw) {
			repl = "copy"
		}
		p.Report(ins, "use COPY for local files; ADD also unpacks archives and fetches URLs", &SuggestedFix{
			Description: "replaced ADD with COPY: the sources are plain local files",
			Edits:       []dockerfile.Edit{{Start: ins.KeywordStart, End: ins.KeywordStart + len(kw), New: repl}},
		})
	}
}

// addNeeded explains why an ADD must stay ADD, or returns "".
func addNeeded(p *Pass, ins *dockerfile.Instruction) string {
	for _, fl := range ins.Flags() {
		name, _, _ := strings.Cut(strings.TrimPrefix(fl, "--"), "=")
		switch name {
		case "chown", "chmod", "link", "exclude", "parents":
		default:
			return reasonFlag
		}
	}
	if len(ins.Heredocs) > 0 {
		return ""
	}
	args := ins.Args()
	if len(args) < 2 {
		return "no destination"
	}
	for _, src := range args[:len(args)-1] {
		if why := sourceNeedsAdd(p, src); why != "" {
			return why
		}
	}
	return ""
}

// Reasons an ADD stays an ADD; the first three are legitimate uses.
const (
	reasonRemote  = "the source is a URL or git repository"
	reasonArchive = "the source is an archive that ADD unpacks"
	reasonFlag    = "it uses a flag only ADD has"
)

// archiveExt are the suffixes of archives ADD unpacks.
var archiveExt = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".gz", ".bz2", ".xz", ".zst", ".lz4", ".tar.lz4"}

func sourceNeedsAdd(p *Pass, src string) string {
	lower := strings.ToLower(src)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git@") || strings.HasSuffix(lower, ".git") {
		return reasonRemote
	}
	if strings.Contains(src, "$") {
		return "the source uses a variable"
	}
	for _, ext := range archiveExt {
		if strings.HasSuffix(lower, ext) {
			return reasonArchive
		}
	}
	if p.Context == nil {
		return "there is no build context to check that the source is not an archive"
	}
	matches, err := p.Context.Glob(src)
	if err != nil || len(matches) == 0 {
		return "the source is not in the build context"
	}
	for _, m := range matches {
		if isArchive(p, m) {
			return reasonArchive
		}
	}
	return ""
}

// isArchive sniffs the formats ADD extracts (tar, optionally compressed).
// Folders are walked only one level deep: ADD never extracts archives
// inside a copied folder, so only the named files matter.
func isArchive(p *Pass, name string) bool {
	head, err := p.Context.ReadHead(name, 512)
	if err != nil {
		return false // a folder, or unreadable: nothing ADD would unpack
	}
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd}, {0x04, 0x22, 0x4d, 0x18}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return len(head) >= 262 && string(head[257:262]) == "ustar" || path.Ext(name) == ".tar"
}

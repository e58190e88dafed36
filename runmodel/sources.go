package runmodel

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// The source scan reads the app's own code for the calls that write files
// (open for writing, SQLite connections, log files, mkdir) and the ones
// that use the home folder. It is a bounded text scan, not a parser: it
// resolves a path written as a literal, as a join onto the source file's
// folder, or as a constant of the same file (an environment variable's
// default included), and treats any other path as relative to the working
// directory, which is where relative paths land. What it cannot see (a
// path computed from pieces) is what `harden fix --verify` proves at run
// time.

// writeCall is one pattern of a call that writes. The pattern's first
// group is the path expression; rest, when set, is the group that holds
// the call's other arguments.
type writeCall struct {
	re   func() *regexp.Regexp
	what string
	// kind is "file" (writes a file), "sqlite" (a database file and its
	// journal), "mkdir" or "home".
	kind string
	// mode is the group holding an open mode, which must allow writing;
	// 0 when the call always writes.
	mode int
	// rest is the group holding the following arguments, read for
	// exist_ok=True, recursive: true or -p.
	rest int
}

// pathArg matches a call's first argument: a string, a name, or one
// nested call (os.path.join(...)).
const pathArg = `((?:[^,()]|\([^()]*\))+)`

var pythonWrites = []writeCall{
	{re: lazyre.New(`\bopen\(\s*` + pathArg + `\s*,\s*(?:mode\s*=\s*)?['"]([rwaxbt+]+)['"]`), what: "open(..., mode)", kind: "file", mode: 2},
	{re: lazyre.New(`\bsqlite3\.connect\(\s*` + pathArg), what: "sqlite3.connect", kind: "sqlite"},
	{re: lazyre.New(`\bos\.makedirs\(\s*` + pathArg + `([^)]*)\)`), what: "os.makedirs", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\bos\.mkdir\(\s*` + pathArg + `()`), what: "os.mkdir", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\b(?:pathlib\.)?Path\(\s*` + pathArg + `\s*\)\s*\.\s*mkdir\(([^)]*)\)`), what: "Path.mkdir", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\b(?:pathlib\.)?Path\(\s*` + pathArg + `\s*\)\s*\.\s*(?:write_text|write_bytes|touch)\(`), what: "Path.write_text", kind: "file"},
	{re: lazyre.New(`\b(?:logging\.)?(?:FileHandler|RotatingFileHandler|TimedRotatingFileHandler|WatchedFileHandler)\(\s*` + pathArg), what: "a log file handler", kind: "file"},
	{re: lazyre.New(`\bbasicConfig\([^)]*\bfilename\s*=\s*` + pathArg), what: "logging.basicConfig(filename=...)", kind: "file"},
	{re: lazyre.New(`\bshelve\.open\(\s*` + pathArg), what: "shelve.open", kind: "sqlite"},
	{re: lazyre.New(`\.to_(?:csv|parquet|json|excel|pickle)\(\s*` + pathArg), what: "a DataFrame export", kind: "file"},
	{re: lazyre.New(`(['"]sqlite:///[^'"]+['"])`), what: "a SQLite database URL", kind: "sqlite"},
	{re: lazyre.New(`\b(os\.path\.expanduser\(\s*['"]~|Path\.home\(\)|os\.environ\[['"]HOME['"]\]|getenv\(\s*['"]HOME['"])`), what: "the home folder", kind: "home"},
}

var nodeWrites = []writeCall{
	{re: lazyre.New(`\b(?:fs(?:\.promises)?\.|fsp\.|promises\.)?(?:writeFileSync|writeFile|appendFileSync|appendFile|createWriteStream|copyFileSync|copyFile|renameSync|unlinkSync|openSync)\(\s*` + pathArg), what: "fs write", kind: "file"},
	{re: lazyre.New(`\b(?:fs(?:\.promises)?\.|fsp\.)?mkdir(?:Sync)?\(\s*` + pathArg + `([^)]*)\)`), what: "fs.mkdir", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\bnew\s+(?:sqlite3\.)?Database\(\s*` + pathArg), what: "a SQLite database", kind: "sqlite"},
	{re: lazyre.New(`\b(os\.homedir\(\)|process\.env\.HOME\b)`), what: "the home folder", kind: "home"},
}

var rubyWrites = []writeCall{
	{re: lazyre.New(`\bFile\.write\(\s*` + pathArg), what: "File.write", kind: "file"},
	{re: lazyre.New(`\bFile\.(?:open|new)\(\s*` + pathArg + `\s*,\s*['"]([rwab+]+)['"]`), what: "File.open", kind: "file", mode: 2},
	{re: lazyre.New(`\bFileUtils\.(?:mkdir_p|makedirs)\(?\s*` + pathArg + `()`), what: "FileUtils.mkdir_p", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\bDir\.mkdir\(\s*` + pathArg), what: "Dir.mkdir", kind: "mkdir"},
	{re: lazyre.New(`\bSQLite3::Database\.new\(\s*` + pathArg), what: "a SQLite database", kind: "sqlite"},
	{re: lazyre.New(`\bLogger\.new\(\s*(['"][^'"]+['"])`), what: "a log file", kind: "file"},
	{re: lazyre.New(`\b(Dir\.home|ENV\[['"]HOME['"]\])`), what: "the home folder", kind: "home"},
}

var phpWrites = []writeCall{
	{re: lazyre.New(`\bfile_put_contents\(\s*` + pathArg), what: "file_put_contents", kind: "file"},
	{re: lazyre.New(`\bfopen\(\s*` + pathArg + `\s*,\s*['"]([rwaxcb+]+)['"]`), what: "fopen", kind: "file", mode: 2},
	{re: lazyre.New(`\bmkdir\(\s*` + pathArg + `([^)]*)\)`), what: "mkdir", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\bnew\s+PDO\(\s*(['"]sqlite:[^'"]+['"])`), what: "a SQLite database", kind: "sqlite"},
}

var goWrites = []writeCall{
	{re: lazyre.New(`\bos\.(?:WriteFile|Create|OpenFile)\(\s*` + pathArg), what: "os file write", kind: "file"},
	{re: lazyre.New(`\bos\.MkdirAll\(\s*` + pathArg + `()`), what: "os.MkdirAll", kind: "mkdir", rest: 2},
	{re: lazyre.New(`\bos\.Mkdir\(\s*` + pathArg), what: "os.Mkdir", kind: "mkdir"},
	{re: lazyre.New(`\bsql\.Open\(\s*"sqlite3?"\s*,\s*` + pathArg), what: "a SQLite database", kind: "sqlite"},
	{re: lazyre.New(`\b(os\.UserHomeDir\(\)|os\.UserCacheDir\(\)|os\.UserConfigDir\(\))`), what: "the home folder", kind: "home"},
}

func writesFor(file string) []writeCall {
	switch path.Ext(file) {
	case ".py":
		return pythonWrites
	case ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts":
		return nodeWrites
	case ".rb", ".ru":
		return rubyWrites
	case ".php":
		return phpWrites
	case ".go":
		return goWrites
	}
	return nil
}

// skippedSourceDirs hold code that is not the app's own or does not run.
var skippedSourceDirs = map[string]bool{
	"node_modules": true, "vendor": true, ".git": true, "venv": true, ".venv": true, "env": true, "site-packages": true,
	"test": true, "tests": true, "__tests__": true, "spec": true, "testdata": true, "fixtures": true, "migrations": true,
	"docs": true, "doc": true, "examples": true, "e2e": true, "cypress": true, ".next": true, "coverage": true, "__pycache__": true,
	"bower_components": true, "tmp": true, "log": true, "storage": true, "public": true, "static": true, "assets": true,
}

// scanSources reads the app's code that the build copies into the image.
func (a *analysis) scanSources() {
	ctx := a.in.Context
	if ctx == nil {
		return
	}
	files := append([]string(nil), a.sources...)
	for _, p := range contextListing(ctx).sources {
		if !slices.Contains(files, p) {
			files = append(files, p)
		}
	}
	for _, f := range files {
		img, copied := a.imagePath(f)
		if !copied {
			continue // the build never puts it in the image
		}
		data, err := a.read(f)
		if err != nil {
			continue
		}
		a.scanSource(f, path.Dir(img), string(data))
	}
}

// scanSource applies the write patterns of the file's language.
func (a *analysis) scanSource(file, imgDir, text string) {
	consts := constants(text)
	for _, wc := range writesFor(file) {
		for _, m := range wc.re().FindAllStringSubmatchIndex(text, 20) {
			line := lineOf(text, m[0])
			if commentLine(text, m[0], file) {
				continue
			}
			if wc.kind == "home" {
				a.m.setHome(Evidence{File: file, Line: line, Why: "the app uses " + wc.what})
				continue
			}
			if wc.mode > 0 {
				mode := text[m[2*wc.mode]:m[2*wc.mode+1]]
				if !strings.ContainsAny(mode, "waxc+") {
					continue
				}
			}
			expr := strings.TrimSpace(text[m[2]:m[3]])
			p, how := a.resolveExpr(expr, imgDir, consts)
			why := Evidence{File: file, Line: line, Why: "the app writes with " + wc.what}
			switch how {
			case "home":
				a.m.setHome(Evidence{File: file, Line: line, Why: "the app writes under the home folder with " + wc.what})
				continue
			case "skip":
				continue
			case "computed":
				// A path harden cannot compute: relative paths land in the
				// working directory, so that folder must be writable.
				why.Why = "files the app writes with " + wc.what + " at a path computed at run time, taken as relative to the working directory"
				a.m.addWrite(Write{Path: a.st.workdir, Kind: CreatesIn, Copied: true, Why: why})
				a.m.Notes = append(a.m.Notes, why)
				continue
			}
			if worldWritable(p) {
				continue
			}
			switch wc.kind {
			case "sqlite":
				why.Why = "the app's SQLite database and its journal"
				dir := path.Dir(p)
				a.m.addWrite(Write{Path: dir, Kind: CreatesIn, Copied: a.inImage(dir), Why: why})
				if a.inImage(p) {
					a.m.addWrite(Write{Path: p, Kind: Modifies, Copied: true, Why: why})
				}
			case "mkdir":
				kind := MakesDirOnce
				if wc.rest > 0 {
					rest := text[m[2*wc.rest]:m[2*wc.rest+1]]
					if idempotentMkdir(rest, wc.what) {
						kind = MakesDir
					}
				}
				why.Why = "a folder the app makes with " + wc.what
				a.makeDir(p, kind, why)
			default:
				why.Why = "the app writes it with " + wc.what
				a.writeFile(p, why)
			}
		}
	}
}

// idempotentMkdir reads a mkdir call's other arguments: exist_ok=True,
// recursive: true, FileUtils.mkdir_p and os.MkdirAll accept a folder that
// exists.
func idempotentMkdir(rest, what string) bool {
	switch what {
	case "FileUtils.mkdir_p", "os.MkdirAll":
		return true
	}
	r := strings.ReplaceAll(rest, " ", "")
	return strings.Contains(r, "exist_ok=True") || strings.Contains(r, "recursive:true") ||
		strings.Contains(r, "recursive=true") || strings.HasSuffix(what, "mkdir") && strings.Contains(r, ",true") && strings.Contains(r, "0")
}

// commentLine reports whether the match starts inside a line comment.
func commentLine(text string, off int, file string) bool {
	start := strings.LastIndexByte(text[:off], '\n') + 1
	before := strings.TrimSpace(text[start:off])
	switch path.Ext(file) {
	case ".py", ".rb":
		return strings.HasPrefix(before, "#")
	default:
		return strings.HasPrefix(before, "//") || strings.HasPrefix(before, "*") || strings.HasPrefix(before, "#")
	}
}

var (
	constAssign = lazyre.New(`(?m)^\s*(?:export\s+)?(?:const\s+|let\s+|var\s+|\$)?([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*\w+\s*)?=\s*(.+?)\s*;?\s*$`)
	// envDefault reads an environment variable with a default:
	// os.environ.get("X", "d"), os.getenv("X", "d"), process.env.X || "d",
	// process.env.X ?? "d", ENV.fetch("X", "d"), getenv("X") ?: "d".
	envDefault = lazyre.New(`(?:environ\.get|getenv|ENV\.fetch)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*,\s*['"]([^'"]*)['"]\s*\)|process\.env\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\||\?\?)\s*['"]([^'"]*)['"]`)
	quoted     = lazyre.New("^(?:'([^']*)'|\"([^\"]*)\"|`([^`$]*)`)$")
	// dirOfSource are the spellings of "the folder of this source file".
	dirOfSource = lazyre.New(`^(?:__dirname|__DIR__|os\.path\.dirname\((?:os\.path\.(?:abspath|realpath)\()?__file__\)?\)|(?:pathlib\.)?Path\(__file__\)(?:\.resolve\(\))?\.parent|File\.dirname\(__FILE__\)|BASE_DIR|APP_DIR|ROOT_DIR|PROJECT_ROOT|HERE)$`)
	// homeExpr are the spellings of "somewhere in the home folder".
	homeExpr = lazyre.New(`expanduser\(\s*['"]~|Path\.home\(\)|os\.homedir\(\)|os\.UserHomeDir\(\)|Dir\.home|\$_SERVER\[['"]HOME['"]\]|process\.env\.HOME|environ\[['"]HOME['"]\]|getenv\(\s*['"]HOME['"]`)
	joinCall = lazyre.New(`^(?:os\.path\.join|path\.join|path\.resolve|File\.join|filepath\.Join|join|resolve)\((.*)\)$`)
)

// constants reads NAME = "literal" and NAME = env-with-default assignments
// of one file.
func constants(text string) map[string]string {
	out := map[string]string{}
	for _, m := range constAssign().FindAllStringSubmatch(text, 200) {
		name, val := m[1], strings.TrimSpace(m[2])
		if q := quoted().FindStringSubmatch(val); q != nil {
			out[name] = q[1] + q[2] + q[3]
			continue
		}
		if e := envDefault().FindStringSubmatch(val); e != nil {
			out[name] = "$env:" + e[1] + e[3] + "=" + e[2] + e[4]
			continue
		}
		if dirOfSource().MatchString(val) {
			out[name] = "$srcdir"
			continue
		}
		if homeExpr().MatchString(val) {
			out[name] = "$home"
			continue
		}
		out[name] = "$expr:" + val
	}
	return out
}

// resolveExpr turns a path expression of the source into a path in the
// image. how is "path", "home", "computed" or "skip" (not a file: memory
// databases, standard streams).
func (a *analysis) resolveExpr(expr, srcDir string, consts map[string]string) (string, string) {
	return a.resolveDepth(expr, srcDir, consts, 0)
}

func (a *analysis) resolveDepth(expr, srcDir string, consts map[string]string, depth int) (string, string) {
	expr = strings.TrimSpace(expr)
	if depth > 4 || expr == "" {
		return "", "computed"
	}
	if q := quoted().FindStringSubmatch(expr); q != nil {
		return a.literalPath(q[1]+q[2]+q[3], srcDir)
	}
	if e := envDefault().FindStringSubmatch(expr); e != nil {
		return a.envPath(e[1]+e[3], e[2]+e[4], srcDir)
	}
	if dirOfSource().MatchString(expr) {
		return srcDir, "path"
	}
	if homeExpr().MatchString(expr) {
		return "", "home"
	}
	if v, ok := consts[expr]; ok {
		switch {
		case v == "$srcdir":
			return srcDir, "path"
		case v == "$home":
			return "", "home"
		case strings.HasPrefix(v, "$env:"):
			name, def, _ := strings.Cut(strings.TrimPrefix(v, "$env:"), "=")
			return a.envPath(name, def, srcDir)
		case strings.HasPrefix(v, "$expr:"):
			return a.resolveDepth(strings.TrimPrefix(v, "$expr:"), srcDir, consts, depth+1)
		}
		return a.literalPath(v, srcDir)
	}
	if m := joinCall().FindStringSubmatch(expr); m != nil {
		parts := splitArgs(m[1])
		if len(parts) == 0 {
			return "", "computed"
		}
		base, how := a.resolveDepth(parts[0], srcDir, consts, depth+1)
		if how != "path" {
			return base, how
		}
		for _, p := range parts[1:] {
			q := quoted().FindStringSubmatch(strings.TrimSpace(p))
			if q == nil {
				if v, ok := consts[strings.TrimSpace(p)]; ok && !strings.HasPrefix(v, "$") {
					base = path.Join(base, v)
					continue
				}
				return "", "computed"
			}
			base = path.Join(base, q[1]+q[2]+q[3])
		}
		return base, "path"
	}
	// Path(x) / "a" / "b" and x + "/a"
	for _, sep := range []string{" / ", " + ", " . "} {
		if strings.Contains(expr, sep) {
			parts := strings.Split(expr, sep)
			base, how := a.resolveDepth(strings.TrimSuffix(strings.TrimPrefix(parts[0], "Path("), ")"), srcDir, consts, depth+1)
			if how != "path" {
				return base, how
			}
			for _, p := range parts[1:] {
				q := quoted().FindStringSubmatch(strings.TrimSpace(p))
				if q == nil {
					return "", "computed"
				}
				base = path.Join(base, strings.TrimPrefix(q[1]+q[2]+q[3], "/"))
			}
			return base, "path"
		}
	}
	if strings.HasPrefix(expr, "Path(") && strings.HasSuffix(expr, ")") {
		return a.resolveDepth(expr[len("Path("):len(expr)-1], srcDir, consts, depth+1)
	}
	return "", "computed"
}

// envPath resolves an environment variable with a default: the Dockerfile's
// ENV value when it sets one, else the default.
func (a *analysis) envPath(name, def, srcDir string) (string, string) {
	if v, ok := a.st.env[name]; ok && v != "" {
		def = v
	}
	if def == "" {
		return "", "computed"
	}
	return a.literalPath(def, srcDir)
}

// literalPath resolves a literal: absolute as is, ~ in the home, relative
// to the working directory.
func (a *analysis) literalPath(p, srcDir string) (string, string) {
	switch {
	case p == "" || p == ":memory:" || strings.HasPrefix(p, "file::memory:") || strings.HasPrefix(p, "/dev/") || p == "-":
		return "", "skip"
	case strings.HasPrefix(p, "~"):
		return "", "home"
	}
	for _, prefix := range []string{"sqlite:///", "sqlite:", "file:"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			if prefix == "sqlite:///" && strings.HasPrefix(rest, "/") {
				return path.Clean(rest), "path" // sqlite:////abs
			}
			p = rest
			if rest == ":memory:" || rest == "" {
				return "", "skip"
			}
			break
		}
	}
	if path.IsAbs(p) {
		return path.Clean(p), "path"
	}
	if strings.Contains(p, "://") || strings.ContainsAny(p, "{}%$") {
		return "", "computed"
	}
	return path.Join(a.st.workdir, p), "path"
}

// splitArgs splits a call's arguments at top-level commas.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

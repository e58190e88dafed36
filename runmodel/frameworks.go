package runmodel

import (
	"path"
	"slices"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// convention is where a framework or program writes by default, as its
// documentation and generated projects show. Paths are relative to the
// app's folder (the working directory) unless absolute.
type convention struct {
	// writes are folders the app creates files in or below.
	writes []string
	// kind is how it makes them: MakesDir when it creates them as needed,
	// CreatesIn when the folder itself must be writable.
	kind WriteKind
	why  string
}

// programWrites are the defaults of programs found in the start command.
var programWrites = map[string]convention{
	"next":      {writes: []string{".next/cache"}, kind: MakesDir, why: "the cache next start keeps of optimised images and pages"},
	"ng":        {writes: []string{".angular"}, kind: MakesDir, why: "the build cache of ng serve"},
	"vite":      {writes: []string{"node_modules/.vite"}, kind: MakesDir, why: "the Vite dev server's pre-bundled dependencies"},
	"nuxt":      {writes: []string{".nuxt"}, kind: MakesDir, why: "the app nuxt generates"},
	"nest":      {writes: []string{"."}, kind: CreatesIn, why: "nest start compiles the app into dist/ at start"},
	"gatsby":    {writes: []string{"."}, kind: CreatesIn, why: "gatsby's .cache and public/"},
	"jupyter":   {writes: []string{"."}, kind: CreatesIn, why: "notebooks and checkpoints Jupyter saves"},
	"streamlit": {writes: nil, why: "Streamlit's ~/.streamlit"},
}

// frameworkWrites are the defaults of web frameworks.
var frameworkWrites = map[string]convention{
	"rails":   {writes: []string{"tmp", "log", "storage"}, kind: MakesDir, why: "Rails' caches and pid files, logs and Active Storage files"},
	"laravel": {writes: []string{"storage", "bootstrap/cache"}, kind: MakesDir, why: "Laravel's logs, sessions, compiled views and caches"},
	"symfony": {writes: []string{"var"}, kind: MakesDir, why: "Symfony's cache and logs"},
}

// programConventions applies what a program writes by default.
func (a *analysis) programConventions(name string, at Evidence) {
	if c, ok := programWrites[name]; ok {
		a.applyConvention(c, at)
	}
	if name == "celery" && strings.Contains(strings.Join(a.m.Command, " "), "beat") {
		a.applyConvention(convention{writes: []string{"."}, kind: CreatesIn, why: "the celerybeat-schedule file of celery beat"}, at)
	}
}

func (a *analysis) applyConvention(c convention, at Evidence) {
	for _, w := range c.writes {
		p := path.Join(a.st.workdir, w)
		why := Evidence{File: at.File, Line: at.Line, Why: c.why}
		if w == "." {
			a.m.addWrite(Write{Path: p, Kind: CreatesIn, Copied: true, Why: why})
			continue
		}
		if a.inImage(p) {
			a.m.addWrite(Write{Path: p, Kind: Modifies, Copied: true, Why: why})
			continue
		}
		a.m.addWrite(Write{Path: p, Kind: c.kind, Why: why})
	}
}

// frameworkConventions applies the defaults of the framework detection
// found, or that the context shows.
func (a *analysis) frameworkConventions() {
	fw := a.in.Framework
	switch {
	case fw == "django" || a.runs("manage.py"):
		a.django()
	case fw == "rails" || fw == "laravel" || fw == "symfony":
		a.applyConvention(frameworkWrites[fw], Evidence{Why: fw + " app"})
	}
	if fw == "" || fw == "php" {
		if _, ok := a.contextFile(path.Join(a.st.workdir, "artisan")); ok {
			a.applyConvention(frameworkWrites["laravel"], Evidence{File: "artisan", Why: "a Laravel app"})
		}
		if _, ok := a.contextFile(path.Join(a.st.workdir, "bin/console")); ok {
			if _, ok := a.contextFile(path.Join(a.st.workdir, "symfony.lock")); ok {
				a.applyConvention(frameworkWrites["symfony"], Evidence{File: "symfony.lock", Why: "a Symfony app"})
			}
		}
	}
	if fw == "next" && !slices.Contains(a.m.Programs, "next") {
		a.applyConvention(programWrites["next"], Evidence{Why: "a Next.js app"})
	}
	if fw == "rails" || a.runs("rails") {
		a.railsDatabase()
	}
	a.pythonHomeLibraries()
}

// runs reports whether the start command mentions a word.
func (a *analysis) runs(word string) bool {
	for _, w := range a.m.Command {
		if strings.Contains(w, word) {
			return true
		}
	}
	return slices.Contains(a.m.Programs, word)
}

var (
	djangoSQLite = lazyre.New(`django\.db\.backends\.sqlite3`)
	// djangoName reads the NAME of a database setting: BASE_DIR / "x",
	// os.path.join(BASE_DIR, "x") or a literal path.
	djangoName     = lazyre.New(`['"]NAME['"]\s*:\s*([^\n,}]+(?:\([^)]*\))?)`)
	djangoMedia    = lazyre.New(`(?m)^\s*MEDIA_ROOT\s*=\s*(.+)$`)
	djangoStatic   = lazyre.New(`(?m)^\s*STATIC_ROOT\s*=\s*(.+)$`)
	stringLiteral  = lazyre.New(`['"]([^'"]+)['"]`)
	baseDirRelated = lazyre.New(`BASE_DIR|__file__|PROJECT_ROOT|PROJECT_DIR|ROOT_DIR`)
	dbURLDefault   = lazyre.New(`sqlite:///([^'"\s]+)`)
)

// django models a Django app's default writes: the SQLite database next to
// manage.py (startproject's default), MEDIA_ROOT for uploads, and
// STATIC_ROOT when collectstatic runs at start.
func (a *analysis) django() {
	base := a.djangoBase()
	for _, settings := range a.djangoSettings() {
		data, err := a.read(settings)
		if err != nil {
			continue
		}
		text := string(data)
		if djangoSQLite().MatchString(text) {
			line := lineOf(text, djangoSQLite().FindStringIndex(text)[0])
			why := Evidence{File: settings, Line: line, Why: "Django's SQLite database and its journal"}
			p := ""
			if m := djangoName().FindStringSubmatch(text); m != nil {
				p = a.settingsPath(m[1], base)
			}
			if p == "" {
				p = path.Join(base, "db.sqlite3")
			}
			a.m.addWrite(Write{Path: path.Dir(p), Kind: CreatesIn, Copied: a.inImage(path.Dir(p)), Why: why})
			if a.inImage(p) {
				a.m.addWrite(Write{Path: p, Kind: Modifies, Copied: true, Why: why})
			}
		}
		if m := dbURLDefault().FindStringSubmatchIndex(text); m != nil && strings.Contains(text, "dj_database_url") {
			rel := text[m[2]:m[3]]
			p := path.Join(base, rel)
			if strings.HasPrefix(rel, "/") {
				p = path.Clean(rel)
			}
			a.m.addWrite(Write{Path: path.Dir(p), Kind: CreatesIn, Copied: a.inImage(path.Dir(p)),
				Why: Evidence{File: settings, Line: lineOf(text, m[0]), Why: "the SQLite database of the default DATABASE_URL"}})
		}
		if m := djangoMedia().FindStringSubmatchIndex(text); m != nil {
			if p := a.settingsPath(text[m[2]:m[3]], base); p != "" && !systemDir(p) {
				a.m.addWrite(Write{Path: p, Kind: MakesDir, Copied: a.inImage(p),
					Why: Evidence{File: settings, Line: lineOf(text, m[0]), Why: "uploads under Django's MEDIA_ROOT"}})
			}
		}
		if a.runs("collectstatic") {
			if m := djangoStatic().FindStringSubmatchIndex(text); m != nil {
				if p := a.settingsPath(text[m[2]:m[3]], base); p != "" && !systemDir(p) {
					a.m.addWrite(Write{Path: p, Kind: MakesDir, Copied: a.inImage(p),
						Why: Evidence{File: settings, Line: lineOf(text, m[0]), Why: "the files collectstatic copies into STATIC_ROOT at start"}})
				}
			}
		}
	}
}

// djangoBase is BASE_DIR in the image: the folder that holds manage.py.
func (a *analysis) djangoBase() string {
	if _, ok := a.contextFile(path.Join(a.st.workdir, "manage.py")); ok {
		return a.st.workdir
	}
	if a.in.Context != nil {
		if found, _ := a.in.Context.Glob("*/manage.py"); len(found) > 0 {
			if img, ok := a.imagePath(found[0]); ok {
				return path.Dir(img)
			}
		}
	}
	return a.st.workdir
}

// djangoSettings lists settings modules in the context.
func (a *analysis) djangoSettings() []string {
	if a.in.Context == nil {
		return nil
	}
	var out []string
	for _, pat := range []string{"*/settings.py", "*/*/settings.py", "*/settings/*.py", "settings.py", "*/*/settings/*.py"} {
		found, _ := a.in.Context.Glob(pat)
		for _, f := range found {
			if a.in.Context.Sent(f) && !strings.Contains(f, "site-packages") {
				out = append(out, f)
			}
		}
	}
	return out
}

// settingsPath turns a settings expression into a path in the image:
// BASE_DIR / "media", os.path.join(BASE_DIR, "media") or "/data/media".
// It returns "" when the expression is computed some other way.
func (a *analysis) settingsPath(expr, base string) string {
	lits := stringLiteral().FindAllStringSubmatch(expr, -1)
	if len(lits) == 0 {
		return ""
	}
	var parts []string
	for _, l := range lits {
		parts = append(parts, l[1])
	}
	joined := path.Join(parts...)
	switch {
	case strings.HasPrefix(joined, "/"):
		return path.Clean(joined)
	case baseDirRelated().MatchString(expr):
		return path.Join(base, joined)
	case strings.Contains(expr, "environ") || strings.Contains(expr, "getenv") || strings.Contains(expr, "env("):
		return "" // an environment variable with a default: the literal is a variable name or the default
	}
	return path.Join(a.st.workdir, joined)
}

var railsSQLite = lazyre.New(`adapter:\s*sqlite3`)

// railsDatabase adds db/ when config/database.yml uses SQLite.
func (a *analysis) railsDatabase() {
	src, ok := a.contextFile(path.Join(a.st.workdir, "config/database.yml"))
	if !ok {
		return
	}
	data, err := a.read(src)
	if err != nil {
		return
	}
	if loc := railsSQLite().FindIndex(data); loc != nil {
		p := path.Join(a.st.workdir, "db")
		a.m.addWrite(Write{Path: p, Kind: CreatesIn, Copied: a.inImage(p), Why: Evidence{File: src, Line: lineOf(string(data), loc[0]), Why: "Rails' SQLite database"}})
	}
}

// homeLibraries are Python packages that cache downloads in the home
// folder by default.
var homeLibraries = map[string]string{
	"transformers": "HF_HOME", "huggingface-hub": "HF_HOME", "huggingface_hub": "HF_HOME", "sentence-transformers": "HF_HOME",
	"diffusers": "HF_HOME", "datasets": "HF_HOME", "torch": "TORCH_HOME", "matplotlib": "MPLCONFIGDIR", "nltk": "NLTK_DATA",
	"gradio": "GRADIO_TEMP_DIR", "streamlit": "", "spacy": "",
}

var requirementName = lazyre.New(`(?m)^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

// pythonHomeLibraries notes dependencies that write under HOME.
func (a *analysis) pythonHomeLibraries() {
	if a.in.Context == nil {
		return
	}
	for _, manifest := range []string{"requirements.txt", "pyproject.toml", "Pipfile"} {
		src, ok := a.contextFile(path.Join(a.st.workdir, manifest))
		if !ok {
			if a.in.Context.Sent(manifest) {
				src = manifest
			} else {
				continue
			}
		}
		data, err := a.read(src)
		if err != nil {
			continue
		}
		for _, m := range requirementName().FindAllStringSubmatchIndex(string(data), -1) {
			name := strings.ToLower(string(data[m[2]:m[3]]))
			env, ok := homeLibraries[name]
			if !ok {
				continue
			}
			if env != "" && a.st.env[env] != "" {
				continue
			}
			a.m.setHome(Evidence{File: src, Line: lineOf(string(data), m[0]), Why: name + " keeps downloads, caches or settings under the home folder"})
		}
	}
}

// lineOf is the 1-based line of a byte offset.
func lineOf(text string, off int) int {
	if off > len(text) {
		off = len(text)
	}
	return 1 + strings.Count(text[:off], "\n")
}

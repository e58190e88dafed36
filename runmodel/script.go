package runmodel

import (
	"bytes"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// scriptReader reads a shell script that runs when the container starts
// (an entrypoint script, a shell-form command, a package.json script): the
// paths it writes, what it needs root for, and the command it hands over
// to.
type scriptReader struct {
	a    *analysis
	r    *runner
	file string
	// line is added to positions for inline code (a command in a
	// Dockerfile or package.json), whose lines are not the file's.
	line   int
	inline bool
	vars   map[string]string
	wd     string
	depth  int
	// args are the script's positional parameters.
	args []string
}

func (sc *scriptReader) at(n syntax.Node, why string) Evidence {
	line := sc.line
	if !sc.inline {
		line = int(n.Pos().Line())
	}
	return Evidence{File: sc.file, Line: line, Why: why}
}

func (sc *scriptReader) walk(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.Assign:
			if x.Name != nil && x.Value != nil && !x.Append && x.Array == nil {
				if v, ok := sc.word(x.Value); ok {
					sc.vars[x.Name.Value] = v
				}
			}
		case *syntax.Stmt:
			for _, rd := range x.Redirs {
				sc.redirect(rd)
			}
		case *syntax.CallExpr:
			sc.call(x)
		}
		return true
	})
}

// word expands a shell word with what the script and the image set; ok is
// false when part of it is only known at run time.
func (sc *scriptReader) word(w *syntax.Word) (string, bool) {
	var b strings.Builder
	ok := true
	var part func(p syntax.WordPart)
	part = func(p syntax.WordPart) {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				part(q)
			}
		case *syntax.ParamExp:
			name := ""
			if x.Param != nil {
				name = x.Param.Value
			}
			val, set := sc.lookup(name)
			if x.Exp != nil && (x.Exp.Op == syntax.DefaultUnset || x.Exp.Op == syntax.DefaultUnsetOrNull ||
				x.Exp.Op == syntax.AssignUnset || x.Exp.Op == syntax.AssignUnsetOrNull) {
				if !set || val == "" {
					if x.Exp.Word != nil {
						v, wok := sc.word(x.Exp.Word)
						val, set = v, wok
					}
					if set && (x.Exp.Op == syntax.AssignUnset || x.Exp.Op == syntax.AssignUnsetOrNull) {
						sc.vars[name] = val // ${X:=default} also sets X
					}
				}
			} else if x.Exp != nil || x.Slice != nil || x.Repl != nil || x.Length || x.Excl || x.Index != nil {
				set = false
			}
			if !set {
				ok = false
			}
			b.WriteString(val)
		default:
			ok = false
		}
	}
	for _, p := range w.Parts {
		part(p)
	}
	return b.String(), ok
}

func (sc *scriptReader) lookup(name string) (string, bool) {
	if v, ok := sc.vars[name]; ok {
		return v, true
	}
	if name == "HOME" {
		return "", false // the user's home: decided by the user harden picks
	}
	if name == "PWD" {
		return sc.wd, true
	}
	if v, ok := sc.a.st.env[name]; ok {
		return v, true
	}
	return "", false
}

func (sc *scriptReader) redirect(rd *syntax.Redirect) {
	switch rd.Op {
	case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.ClbOut:
	default:
		return
	}
	if rd.N != nil && rd.N.Value == "0" || rd.Word == nil {
		return
	}
	p, ok := sc.word(rd.Word)
	if !ok {
		sc.unknownPath(rd.Word, "writes output to")
		return
	}
	if strings.HasPrefix(p, "&") || p == "" {
		return
	}
	sc.writeFile(p, sc.at(rd, "writes output to "+p))
}

func (sc *scriptReader) unknownPath(w *syntax.Word, what string) {
	if usesHome(w) {
		sc.a.m.setHome(sc.at(w, what+" a path under $HOME"))
		return
	}
	sc.a.m.unknown(sc.at(w, what+" "+wordSource(w)+", a path computed at run time"))
}

// usesHome reports whether a word starts with $HOME or ~.
func usesHome(w *syntax.Word) bool {
	src := wordSource(w)
	return strings.HasPrefix(src, "$HOME") || strings.HasPrefix(src, "${HOME") || strings.HasPrefix(src, "~") ||
		strings.HasPrefix(src, `"$HOME`) || strings.HasPrefix(src, `"${HOME`)
}

func (sc *scriptReader) abs(p string) string {
	if strings.HasPrefix(p, "~") {
		return ""
	}
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(sc.wd, p)
}

// writeFile records a file the script writes.
func (sc *scriptReader) writeFile(p string, why Evidence) {
	if strings.HasPrefix(p, "~") {
		sc.a.m.setHome(why)
		return
	}
	if p = sc.abs(p); p == "" || worldWritable(p) {
		return
	}
	sc.a.writeFile(p, why)
}

func (sc *scriptReader) call(c *syntax.CallExpr) {
	if len(c.Args) == 0 {
		return
	}
	var words []string
	lits := make([]bool, len(c.Args))
	for i, w := range c.Args {
		v, ok := sc.word(w)
		lits[i] = ok
		words = append(words, v)
	}
	if !lits[0] {
		// "$@" or another computed program: exec "$@" hands over to CMD.
		if src := wordSource(c.Args[0]); src == `"$@"` || src == "$@" || src == `"${@}"` {
			sc.r.follow(sc.r.cmd, sc.at(c, "the script runs the image's CMD"), sc.depth)
		}
		return
	}
	prog := programOf(words[0])
	args := words[1:]
	at := sc.at(c, strings.Join(wordSources(c.Args), " "))
	a := sc.a
	switch prog {
	case "exec":
		if len(c.Args) > 1 {
			src := wordSource(c.Args[1])
			if src == `"$@"` || src == "$@" {
				sc.r.follow(sc.r.cmd, sc.at(c, "the script runs the image's CMD"), sc.depth)
				return
			}
			sc.r.follow(words[1:], at, sc.depth)
		}
	case "cd":
		if len(args) > 0 && lits[1] {
			sc.wd = sc.abs(args[0])
		}
	case "mkdir":
		parents := false
		var dirs []int // indexes into args
		for i := 0; i < len(args); i++ {
			w := args[i]
			switch {
			case w == "-m" || w == "--mode":
				i++
			case w == "-p" || w == "--parents" || strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "p"):
				parents = true
			case strings.HasPrefix(w, "-"):
			default:
				dirs = append(dirs, i)
			}
		}
		kind := MakesDirOnce
		if parents {
			kind = MakesDir
		}
		for _, i := range dirs {
			if !lits[i+1] {
				sc.unknownPath(c.Args[i+1], "makes the folder")
				continue
			}
			if p := sc.abs(args[i]); p != "" && !worldWritable(p) {
				a.makeDir(p, kind, sc.at(c, "mkdir "+args[i]))
			}
		}
	case "touch", "tee", "truncate":
		for i, w := range args {
			if strings.HasPrefix(w, "-") {
				continue
			}
			if !lits[i+1] {
				sc.unknownPath(c.Args[i+1], prog+" writes")
				continue
			}
			sc.writeFile(w, sc.at(c, prog+" "+w))
		}
	case "sed":
		if hasInPlace(args) {
			ops := sedFiles(args)
			for _, i := range ops {
				if !lits[i+1] {
					sc.unknownPath(c.Args[i+1], "sed -i edits")
					continue
				}
				sc.writeFile(args[i], sc.at(c, "sed -i edits "+args[i]))
			}
		}
	case "cp", "mv", "ln", "install", "rsync", "envsubst":
		if prog == "envsubst" {
			return // writes through a redirection, read above
		}
		ops := operands(args, "-t", "--target-directory", "-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix")
		if len(ops) >= 2 {
			dest := ops[len(ops)-1]
			idx := indexOf(words, dest)
			if idx > 0 && !lits[idx] {
				sc.unknownPath(c.Args[idx], prog+" writes to")
				return
			}
			p := sc.abs(dest)
			if p == "" || worldWritable(p) {
				return
			}
			if prog == "install" && hasArg(args, "-d") {
				for _, d := range ops {
					a.makeDir(sc.abs(d), MakesDir, at)
				}
				return
			}
			a.writeFile(p, at)
			if prog == "mv" || prog == "rm" {
				for _, src := range ops[:len(ops)-1] {
					a.writeFile(sc.abs(src), at)
				}
			}
		}
	case "rm":
		for i, w := range args {
			if strings.HasPrefix(w, "-") || !lits[i+1] {
				continue
			}
			if p := sc.abs(w); p != "" && !worldWritable(p) {
				a.writeFile(p, at)
			}
		}
	case "chown", "chgrp", "chmod":
		if prog == "chmod" && !touchesOthers(args) {
			return
		}
		a.m.NeedsRoot = append(a.m.NeedsRoot, Evidence{File: at.File, Line: at.Line, Why: prog + " changes owners or modes, which needs root: " + at.Why})
	case "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "useradd", "adduser", "groupadd", "addgroup",
		"usermod", "update-ca-certificates", "sysctl", "mount", "setcap", "ldconfig", "locale-gen", "service", "iptables",
		"update-alternatives", "dpkg-reconfigure", "sshd", "crond", "cron", "rsyslogd":
		if prog == "apk" && len(args) > 0 && (args[0] == "info" || args[0] == "version") {
			return
		}
		a.m.NeedsRoot = append(a.m.NeedsRoot, Evidence{File: at.File, Line: at.Line, Why: prog + " needs root: " + at.Why})
	case "gosu", "su-exec", "su", "runuser", "setpriv", "s6-setuidgid", "setuidgid", "chroot":
		a.m.Drops = append(a.m.Drops, PrivilegeDrop{Server: prog, Setting: "the user " + prog + " switches to", Why: at})
	case "git":
		if len(args) > 1 && args[0] == "config" && (hasArg(args, "--global") || hasArg(args, "--system")) {
			if hasArg(args, "--system") {
				a.m.NeedsRoot = append(a.m.NeedsRoot, Evidence{File: at.File, Line: at.Line, Why: "git config --system writes /etc/gitconfig, which needs root"})
			} else {
				a.m.setHome(Evidence{File: at.File, Line: at.Line, Why: "git config --global writes ~/.gitconfig"})
			}
		}
		a.program("git", at)
	case ".", "source":
		if len(args) > 0 && lits[1] && sc.depth < maxDepth {
			sc.r.script(args[0], nil, at, sc.depth+1)
		}
	case "python", "node", "ruby", "php", "npm", "yarn", "pnpm", "npx", "bundle", "poetry", "pipenv", "uv", "rails", "rake",
		"gunicorn", "uvicorn", "celery", "flask", "streamlit", "java", "sh", "bash", "env", "nginx", "php-fpm", "apache2-foreground",
		"httpd-foreground", "supervisord", "uwsgi", "puma", "unicorn", "bun", "deno", "dotnet", "hypercorn", "daphne":
		sc.r.follow(words, at, sc.depth)
	default:
		if strings.Contains(words[0], "/") && lits[0] && sc.depth < maxDepth {
			sc.r.follow(words, at, sc.depth)
		}
	}
}

// touchesOthers reports whether chmod changes a mode (any chmod on a file
// it does not own needs root; on its own files it does not, but harden
// cannot tell whose files they are, so any chmod counts).
func touchesOthers(args []string) bool { return len(operands(args)) >= 2 }

func hasInPlace(args []string) bool {
	for _, a := range args {
		if a == "-i" || strings.HasPrefix(a, "-i") && !strings.HasPrefix(a, "--") || a == "--in-place" || strings.HasPrefix(a, "--in-place=") {
			return true
		}
	}
	return false
}

// sedFiles returns the indexes (in args) of the files sed edits: the
// operands after the script, or all operands when -e or -f gives it.
func sedFiles(args []string) []int {
	var ops []int
	script := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-e" || a == "-f" || a == "--expression" || a == "--file":
			script = true
			i++
		case strings.HasPrefix(a, "-"):
		default:
			ops = append(ops, i)
		}
	}
	if !script && len(ops) > 0 {
		ops = ops[1:]
	}
	return ops
}

func wordSource(w *syntax.Word) string {
	var b bytes.Buffer
	syntax.NewPrinter().Print(&b, w)
	return b.String()
}

func wordSources(ws []*syntax.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = wordSource(w)
	}
	return out
}

// shellWordSource prints a word of a RUN command as written.
func shellWordSource(w *syntax.Word) string { return wordSource(w) }

package transform

import (
	"strconv"
	"strings"

	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/internal/lazyre"
)

// WorldWritable flags permissions that let any user write: chmod 777,
// chmod o+w, COPY --chmod=666 and umask 000.
var WorldWritable = &Rule{
	ID:               "HD408",
	Name:             "world-writable",
	Title:            "files made writable by every user",
	Severity:         Warning,
	SecuritySeverity: 5.0,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "A file or folder that every user may write lets any process in the container, " +
			"whatever user it runs as, replace the app's code or configuration: one bug in any " +
			"of them becomes code execution as the app. chmod 777 usually papers over an owner " +
			"problem. Give the folder to the user that writes it (`COPY --chown=app:app`, " +
			"`chown app:app /data`) and keep modes at 755 for folders and 644 for files. " +
			"Shared scratch folders with the sticky bit (1777, like /tmp) are left alone.",
		Bad:  "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN chmod -R 777 /app\nUSER 10001\n",
		Good: "FROM python:3.12-slim\nWORKDIR /app\nCOPY --chown=10001:10001 . .\nUSER 10001\n",
	},
	Check: checkWorldWritable,
}

var octalMode = lazyre.New(`^[0-7]{3,4}$`)

var umaskValue = lazyre.New(`^[0-7]{1,4}$`)

func checkWorldWritable(p *Pass) {
	for _, ins := range p.File.Instructions {
		if ins.Keyword != "copy" && ins.Keyword != "add" {
			continue
		}
		if mode, ok := ins.Flag("chmod"); ok && worldWritableMode(mode) {
			p.Report(ins, strings.ToUpper(ins.Keyword)+" --chmod="+mode+" makes the files writable by every user; give them to the app user with --chown instead", nil)
		}
	}
	p.Commands(func(c *dockerfile.Command) {
		switch c.Name() {
		case "chmod":
			for _, a := range literalArgs(c) {
				if strings.HasPrefix(a, "--reference") {
					return
				}
				if strings.HasPrefix(a, "-") {
					continue // an option, or a mode that only removes permissions
				}
				if worldWritableMode(a) {
					p.ReportAt(c, "chmod "+a+" makes files writable by every user; chown them to the user that writes them instead", nil)
				}
				return // the first word that is not an option is the mode
			}
		case "umask":
			if a, lit := c.Arg(1); lit && umaskValue().MatchString(a) {
				if v, _ := strconv.ParseUint(a, 8, 32); v&0o002 == 0 {
					p.ReportAt(c, "umask "+a+" makes every file created afterwards writable by every user", nil)
				}
			}
		}
	})
}

// worldWritableMode reports whether a chmod mode grants write permission to
// others without the sticky bit.
func worldWritableMode(mode string) bool {
	if octalMode().MatchString(mode) {
		v, _ := strconv.ParseUint(mode, 8, 32)
		return v&0o002 != 0 && v&0o1000 == 0
	}
	sticky, writable := false, false
	for _, clause := range strings.Split(mode, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return false // not a symbolic mode: a file name
		}
		who := clause[:i]
		if strings.Trim(who, "ugoa") != "" {
			return false
		}
		op, perms := clause[i], clause[i+1:]
		if op == '-' {
			continue
		}
		if strings.Contains(perms, "t") {
			sticky = true
		}
		if strings.ContainsAny(who, "oa") && strings.Contains(perms, "w") {
			writable = true
		}
	}
	return writable && !sticky
}

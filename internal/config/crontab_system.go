// System crontabs: /etc/crontab and /etc/cron.d/*, whose job lines have a user field between
// the schedule and the command ("17 * * * * root run-parts /etc/cron.hourly"), and the job's
// user that field gives.

package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/uno-init/uno/internal/cron"
)

// IsSystemCrontab reports whether cron reads the crontab at path as a system crontab, by its
// place as Debian's cron and cronie decide: /etc/crontab and the files directly in /etc/cron.d.
func IsSystemCrontab(path string) bool {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path == "/etc/crontab" || filepath.Dir(path) == "/etc/cron.d"
}

// splitUserField takes the user field off the front of what follows a system crontab line's
// schedule expr; extra is how many fields expr has beyond its kind's (1 when a sixth came first
// as seconds, below 0 when it lacks some). A user is a name, as cron looks it up: a word of
// time-field characters (digits and "*?,-/") is never one (after five time fields it is the
// sixth, seconds first), and a day of the week's name where a seconds schedule's sixth field
// could be ("0 30 2 * * mon root cmd") is refused rather than guessed at.
func splitUserField(expr string, extra int, rest string) (user, command, problem string) {
	u, rest := cutWords(rest, 1)
	command = strings.TrimSpace(rest)
	switch {
	case extra < 0 || len(u) == 0 || command == "":
		return "", "", "want a schedule, a user and a command (a system crontab's lines have a user field)"
	case isCronField(u[0]):
		return "", "", "user " + quoteExcerpt(u[0]) + ": want a user name (a uid is not one here, as in cron); or too many time fields"
	}
	if extra == 0 && expr[0] != '@' {
		if _, err := cron.Parse(expr + " " + u[0]); err == nil {
			return "", "", "ambiguous: " + strconv.Quote(u[0]) + " is the user after five time fields or a day of the week after six (seconds first); write the day of the week as a number"
		}
	}
	return u[0], command, ""
}

// crontabUser resolves a system crontab job's user as a service's user = key does (users.go),
// and gives the job's environment assignments with those cron adds (crontab(5)): HOME from
// /etc/passwd unless the crontab sets it, LOGNAME and USER always. A job of the user uno runs
// as, when that is not root, needs no switch and gets none (a non-root uno cannot set even its
// own groups). byPlace says the format was chosen by the file's place: an unknown user then
// says so.
func (l *loader) crontabUser(path string, e CrontabEntry, byPlace bool) (*User, []string, bool) {
	n := len(l.errs)
	u := l.user(path, "", &node{kind: kindString, str: e.User, line: e.Line}, nil, nil)
	if u == nil {
		if pe, ok := l.errs[len(l.errs)-1].(*PosError); ok && byPlace && len(l.errs) > n && strings.HasPrefix(pe.Msg, "no such user") {
			pe.Msg += " (a line of /etc/crontab or /etc/cron.d has a user field, as cron reads it; crontab_user_field = false reads a user crontab)"
		}
		return nil, nil, false
	}
	vars := append(append([]string{"HOME=" + u.Home}, e.Env...), "LOGNAME="+u.Name, "USER="+u.Name)
	if euid := os.Geteuid(); euid != 0 && u.Uid == uint32(euid) {
		u = nil
	}
	return u, vars, true
}

// userFieldWarning is for a line of a user crontab whose command begins with a user's name that
// is no program: most likely a system crontab's line (Debian's /etc/crontab copied to another
// place), each run of which would fail with "root: not found".
func (l *loader) userFieldWarning(path string, e CrontabEntry, pathVar string) {
	words, _ := cutWords(e.Command, 1) // the parser's own split
	if len(words) == 0 || strings.ContainsRune(words[0], '/') {
		return
	}
	first := words[0]
	if _, err := lookupUser(first); err != nil || onPath(first, pathVar) {
		return
	}
	l.warnings = append(l.warnings, (&PosError{File: path, Line: e.Line, Msg: "the command begins with " + strconv.Quote(first) +
		", a user in /etc/passwd and no program on $PATH: a system crontab's line (MIN HOUR DOM MONTH DOW USER command)? crontab_user_field = true reads the user field"}).Error())
}

// shellDefaultPath is where a job's shell looks for a program when PATH is not set (dash's and
// bash's default; busybox's is a subset), as it is not for a PID 1 the kernel started: the
// warning above must not call a program the shell finds "no program".
const shellDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// onPath reports whether name is an executable file in one of pathVar's directories.
func onPath(name, pathVar string) bool {
	for _, dir := range strings.Split(pathVar, ":") {
		if dir == "" {
			dir = "."
		}
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return true
		}
	}
	return false
}

// cronHome is the working directory of a system crontab's job: cron runs every job in its
// HOME (the user's, or the crontab's HOME=), so that its relative paths mean the user's home.
// Debian's cron ignores a chdir that fails and runs the job where cron is: so does uno for a
// HOME that is not a directory as the crontab is read (nobody's /nonexistent).
func cronHome(home string) string {
	if !filepath.IsAbs(home) {
		return ""
	}
	if st, err := os.Stat(home); err != nil || !st.IsDir() {
		return ""
	}
	return home
}

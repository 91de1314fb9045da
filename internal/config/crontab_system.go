// System crontabs: /etc/crontab and /etc/cron.d/*, whose job lines have a user field between
// the schedule and the command ("17 * * * * root run-parts /etc/cron.hourly"), and the job's
// user that field gives.

package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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

// crontabUserField reads crontab_user_field: nil when it is not set, and the file's place
// decides.
func (l *loader) crontabUserField(file string, root *table) *bool {
	n := root.get("crontab_user_field")
	if n == nil {
		return nil
	}
	v := l.boolean(file, "crontab_user_field", n, false)
	return &v
}

// splitUserField takes the user field off the front of what follows a system crontab line's
// schedule. A user is a name, as cron looks it up: a word of time-field characters (digits and
// "*?,-/") is never one (after five time fields it is the sixth, seconds first), and a day of
// the week's name where a seconds schedule's sixth field could be ("0 30 2 * * mon root cmd")
// is refused rather than guessed at.
func splitUserField(fields []string, complete bool, rest string) (user, command string, err error) {
	u, rest := cutWords(rest, 1)
	command = strings.TrimSpace(rest)
	if !complete || len(u) == 0 || command == "" {
		return "", "", errors.New("want a schedule, a user and a command (a system crontab's lines have a user field)")
	}
	user = u[0]
	if isCronField(user) {
		return "", "", errors.New("user " + quoteExcerpt(user) + ": want a user name (a uid is not one here, as in cron); or too many time fields")
	}
	if len(fields) == 5 && !strings.HasPrefix(fields[0], "@") {
		if _, err := cron.Parse(strings.Join(fields, " ") + " " + user); err == nil {
			return "", "", errors.New("ambiguous: " + strconv.Quote(user) + " is the user after five time fields or a day of the week after six (seconds first); write the day of the week as a number")
		}
	}
	return user, command, nil
}

// crontabUser resolves a system crontab job's user as a service's user = key does (users.go),
// and sets the environment cron gives a job (crontab(5)): HOME from /etc/passwd unless the
// crontab sets it, LOGNAME and USER always. A job of the user uno runs as, when that is not
// root, needs no switch and gets none (a non-root uno cannot set even its own groups).
// byPlace says the format was chosen by the file's place, for the hint when the user is unknown.
func (l *loader) crontabUser(path string, e CrontabEntry, byPlace bool, env *environment) (*User, bool) {
	if _, err := lookupUser(e.User); err != nil {
		msg := "no such user " + strconv.Quote(e.User) + " in /etc/passwd"
		if byPlace {
			msg += " (the sixth field of a line in /etc/crontab or /etc/cron.d is the user, as cron reads them; crontab_user_field = false reads it as a user crontab)"
		}
		l.cronError(path, e.Line, "user", msg)
		return nil, false
	}
	u := l.user(path, "", &node{kind: kindString, str: e.User, line: e.Line}, nil, nil)
	if u == nil {
		return nil, false
	}
	if !slices.ContainsFunc(e.Env, func(kv string) bool { return strings.HasPrefix(kv, "HOME=") }) {
		env.set("HOME", u.Home)
	}
	env.set("LOGNAME", u.Name)
	env.set("USER", u.Name)
	if euid := os.Geteuid(); euid != 0 && u.Uid == uint32(euid) {
		return nil, true
	}
	return u, true
}

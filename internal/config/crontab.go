// Crontab files: `crontab = "FILE"` in the configuration, or `uno -C FILE` for a crontab alone
// (supercronic's way). Each job line becomes a cron job service.

package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/cron"
)

// CrontabEntry is one job of a crontab file.
type CrontabEntry struct {
	// Name is the job's name: from a "# name: NAME" comment right above it, or else from the
	// file's name and the line number ("crontab-12").
	Name    string
	Expr    string
	Command string
	// User is a system crontab line's user field (empty in a user crontab).
	User string
	Line int
	// Env is the environment assignments above the job, in file order.
	Env []string
	// Zone is the last CRON_TZ assignment above the job, if any.
	Zone string
}

// ParseCrontab reads a crontab as cron does for a user's crontab: "MIN HOUR DOM MONTH DOW
// command" lines (a leading seconds field and @macros allowed), NAME=value lines that set the
// environment of the jobs below them, blank lines and # comments; with userField, as cron reads
// a system crontab, whose lines have a user between schedule and command (crontab_system.go).
// A "%" in a command is passed to the shell as is (cron would make it a newline; supercronic
// does not either). Errors are *PosError naming file and line.
func ParseCrontab(file string, data []byte, userField bool) ([]CrontabEntry, error) {
	want := "MIN HOUR DOM MONTH DOW command"
	if userField {
		want = "MIN HOUR DOM MONTH DOW USER command"
	}
	var entries []CrontabEntry
	var env []string
	var zone, name string
	nameLine := 0
	seen := map[string]int{}
	prefix := crontabPrefix(file)
	for i, text := range strings.Split(normalizeText(data), "\n") {
		line := i + 1
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if text[0] == '#' {
			if n, ok := strings.CutPrefix(strings.TrimSpace(text[1:]), "name:"); ok {
				name, nameLine = strings.TrimSpace(n), line
				if !isServiceName(name) {
					return nil, crontabError(file, line, "invalid job name "+quoteExcerpt(name)+": use letters, digits, '_', '.' and '-'")
				}
			}
			continue
		}
		if !strings.ContainsRune("0123456789*?@", rune(text[0])) {
			k, v, ok := strings.Cut(text, "=")
			k = strings.TrimSpace(k)
			if !ok || !isEnvName(k) {
				return nil, crontabError(file, line, "want a job ("+want+") or NAME=value, got "+quoteExcerpt(text))
			}
			v = unquoteCron(strings.TrimSpace(v))
			if k == "CRON_TZ" {
				zone = v
				continue
			}
			env = append(env, k+"="+v)
			continue
		}
		expr, user, command, problem := splitCrontabLine(text, userField)
		if problem != "" {
			return nil, crontabError(file, line, problem)
		}
		if _, err := cron.Parse(expr); err != nil {
			return nil, crontabError(file, line, "schedule "+strconv.Quote(expr)+": "+err.Error())
		}
		job := name
		if job == "" || nameLine != line-1 {
			job = prefix + "-" + strconv.Itoa(line)
		}
		name = ""
		if first, dup := seen[job]; dup {
			return nil, crontabError(file, line, "job "+strconv.Quote(job)+" defined twice (first on line "+strconv.Itoa(first)+")")
		}
		seen[job] = line
		entries = append(entries, CrontabEntry{Name: job, Expr: expr, Command: command, User: user, Line: line, Env: append([]string(nil), env...), Zone: zone})
	}
	if len(entries) == 0 {
		return nil, &PosError{File: file, Msg: "no jobs: want " + want + " lines"}
	}
	return entries, nil
}

// crontabError is a crontab's error at a line (kept out of line: it is called from many places).
//
//go:noinline
func crontabError(file string, line int, msg string) error {
	return &PosError{File: file, Line: line, Msg: msg}
}

// crontabPrefix makes a service name's start from the file's name: "/etc/crontab" -> "crontab".
func crontabPrefix(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	var b strings.Builder
	for _, c := range []byte(base) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 || !isServiceName(b.String()) {
		return "cron"
	}
	return b.String()
}

// splitCrontabLine splits a job line into its schedule, its user (with userField) and its
// command: a macro and its argument (@every), or five fields, or six when the sixth is a field
// too (seconds first). problem, when set, says what is wrong with the line.
func splitCrontabLine(text string, userField bool) (expr, user, command, problem string) {
	words := 5
	if text[0] == '@' {
		words = 1
		if strings.HasPrefix(strings.ToLower(text), "@every") {
			words = 2
		}
	}
	fields, rest := cutWords(text, words)
	if words == 5 {
		if six, after := cutWords(rest, 1); len(six) == 1 && strings.TrimSpace(after) != "" && isCronField(six[0]) {
			fields, rest = append(fields, six[0]), after
		}
	}
	expr = strings.Join(fields, " ")
	if userField {
		user, command, problem = splitUserField(expr, len(fields)-words, rest)
		return expr, user, command, problem
	}
	command = strings.TrimSpace(rest)
	if len(fields) < words || command == "" {
		return "", "", "", "want a schedule and a command"
	}
	return expr, "", command, ""
}

// blanks separate a crontab line's words: every ASCII space, as strings.TrimSpace trims them
// from the command (FuzzParseCrontab: "0 0 1 1 0 \r0 0" took "\r0" for a word, then ran "0 0").
const blanks = " \t\r\v\f"

// cutWords takes n blank-separated words off the front of s.
func cutWords(s string, n int) ([]string, string) {
	var words []string
	for len(words) < n {
		s = strings.TrimLeft(s, blanks)
		if s == "" {
			break
		}
		end := strings.IndexAny(s, blanks)
		if end < 0 {
			end = len(s)
		}
		words = append(words, s[:end])
		s = s[end:]
	}
	return words, s
}

// isCronField reports whether a word can only be a numeric cron field, not a command.
func isCronField(w string) bool {
	for i := 0; i < len(w); i++ {
		if !strings.ContainsRune("0123456789*?/,-", rune(w[i])) {
			return false
		}
	}
	return true
}

// unquoteCron strips one pair of matching quotes, as cron does for a variable's value.
func unquoteCron(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// LoadCrontab reads a crontab alone (uno -C FILE) as the whole configuration, in the format
// its place gives (IsSystemCrontab).
func LoadCrontab(path string, environ []string) (*Config, error) {
	cfg := &Config{File: path, Grace: DefaultGrace, LogFormat: FormatPrefix}
	l := &loader{environ: environ, dir: filepath.Dir(path)}
	l.crontab(cfg, path, "", 0, path, nil)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg.Warnings = l.warnings
	return cfg, nil
}

// crontab adds the jobs of the crontab at path to cfg; file, key and line say where it was
// named, for messages. userField, when set (crontab_user_field), says whether its lines have a
// user field; when nil, the file's place says (IsSystemCrontab).
func (l *loader) crontab(cfg *Config, file, key string, line int, path string, userField *node) {
	system, byPlace := IsSystemCrontab(path), userField == nil
	if !byPlace {
		system = l.boolean(file, "crontab_user_field", userField, system)
	}
	data, err := readFile(path)
	if err != nil {
		if key == "" {
			l.errs = append(l.errs, fmt.Errorf("cannot read crontab: %w", unwrapPath(err, path)))
		} else {
			l.cronError(file, line, key, "cannot read crontab: "+unwrapPath(err, path).Error())
		}
		return
	}
	entries, err := ParseCrontab(path, data, system)
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	zone, loc, ok := l.crontabZone(path)
	if !ok {
		return
	}
	for _, e := range entries {
		if prev := cfg.Service(e.Name); prev != nil {
			l.cronError(path, e.Line, "", "job "+strconv.Quote(e.Name)+": a service of that name is defined in "+prev.File+":"+strconv.Itoa(prev.Line))
			continue
		}
		env := newEnv(l.environ)
		shell := "/bin/sh"
		vars, u, ok := e.Env, (*User)(nil), true
		if e.User != "" {
			if u, vars, ok = l.crontabUser(path, e, byPlace); !ok {
				continue
			}
		}
		for _, kv := range vars {
			k, v, _ := strings.Cut(kv, "=")
			env.set(k, v)
			if k == "SHELL" && v != "" {
				shell = v
			}
		}
		dir := ""
		if e.User == "" {
			pathVar, ok := env.values["PATH"]
			if !ok {
				pathVar = shellDefaultPath // crontab_system.go
			}
			l.userFieldWarning(path, e, pathVar)
		} else {
			dir = cronHome(env.values["HOME"]) // crontab_system.go
		}
		sched, _ := cron.Parse(e.Expr) // checked by ParseCrontab
		spec := &CronSpec{Schedule: sched, Expr: e.Expr, Line: e.Line, Concurrency: Forbid, Zone: zone, Location: loc}
		if e.Zone != "" {
			spec.Zone = e.Zone
			if spec.Location = l.zone(path, "CRON_TZ", e.Line, e.Zone); spec.Location == nil {
				continue
			}
		}
		cfg.Services = append(cfg.Services, &Service{
			Name: e.Name, File: path, Line: e.Line, CommandLine: e.Line,
			Type: Cron, Cron: spec, Command: []string{shell, "-c", e.Command}, Env: env.list(), User: u, Dir: dir,
			Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: cfg.Grace, KillMode: KillGroup,
			LogPrefix: true, Output: cfg.DefaultOutput(),
		})
	}
}

// crontabZone is the zone of a crontab's jobs without CRON_TZ: TZ's, as cron reads it. Go's
// time.Local would do, but it turns a zone the system lacks (no zoneinfo in a busybox image)
// into UTC without a word; a named zone is loaded here instead, and a missing one is an error.
// TZ empty, unset, or a file (":/etc/localtime") is the system's local time.
func (l *loader) crontabZone(path string) (string, *time.Location, bool) {
	tz := ""
	for _, kv := range l.environ {
		if v, ok := strings.CutPrefix(kv, "TZ="); ok {
			tz = v
		}
	}
	tz = strings.TrimPrefix(tz, ":")
	if tz == "" || filepath.IsAbs(tz) {
		return "Local", time.Local, true
	}
	loc := l.zone(path, "TZ", 0, tz)
	return tz, loc, loc != nil
}

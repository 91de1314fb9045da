package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestIsSystemCrontab(t *testing.T) {
	for path, want := range map[string]bool{
		"/etc/crontab":               true,
		"/etc/cron.d/app":            true,
		"/etc/cron.d/e2scrub_all":    true,
		"/etc//cron.d/./app":         true,
		"/etc/cron.d":                false,
		"/etc/cron.d/sub/app":        false,
		"/etc/cron.daily/app":        false,
		"/etc/crontab.local":         false,
		"/var/spool/cron/crontabs/a": false,
		"/app/crontab":               false,
		"crontab":                    false, // relative: the test's working directory is not /etc
	} {
		if got := IsSystemCrontab(path); got != want {
			t.Errorf("IsSystemCrontab(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestParseSystemCrontab: a system crontab's lines, one at a time, with a user field after
// five time fields, after six (seconds first), after a macro; and the lines refused, with the
// ambiguous ones among them.
func TestParseSystemCrontab(t *testing.T) {
	type job struct{ expr, user, cmd string }
	good := map[string]job{
		"17 * * * * root cd / && run-parts --report /etc/cron.hourly": {"17 * * * *", "root", "cd / && run-parts --report /etc/cron.hourly"},
		"25 6\t* * *\troot\ttest -x /usr/sbin/anacron || true":        {"25 6 * * *", "root", "test -x /usr/sbin/anacron || true"},
		"*/5 9-17 * jan-mar mon-fri www-data php cron.php":            {"*/5 9-17 * jan-mar mon-fri", "www-data", "php cron.php"},
		"0 0 1,15 * sun _apt   echo  two  spaces":                     {"0 0 1,15 * sun", "_apt", "echo  two  spaces"},
		"30 2 * * * nobody 5 * * * * echo looks-like-fields":          {"30 2 * * *", "nobody", "5 * * * * echo looks-like-fields"},
		// Seconds first: the sixth word is a time field, so the seventh is the user.
		"*/10 * * * * * nobody echo every-ten-seconds": {"*/10 * * * * *", "nobody", "echo every-ten-seconds"},
		"0 30 2 * * 1-5 root backup":                   {"0 30 2 * * 1-5", "root", "backup"},
		"0 0 12 * * ? root noon":                       {"0 0 12 * * ?", "root", "noon"},
		// Macros take no time fields: the word after the macro (and @every's duration) is the user.
		"@daily root run-parts /etc/cron.daily": {"@daily", "root", "run-parts /etc/cron.daily"},
		"@HOURLY nobody date":                   {"@HOURLY", "nobody", "date"},
		"@every 90s nobody echo 90s":            {"@every 90s", "nobody", "echo 90s"},
		"@every 1h30m root sync":                {"@every 1h30m", "root", "sync"},
	}
	for line, want := range good {
		entries, err := ParseCrontab("/etc/cron.d/app", []byte(line+"\n"), true)
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if got := (job{entries[0].Expr, entries[0].User, entries[0].Command}); len(entries) != 1 || got != want {
			t.Errorf("%q: got %+v, want %+v", line, got, want)
		}
	}

	bad := map[string]string{
		"17 * * * * root":            "app:1: want a schedule, a user and a command (a system crontab's lines have a user field)",
		"17 * * * *":                 "app:1: want a schedule, a user and a command",
		"@daily root":                "app:1: want a schedule, a user and a command",
		"@every 90s":                 "app:1: want a schedule, a user and a command",
		"0 0 17 * * * root":          "app:1: want a schedule, a user and a command",
		"17 * * * * 5 run":           "app:1: want a schedule, a user and a command", // 5 is seconds-first's sixth field; run is the user
		"17 * * * * 1000 run backup": `app:1: schedule "17 * * * * 1000": day of week field "1000": 1000 is out of range 0-7`,
		"17 * * * * * * cmd":         `app:1: user "*": want a user name (a uid is not one here, as in cron); or too many time fields`,
		"0 0 17 * * * 1000 backup":   `app:1: user "1000": want a user name`,
		"@daily 0 backup":            `app:1: user "0": want a user name`,
		"0 30 2 * * mon root backup": `app:1: ambiguous: "mon" is the user after five time fields or a day of the week after six (seconds first); write the day of the week as a number`,
		"0 0 * * * mon-fri root x":   `app:1: ambiguous: "mon-fri"`,
		"0 0 * * * SUN,sat root x":   `app:1: ambiguous: "SUN,sat"`,
		"61 * * * * root x":          `app:1: schedule "61 * * * *": minute field "61": 61 is out of range 0-59`,
		"@every 0s root x":           `app:1: schedule "@every 0s": @every 0s: the interval must be at least 1s`,
		"@reboot root x":             "run_on_start",
		"root 17 * * * * x":          `app:1: want a job (MIN HOUR DOM MONTH DOW USER command) or NAME=value, got "root 17 * * * * x"`,
		"# nothing but a comment":    "app: no jobs: want MIN HOUR DOM MONTH DOW USER command lines",
		"A=1\n0 3 * * * root backup\n# name: x y\n* * * * * root z": `app:3: invalid job name "x y"`,
	}
	for text, want := range bad {
		_, err := ParseCrontab("app", []byte(text+"\n"), true)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

// TestParseDebianSystemCrontabs: Debian's /etc/crontab as the cron-daemon-common package
// (3.0pl1-162) ships it, and e2fsprogs' /etc/cron.d/e2scrub_all, copied into testdata.
func TestParseDebianSystemCrontabs(t *testing.T) {
	data, err := os.ReadFile("testdata/crontab/debian-etc-crontab")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseCrontab("/etc/crontab", data, true)
	if err != nil {
		t.Fatal(err)
	}
	type job struct{ name, expr, user, cmd string }
	var got []job
	for _, e := range entries {
		got = append(got, job{e.Name, e.Expr, e.User, e.Command})
		if !slices.Equal(e.Env, []string{"SHELL=/bin/sh", "PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin"}) {
			t.Errorf("%s: env %q", e.Name, e.Env)
		}
	}
	want := []job{
		{"crontab-18", "17 * * * *", "root", "cd / && run-parts --report /etc/cron.hourly"},
		{"crontab-19", "25 6 * * *", "root", "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"},
		{"crontab-20", "47 6 * * 7", "root", "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }"},
		{"crontab-21", "52 6 1 * *", "root", "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("/etc/crontab:\n got %q\nwant %q", got, want)
	}
	// Read as a user crontab, as uno did before: the user becomes the command's first word.
	if entries, err := ParseCrontab("/etc/crontab", data, false); err != nil || entries[0].Command != "root\tcd / && run-parts --report /etc/cron.hourly" {
		t.Errorf("as a user crontab: %v %+v", err, entries)
	}

	data, err = os.ReadFile("testdata/crontab/debian-cron.d-e2scrub_all")
	if err != nil {
		t.Fatal(err)
	}
	entries, err = ParseCrontab("/etc/cron.d/e2scrub_all", data, true)
	if err != nil || len(entries) != 2 || entries[0].Name != "e2scrub_all-1" || entries[0].Expr != "30 3 * * 0" || entries[0].User != "root" ||
		entries[1].Command != "test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r" {
		t.Errorf("/etc/cron.d/e2scrub_all: %v %+v", err, entries)
	}
}

// TestSystemCrontabJobs: crontab_user_field = true makes each job a service of its line's
// user, as a service's user = key would, with cron's HOME, LOGNAME and USER; CRON_TZ, the
// environment lines and "# name:" work as in a user crontab.
func TestSystemCrontabJobs(t *testing.T) {
	needRoot(t)
	cfg := mustLoad(t, map[string]string{
		"uno.toml": "crontab = \"tab\"\ncrontab_user_field = true\n",
		"tab": `SHELL=/bin/bash
HOME=/srv
# name: hourly
17 * * * * root cd / && run-parts --report /etc/cron.hourly
CRON_TZ=Europe/Warsaw
*/10 * * * * * nobody id -u
@daily nobody date
`,
	})
	if len(cfg.Services) != 3 {
		t.Fatalf("services: %+v", cfg.Services)
	}
	root, secs, daily := cfg.Services[0], cfg.Services[1], cfg.Services[2]
	if root.Name != "hourly" || root.User == nil || root.User.Uid != 0 || root.User.Name != "root" ||
		!slices.Equal(root.Command, []string{"/bin/bash", "-c", "cd / && run-parts --report /etc/cron.hourly"}) {
		t.Errorf("root's job: %+v %+v", root, root.User)
	}
	if secs.Name != "tab-6" || secs.User == nil || secs.User.Uid != 65534 || secs.User.Gid != 65534 || secs.Cron.Expr != "*/10 * * * * *" || secs.Cron.Zone != "Europe/Warsaw" {
		t.Errorf("nobody's job: %+v %+v %+v", secs, secs.User, secs.Cron)
	}
	if daily.User == nil || daily.User.Name != "nobody" || daily.Cron.Expr != "@daily" {
		t.Errorf("@daily job: %+v %+v", daily, daily.User)
	}
	env := func(s *Service, k string) string {
		for _, kv := range s.Env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return "<unset>"
	}
	for _, s := range cfg.Services {
		// HOME as the crontab sets it (cron lets it); LOGNAME and USER always the job's user.
		if env(s, "HOME") != "/srv" || env(s, "LOGNAME") != s.User.Name || env(s, "USER") != s.User.Name || env(s, "SHELL") != "/bin/bash" {
			t.Errorf("%s: env %q", s.Name, s.Env)
		}
	}

	// Without HOME in the crontab, HOME is the user's, from /etc/passwd.
	cfg = mustLoad(t, map[string]string{"uno.toml": "crontab = \"tab\"\ncrontab_user_field = true\n", "tab": "@daily nobody date\n"})
	if got := env(cfg.Services[0], "HOME"); got != "/nonexistent" {
		t.Errorf("nobody's HOME %q", got)
	}

	// crontab_user_field = false reads a system-looking line as a user crontab's: no user.
	cfg = mustLoad(t, map[string]string{"uno.toml": "crontab = \"tab\"\ncrontab_user_field = false\n", "tab": "17 * * * * root cd /\n"})
	if s := cfg.Services[0]; s.User != nil || s.Command[2] != "root cd /" {
		t.Errorf("user format: %+v", s)
	}
}

func TestSystemCrontabErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown user", map[string]string{"uno.toml": "crontab = \"tab\"\ncrontab_user_field = true\n", "tab": "A=1\n@daily nosuchuser date\n17 * * * * root true\n"},
			[]string{`tab:2: user: no such user "nosuchuser" in /etc/passwd`}},
		{"bad line", map[string]string{"uno.toml": "crontab = \"tab\"\ncrontab_user_field = true\n", "tab": "17 * * * * root\n"},
			[]string{`tab:1: want a schedule, a user and a command (a system crontab's lines have a user field)`}},
		{"not a bool", map[string]string{"uno.toml": "crontab = \"tab\"\ncrontab_user_field = \"yes\"\n", "tab": "@daily date\n"},
			[]string{`uno.toml:2: crontab_user_field: want true or false, got a string`}},
		{"not a bool, and no crontab to read", map[string]string{"uno.toml": "crontab = \"nope\"\ncrontab_user_field = 1\n[services.s]\ncommand = \"x\"\n"},
			[]string{`uno.toml:2: crontab_user_field: want true or false, got an integer`, `uno.toml:1: crontab: cannot read crontab: nope: no such file or directory`}},
		{"without crontab", map[string]string{"uno.toml": "crontab_user_field = true\n[services.s]\ncommand = \"x\"\n"},
			[]string{`uno.toml:1: crontab_user_field: needs crontab`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, err := loadFiles(t, tt.files)
			if got := errorLines(dir, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

// FuzzParseCrontab: no panic in either format; every job has a command, a valid name, and in
// a system crontab a user that is a name; and a job's line written back from its parts
// ("EXPR [USER] COMMAND") parses to the same parts.
func FuzzParseCrontab(f *testing.F) {
	f.Add("* * * * * echo hi\nA=b\n# name: x\n@every 1s y\n", false)
	f.Add("0 0 1 1 * * z", false)
	f.Add("SHELL=/bin/sh\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n", true)
	f.Add("*/10 * * * * * nobody id -u\n@daily root date\n@every 90s nobody x\nCRON_TZ=UTC\n", true)
	f.Add("0 30 2 * * mon root backup\n0 0 17 * * * 1000 x\n", true)
	f.Fuzz(func(t *testing.T, text string, userField bool) {
		entries, err := ParseCrontab("f", []byte(text), userField)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Command == "" || !isServiceName(e.Name) || userField == (e.User == "") || e.User != "" && isCronField(e.User) {
				t.Fatalf("entry %+v", e)
			}
			line := e.Expr + " " + e.Command
			if userField {
				line = e.Expr + " " + e.User + " " + e.Command
			}
			again, err := ParseCrontab("f", []byte(line), userField)
			if err != nil || len(again) != 1 || again[0].Expr != e.Expr || again[0].User != e.User || again[0].Command != e.Command {
				t.Fatalf("%+v written back as %q: %v %+v", e, line, err, again)
			}
		}
	})
}

// TestUserFieldWarning: a user crontab's line whose command begins with a user's name that is
// no program (a system crontab's line in a user crontab's place) is loaded, with a warning;
// one whose first word is a program on $PATH, or an ordinary command, is not warned about.
func TestUserFieldWarning(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "crontab")
	data := "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n*/5 * * * * echo ok\n0 0 * * *\tnobody\ttrue\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadCrontab(path, []string{"PATH=/usr/bin:/bin"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		path + `:1: the command begins with "root", a user in /etc/passwd and no program on $PATH: a system crontab's line (MIN HOUR DOM MONTH DOW USER command)? crontab_user_field = true reads the user field`,
		path + `:3: the command begins with "nobody", a user in /etc/passwd and no program on $PATH: a system crontab's line (MIN HOUR DOM MONTH DOW USER command)? crontab_user_field = true reads the user field`,
	}
	if len(cfg.Services) != 3 || !slices.Equal(cfg.Warnings, want) {
		t.Errorf("%d jobs, warnings:\n%s\nwant:\n%s", len(cfg.Services), strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
	// A program named root on $PATH: the line is what it says.
	if err := os.WriteFile(filepath.Join(bin, "root"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err = LoadCrontab(path, []string{"PATH=" + bin + ":/usr/bin:/bin"})
	if err != nil || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], `"nobody"`) {
		t.Errorf("with a program named root on $PATH: %v %q", err, cfg.Warnings)
	}
}

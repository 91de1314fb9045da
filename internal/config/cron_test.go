package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCronJobKeys(t *testing.T) {
	_, cfg, err := loadFiles(t, map[string]string{"uno.toml": `
[services.backup]
type = "cron"
schedule = "30 2 * * mon-fri"
timezone = "Europe/Warsaw"
concurrency = "replace"
timeout = "1h"
jitter = "30s"
run_on_start = true
essential = true
fail_after = 3
command = "backup.sh"

[services.plain]
type = "cron"
schedule = "@every 90s"
command = "true"
`})
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Service("backup")
	c := b.Cron
	if c == nil || c.Expr != "30 2 * * mon-fri" || c.Zone != "Europe/Warsaw" || c.Location.String() != "Europe/Warsaw" ||
		c.Concurrency != Replace || c.Timeout != time.Hour || c.Jitter != 30*time.Second || !c.RunOnStart || c.FailAfter != 3 || !b.Essential {
		t.Errorf("backup: %+v essential %v", c, b.Essential)
	}
	p := cfg.Service("plain")
	if p.Essential || p.Cron.FailAfter != 0 || p.Cron.Concurrency != Forbid || p.Cron.Location != time.UTC || p.Cron.Schedule.Every() != 90*time.Second {
		t.Errorf("plain: defaults %+v essential %v", p.Cron, p.Essential)
	}
	next := c.NextRuns(time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC), 3)
	var got []string
	for _, n := range next {
		got = append(got, n.Format(time.RFC3339))
	}
	// Friday, then Monday after the change to summer time, then Tuesday.
	want := []string{"2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00", "2026-04-01T02:30:00+02:00"}
	if !slices.Equal(got, want) {
		t.Errorf("next runs %v, want %v", got, want)
	}
	// An essential job without fail_after stops the container on its first failure.
	_, cfg, err = loadFiles(t, map[string]string{"uno.toml": "[services.j]\ntype = \"cron\"\nschedule = \"@daily\"\nessential = true\ncommand = \"x\"\n"})
	if err != nil || cfg.Service("j").Cron.FailAfter != 1 {
		t.Errorf("essential without fail_after: %v %+v", err, cfg)
	}
}

func TestCronJobErrors(t *testing.T) {
	job := "[services.j]\ntype = \"cron\"\ncommand = \"x\"\n" // lines 1-3
	tests := []struct {
		name, toml string
		want       []string
	}{
		{"no schedule", job, []string{"uno.toml:1: services.j: a cron job needs a schedule, such as schedule = \"0 3 * * *\" or \"@every 10m\""}},
		{"bad schedule", job + "schedule = \"61 * * * *\"\n", []string{`uno.toml:4: services.j.schedule: minute field "61": 61 is out of range 0-59`}},
		{"never fires", job + "schedule = \"0 0 30 2 *\"\n", []string{"uno.toml:4: services.j.schedule: never fires: no month of the expression has such a day of the month"}},
		{"huge step", job + "schedule = \"*/99999999999999999999 * * * *\"\n", []string{`uno.toml:4: services.j.schedule: minute field "*/99999999999999999999": step "99999999999999999999" is not a positive number`}},
		{"unknown zone", job + "schedule = \"@daily\"\ntimezone = \"Mars/Olympus\"\n", []string{`uno.toml:5: services.j.timezone: unknown time zone "Mars/Olympus"; names are as in /usr/share/zoneinfo, such as Europe/Warsaw or America/New_York (install tzdata if it is missing)`}},
		{"bad concurrency", job + "schedule = \"@daily\"\nconcurrency = \"queue\"\n", []string{`uno.toml:5: services.j.concurrency: want one of forbid, allow, replace, got "queue"`}},
		{"fail_after without essential", job + "schedule = \"@daily\"\nfail_after = 2\n", []string{"uno.toml:5: services.j.fail_after: needs essential = true: a job that is not essential never stops the container"}},
		{"fail_after 0", job + "schedule = \"@daily\"\nessential = true\nfail_after = 0\n", []string{"uno.toml:6: services.j.fail_after: must be at least 1"}},
		{"restart on a job", job + "schedule = \"@daily\"\nrestart = \"always\"\n", []string{"uno.toml:5: services.j.restart: a cron job is not restarted: the schedule is the retry"}},
		{"ready on a job", job + "schedule = \"@daily\"\nready = { tcp = \":80\" }\n", []string{"uno.toml:5: services.j.ready: a cron job has no readiness check: each run starts and ends"}},
		{"schedule on a simple service", "[services.s]\ncommand = \"x\"\nschedule = \"@daily\"\n", []string{`uno.toml:3: services.s.schedule: only a cron job takes schedule: add type = "cron"`}},
		{"depending on a job", job + "schedule = \"@daily\"\n[services.s]\ncommand = \"x\"\ndepends_on = [\"j\"]\n", []string{`uno.toml:7: services.s.depends_on: "j" is a cron job: it runs on a clock, so nothing can wait for it`}},
		{"unknown user", job + "schedule = \"@daily\"\nuser = \"nosuchuser\"\n", []string{`uno.toml:5: services.j.user: no such user "nosuchuser" in /etc/passwd`}},
		{"missing crontab", "crontab = \"nope\"\n[services.s]\ncommand = \"x\"\n", []string{"uno.toml:1: crontab: cannot read crontab: nope: no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, err := loadFiles(t, map[string]string{"uno.toml": tt.toml})
			if err == nil {
				t.Fatalf("loaded; want %q", tt.want)
			}
			want := slices.Clone(tt.want)
			for i := range want {
				want[i] = strings.ReplaceAll(want[i], "@DIR@", dir)
			}
			if got := errorLines(dir, err); !slices.Equal(got, want) {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		})
	}
}

func TestParseCrontab(t *testing.T) {
	entries, err := ParseCrontab("/etc/crontab", []byte(`# m h dom mon dow command
SHELL=/bin/bash
MAILTO = ""
  PATH = "/usr/local/bin:/usr/bin:/bin"

# name: nightly
0 3 * * * /usr/local/bin/backup --all  >/dev/null 2>&1
*/15 * * * * * echo quarter-minute
@hourly   date
@every 90s  echo "every 90s"
CRON_TZ=Europe/Warsaw
30 2 * * 1-5 echo 6th-field-is-not-a-number
# name: named-but-blank-line-between

0 0 1 1 * echo new year
`), false)
	if err != nil {
		t.Fatal(err)
	}
	type e struct{ name, expr, cmd, zone string }
	var got []e
	for _, x := range entries {
		got = append(got, e{x.Name, x.Expr, x.Command, x.Zone})
	}
	want := []e{
		{"nightly", "0 3 * * *", "/usr/local/bin/backup --all  >/dev/null 2>&1", ""},
		{"crontab-8", "*/15 * * * * *", "echo quarter-minute", ""},
		{"crontab-9", "@hourly", "date", ""},
		{"crontab-10", "@every 90s", `echo "every 90s"`, ""},
		{"crontab-12", "30 2 * * 1-5", "echo 6th-field-is-not-a-number", "Europe/Warsaw"},
		{"crontab-15", "0 0 1 1 *", "echo new year", "Europe/Warsaw"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n got %v\nwant %v", got, want)
	}
	if env := entries[0].Env; !slices.Equal(env, []string{"SHELL=/bin/bash", "MAILTO=", "PATH=/usr/local/bin:/usr/bin:/bin"}) {
		t.Errorf("env %q", env)
	}

	for text, want := range map[string]string{
		"":                         "crontab: no jobs",
		"* * * * *\n":              "crontab:1: want a schedule and a command",
		"61 * * * * x\n":           `crontab:1: schedule "61 * * * *": minute field "61": 61 is out of range 0-59`,
		"hello world\n":            `crontab:1: want a job (MIN HOUR DOM MONTH DOW command) or NAME=value, got "hello world"`,
		"x y=2\n":                  `crontab:1: want a job`,
		"# name: a b\n* * * * * x": `crontab:1: invalid job name "a b"`,
		"# name: a\n* * * * * x\n# name: a\n* * * * * y\n": `crontab:4: job "a" defined twice (first on line 2)`,
		"@reboot x\n":    "run_on_start",
		"0 0 30 2 * x\n": "never fires",
	} {
		_, err := ParseCrontab("crontab", []byte(text), false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCrontab(%q) = %v, want %q", text, err, want)
		}
	}
}

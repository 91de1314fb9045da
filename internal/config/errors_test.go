package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLoadErrors checks every error Load reports: each is one line naming the file, the line
// and the key, and all of a file's errors are reported together.
func TestLoadErrors(t *testing.T) {
	const svc = "[services.a]\ncommand = \"a\"\n" // a valid service on lines 1-2
	knownService := strings.Join(serviceKeys, ", ")
	tests := []struct {
		name  string
		files map[string]string // uno.toml, when only it is given, as toml
		toml  string
		want  []string
	}{
		// Keys.
		{name: "unknown top-level key", toml: "colour = 1\n" + svc,
			want: []string{"uno.toml:1: colour: unknown key (known: uno, services, crontab, crontab_user_field)"}},
		{name: "unknown [uno] key", toml: "[uno]\ngrase = \"1s\"\n" + svc,
			want: []string{"uno.toml:2: uno.grase: unknown key (known: grace, drain, log_format, log_timestamps, json_passthrough, no_new_privileges)"}},
		{name: "unknown service key on its line", toml: svc + "\nrestrat = \"always\"\n",
			want: []string{"uno.toml:4: services.a.restrat: unknown key (known: " + knownService + ")"}},
		{name: "unknown service sub-table", toml: svc + "[services.a.environment]\nX = 1\n",
			want: []string{"uno.toml:3: services.a.environment: unknown key (known: " + knownService + ")"}},
		{name: "unknown ready key", toml: svc + "ready = { tcp = \":80\", period = \"1s\" }\n",
			want: []string{"uno.toml:3: services.a.ready.period: unknown key (known: http, tcp, exec, file, notify, interval, timeout)"}},
		{name: "quoted unknown key stays on one line", toml: svc + "\"x\\ny\" = 1\n",
			want: []string{`uno.toml:3: services.a."x\ny": unknown key (known: ` + knownService + ")"}},

		// Values that parse but cannot work.
		{name: "restart_delay_max below restart_delay", toml: svc + "restart_delay = \"2s\"\nrestart_delay_max = \"1s\"\n",
			want: []string{"uno.toml:4: services.a.restart_delay_max: 1s is less than restart_delay (2s)"}},
		{name: "SIGSTOP as stop_signal", toml: svc + "stop_signal = \"STOP\"\n",
			want: []string{"uno.toml:3: services.a.stop_signal: SIGSTOP pauses a service, it does not stop it"}},
		{name: "a dependency listed twice", toml: svc + "[services.b]\ncommand = \"b\"\ndepends_on = [\"a\", \"a\"]\n",
			want: []string{`uno.toml:5: services.b.depends_on: "a" is listed twice`}},
		{name: "ready timeout 0", toml: svc + "ready = { tcp = \":80\", timeout = 0 }\n",
			want: []string{"uno.toml:3: services.a.ready.timeout: must be more than 0"}},

		// Types.
		{name: "services not a table", toml: "services = 1\n",
			want: []string{"uno.toml:1: services: want a table, got an integer"}},
		{name: "services an array of tables", toml: "[[services]]\ncommand = \"a\"\n",
			want: []string{"uno.toml:1: services: want a table, got an array"}},
		{name: "uno not a table", toml: "uno = \"x\"\n" + svc,
			want: []string{"uno.toml:1: uno: want a table, got a string"}},
		{name: "service not a table", toml: "[services]\na = \"run\"\n",
			want: []string{"uno.toml:2: services.a: want a table, got a string"}},
		{name: "type not a string", toml: svc + "type = 1\n",
			want: []string{"uno.toml:3: services.a.type: want a string, got an integer"}},
		{name: "unknown type", toml: svc + "type = \"forking\"\n",
			want: []string{`uno.toml:3: services.a.type: want one of simple, oneshot, cron, got "forking"`}},
		{name: "restart_limit a string", toml: svc + "restart_limit = \"5\"\n",
			want: []string{"uno.toml:3: services.a.restart_limit: want a non-negative integer"}},
		{name: "restart_limit negative", toml: svc + "restart_limit = -1\n",
			want: []string{"uno.toml:3: services.a.restart_limit: want a non-negative integer"}},
		{name: "essential a string", toml: svc + "essential = \"yes\"\n",
			want: []string{"uno.toml:3: services.a.essential: want true or false, got a string"}},
		{name: "log_prefix an integer", toml: svc + "log_prefix = 1\n",
			want: []string{"uno.toml:3: services.a.log_prefix: want true or false, got an integer"}},
		{name: "env a string", toml: svc + "env = \"A=1\"\n",
			want: []string{"uno.toml:3: services.a.env: want a table, got a string"}},
		{name: "env value an array", toml: svc + "env = { A = [1] }\n",
			want: []string{"uno.toml:3: services.a.env.A: want a string, number or boolean, got an array"}},
		{name: "env value a date-time", toml: svc + "env = { A = 1979-05-27 }\n",
			want: []string{"uno.toml:3: services.a.env.A: want a string, number or boolean, got a date-time"}},
		{name: "invalid variable name", toml: svc + "env = { \"A-B\" = \"x\", \"1X\" = \"y\" }\n",
			want: []string{"uno.toml:3: services.a.env.A-B: invalid variable name", "uno.toml:3: services.a.env.1X: invalid variable name"}},
		{name: "variable name quoted in the message when TOML needs quotes", toml: svc + "env = { \"A B\" = \"x\" }\n",
			want: []string{`uno.toml:3: services.a.env."A B": invalid variable name`}},
		{name: "env_file not a string", toml: svc + "env_file = 1\n",
			want: []string{"uno.toml:3: services.a.env_file: want a string or an array of strings, got an integer"}},
		{name: "relative working_dir", toml: svc + "working_dir = \"srv\"\n",
			want: []string{`uno.toml:3: services.a.working_dir: must be an absolute path, got "srv"`}},
		{name: "working_dir expanding to a relative path", toml: svc + "working_dir = \"${UNSET_DIR:-srv}\"\n",
			want: []string{`uno.toml:3: services.a.working_dir: must be an absolute path, got "srv"`}},
		{name: "working_dir not a string", toml: svc + "working_dir = 1\n",
			want: []string{"uno.toml:3: services.a.working_dir: want a string, got an integer"}},
		{name: "unknown restart policy", toml: svc + "restart = \"sometimes\"\n",
			want: []string{`uno.toml:3: services.a.restart: want one of no, on-failure, always, got "sometimes"`}},
		{name: "bad kill_mode", toml: svc + "kill_mode = \"process\"\n",
			want: []string{`uno.toml:3: services.a.kill_mode: want one of group, mixed, got "process"`}},
		{name: "log_format", toml: "[uno]\nlog_format = \"xml\"\n" + svc,
			want: []string{`uno.toml:2: uno.log_format: want one of prefix, raw, json, text, got "xml"`}},

		// Signals.
		{name: "bad signal name", toml: svc + "stop_signal = \"SIGFOO\"\n",
			want: []string{`uno.toml:3: services.a.stop_signal: unknown signal "SIGFOO"`}},
		{name: "signal number out of range", toml: svc + "stop_signal = 65\n",
			want: []string{"uno.toml:3: services.a.stop_signal: signal 65 out of range 1-64"}},
		{name: "signal a boolean", toml: svc + "stop_signal = true\n",
			want: []string{"uno.toml:3: services.a.stop_signal: want a signal name or number, got a boolean"}},

		// Durations.
		{name: "duration without a unit", toml: svc + "stop_timeout = \"10\"\n",
			want: []string{`uno.toml:3: services.a.stop_timeout: want a duration such as "10s" or "250ms", got "10"`}},
		{name: "negative duration", toml: svc + "stop_timeout = \"-1s\"\n",
			want: []string{"uno.toml:3: services.a.stop_timeout: must not be negative"}},
		{name: "negative seconds", toml: svc + "restart_delay = -2\n",
			want: []string{"uno.toml:3: services.a.restart_delay: must not be negative"}},
		{name: "duration a boolean", toml: svc + "restart_window = true\n",
			want: []string{"uno.toml:3: services.a.restart_window: want a duration, got a boolean"}},
		{name: "bad grace", toml: "[uno]\ngrace = \"soon\"\n" + svc,
			want: []string{`uno.toml:2: uno.grace: want a duration such as "10s" or "250ms", got "soon"`}},
		{name: "seconds beyond a time.Duration", toml: "[uno]\ngrace = 9223372036854775807\n" + svc,
			want: []string{"uno.toml:2: uno.grace: 9223372036854775807 seconds is out of range"}},
		{name: "nan seconds", toml: svc + "stop_timeout = nan\n",
			want: []string{"uno.toml:3: services.a.stop_timeout: NaN seconds is out of range"}},
		{name: "infinite seconds", toml: svc + "restart_delay_max = inf\n",
			want: []string{"uno.toml:3: services.a.restart_delay_max: +Inf seconds is out of range"}},
		{name: "duration string beyond a time.Duration", toml: svc + "restart_reset_after = \"3000000h\"\n",
			want: []string{`uno.toml:3: services.a.restart_reset_after: want a duration such as "10s" or "250ms", got "3000000h"`}},

		// Dependencies.
		{name: "depends_on a string", toml: svc + "depends_on = \"b\"\n",
			want: []string{`uno.toml:3: services.a.depends_on: want a table such as { db = "ready" } or an array of names, got a string`}},
		{name: "depends_on an array of numbers", toml: svc + "depends_on = [1]\n",
			want: []string{"uno.toml:3: services.a.depends_on: want service names, got an integer"}},
		{name: "unknown condition", toml: svc + "depends_on = { b = \"up\" }\n[services.b]\ncommand = \"b\"\n",
			want: []string{`uno.toml:3: services.a.depends_on.b: want one of started, ready, completed, got "up"`}},
		{name: "self-dependency", toml: svc + "depends_on = [\"a\"]\n",
			want: []string{"uno.toml:3: services.a.depends_on: a service cannot depend on itself"}},
		{name: "cycle", toml: svc + "depends_on = [\"b\"]\n[services.b]\ncommand = \"b\"\ndepends_on = { a = \"started\" }\n",
			want: []string{"uno.toml:3: services.a.depends_on: dependency cycle: a -> b -> a"}},
		{name: "cycle after an acyclic service", toml: `[services.x]
command = "x"
[services.a]
command = "a"
depends_on = ["x", "b"]
[services.b]
command = "b"
depends_on = ["c"]
[services.c]
command = "c"
depends_on = ["a"]
`, want: []string{"uno.toml:5: services.a.depends_on: dependency cycle: a -> b -> c -> a"}},
		{name: "completed on a service that is not a oneshot", toml: svc + "[services.b]\ncommand = \"b\"\ndepends_on = { a = \"completed\" }\n",
			want: []string{`uno.toml:5: services.b.depends_on.a: "a" is not a oneshot service, so it never completes: use "started" or "ready"`}},
		{name: "every dependency error at once", toml: svc + "depends_on = [\"nope\", \"a\"]\n[services.b]\ncommand = \"b\"\ndepends_on = { a = \"completed\", zz = \"started\" }\n",
			want: []string{
				`uno.toml:3: services.a.depends_on: unknown service "nope"`,
				"uno.toml:3: services.a.depends_on: a service cannot depend on itself",
				`uno.toml:6: services.b.depends_on.a: "a" is not a oneshot service, so it never completes: use "started" or "ready"`,
				`uno.toml:6: services.b.depends_on: unknown service "zz"`,
			}},

		// Readiness.
		{name: "ready not a table", toml: svc + "ready = \"http://x\"\n",
			want: []string{"uno.toml:3: services.a.ready: want a table, got a string"}},
		{name: "ready with two kinds", toml: svc + "ready = { tcp = \":1\", file = \"/x\" }\n",
			want: []string{"uno.toml:3: services.a.ready: want exactly one of http, tcp, exec, file, notify, got 2"}},
		{name: "ready with no kind", toml: svc + "ready = { interval = \"1s\" }\n",
			want: []string{"uno.toml:3: services.a.ready: want exactly one of http, tcp, exec, file, notify, got 0"}},
		{name: "http URL without a scheme", toml: svc + "ready = { http = \"localhost:8080/health\" }\n",
			want: []string{`uno.toml:3: services.a.ready.http: want an http:// or https:// URL, got "localhost:8080/health"`}},
		{name: "http not a string is one error", toml: svc + "ready = { http = 80 }\n",
			want: []string{"uno.toml:3: services.a.ready.http: want a string, got an integer"}},
		{name: "notify false", toml: svc + "ready = { notify = false }\n",
			want: []string{"uno.toml:3: services.a.ready.notify: set it to true, or remove the ready check"}},
		{name: "notify not a boolean is one error", toml: svc + "ready = { notify = \"yes\" }\n",
			want: []string{"uno.toml:3: services.a.ready.notify: want true, got a string"}},
		{name: "zero interval", toml: svc + "ready = { tcp = \":1\", interval = \"0s\" }\n",
			want: []string{"uno.toml:3: services.a.ready.interval: must be more than 0"}},
		{name: "empty exec", toml: svc + "ready = { exec = [] }\n",
			want: []string{"uno.toml:3: services.a.ready.exec: empty command"}},

		// Users.
		{name: "nonexistent user", toml: svc + "user = \"no-such-user-for-uno\"\n",
			want: []string{`uno.toml:3: services.a.user: no such user "no-such-user-for-uno" in /etc/passwd`}},
		{name: "user a boolean", toml: svc + "user = true\n",
			want: []string{"uno.toml:3: services.a.user: want a user name or uid, got a boolean"}},
		{name: "nonexistent group", toml: svc + "user = \"root\"\ngroup = \"no-such-group-for-uno\"\n",
			want: []string{`uno.toml:4: services.a.group: no such group "no-such-group-for-uno" in /etc/group`}},
		{name: "nonexistent group in groups, on its line", toml: svc + "user = \"root\"\ngroups = [\n  \"root\",\n  \"no-such-group-for-uno\",\n]\n",
			want: []string{`uno.toml:6: services.a.groups: no such group "no-such-group-for-uno" in /etc/group`}},
		{name: "group a boolean", toml: svc + "user = \"root\"\ngroup = false\n",
			want: []string{"uno.toml:4: services.a.group: want a group name or gid, got a boolean"}},
		{name: "groups a table", toml: svc + "user = \"root\"\ngroups = { a = 1 }\n",
			want: []string{"uno.toml:4: services.a.groups: want an array of group names or gids, got a table"}},
		{name: "group without user", toml: svc + "group = \"root\"\n",
			want: []string{"uno.toml:3: services.a.group: needs user"}},
		{name: "groups without user", toml: svc + "groups = [\"root\"]\n",
			want: []string{"uno.toml:3: services.a.groups: needs user"}},

		// Service names.
		{name: "service name with a space", toml: "[services.\"my app\"]\ncommand = \"a\"\n",
			want: []string{`uno.toml:1: services."my app": invalid service name: use letters, digits, '_', '.' and '-'`}},
		{name: "service name starting with a dash", toml: "[services.-a]\ncommand = \"a\"\n",
			want: []string{`uno.toml:1: services.-a: invalid service name: use letters, digits, '_', '.' and '-'`}},

		// TOML.
		{name: "duplicate key", toml: svc + "command = \"b\"\n",
			want: []string{"uno.toml:3: services.a.command: defined twice (first on line 2)"}},
		{name: "table defined twice", toml: svc + "\n[services.a]\nrestart = \"always\"\n",
			want: []string{"uno.toml:4: services.a: table defined twice (first on line 1)"}},
		{name: "inline service extended", toml: "services.a = { command = \"a\" }\n[services.a.env]\nX = \"1\"\n",
			want: []string{"uno.toml:2: services.a.env: inline table on line 1 cannot be extended"}},

		// Commands.
		{name: "missing command", toml: "[services.a]\nrestart = \"always\"\n",
			want: []string{"uno.toml:1: services.a: command is required"}},
		{name: "empty command array", toml: "[services.a]\ncommand = []\n",
			want: []string{"uno.toml:2: services.a.command: empty command"}},
		{name: "empty program in the array", toml: "[services.a]\ncommand = [\"\", \"x\"]\n",
			want: []string{"uno.toml:2: services.a.command: empty command"}},
		{name: "empty command string", toml: "[services.a]\ncommand = \"  \"\n",
			want: []string{"uno.toml:2: services.a.command: empty command"}},
		{name: "command string splitting to an empty program", toml: "[services.a]\ncommand = \"'' x\"\n",
			want: []string{"uno.toml:2: services.a.command: empty program name"}},
		{name: "command expanding to an empty program", toml: "[services.a]\ncommand = [\"$UNSET_PROGRAM\"]\n",
			want: []string{"uno.toml:2: services.a.command: empty program name"}},
		{name: "command not a string", toml: "[services.a]\ncommand = 5\n",
			want: []string{"uno.toml:2: services.a.command: want a string or an array of strings, got an integer"}},
		{name: "command array with a number", toml: "[services.a]\ncommand = [\"run\", 1]\n",
			want: []string{"uno.toml:2: services.a.command: want strings in the array, got an integer"}},
		{name: "pipe", toml: "[services.a]\ncommand = \"a | b\"\n",
			want: []string{`uno.toml:2: services.a.command: command contains shell operator "|": use command = ["/bin/sh", "-c", "..."] to run a shell`}},
		{name: "and-list", toml: "[services.a]\ncommand = \"make && run\"\n",
			want: []string{`uno.toml:2: services.a.command: command contains shell operator "&&": use command = ["/bin/sh", "-c", "..."] to run a shell`}},
		{name: "command substitution", toml: "[services.a]\ncommand = \"run \\\"$(date)\\\"\"\n",
			want: []string{`uno.toml:2: services.a.command: command contains shell operator "$(": use command = ["/bin/sh", "-c", "..."] to run a shell`}},
		{name: "leading assignment", toml: "[services.a]\ncommand = \"DEBUG=1 run\"\n",
			want: []string{`uno.toml:2: services.a.command: command starts with variable assignment "DEBUG=1": set DEBUG in the environment instead`}},
		{name: "unterminated quote", toml: "[services.a]\ncommand = \"run 'x\"\n",
			want: []string{"uno.toml:2: services.a.command: unterminated single quote"}},
		{name: "bad reference", toml: "[services.a]\ncommand = \"run ${X\"\n",
			want: []string{`uno.toml:2: services.a.command: unterminated variable reference "${X": missing "}"`}},

		// Env files.
		{name: "env_file missing", toml: svc + "env_file = \"missing.env\"\n",
			want: []string{"uno.toml:3: services.a.env_file: missing.env: no such file or directory"}},
		{name: "env_file syntax error names the env file", files: map[string]string{
			"uno.toml": svc + "env_file = [\"good.env\", \"app.env\"]\n",
			"good.env": "A=1\n",
			"app.env":  "# settings\nB=2\nC\n",
		}, want: []string{`app.env:3: missing "=" in "C": want NAME=value`}},
		{name: "env_file bad reference names the env file", files: map[string]string{
			"uno.toml": svc + "env_file = \"app.env\"\n",
			"app.env":  "A=1\nB=${A\n",
		}, want: []string{`app.env:2: B: unterminated variable reference "${A": missing "}"`}},
		{name: "env_file path with a bad reference is one error", toml: svc + "env_file = \"${DIR\"\n",
			want: []string{`uno.toml:3: services.a.env_file: unterminated variable reference "${DIR": missing "}"`}},

		// No services.
		{name: "empty file", toml: "", want: []string{"uno.toml: no services defined"}},
		{name: "only [uno]", toml: "[uno]\ngrace = \"1s\"\n", want: []string{"uno.toml: no services defined"}},
		{name: "empty services table", toml: "[services]\n", want: []string{"uno.toml: no services defined"}},

		// Everything wrong at once is reported at once, in file order per service.
		{name: "several errors", toml: `[uno]
grace = "forever"
[services.a]
command = "a | b"
restart = "sometimes"
[services.b]
depends_on = ["a"]
[services."c d"]
command = "c"
`, want: []string{
			`uno.toml:2: uno.grace: want a duration such as "10s" or "250ms", got "forever"`,
			`uno.toml:4: services.a.command: command contains shell operator "|": use command = ["/bin/sh", "-c", "..."] to run a shell`,
			`uno.toml:5: services.a.restart: want one of no, on-failure, always, got "sometimes"`,
			"uno.toml:6: services.b: command is required",
			`uno.toml:8: services."c d": invalid service name: use letters, digits, '_', '.' and '-'`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.toml+tt.files["uno.toml"], "user =") {
				needRoot(t)
			}
			files := tt.files
			if files == nil {
				files = map[string]string{"uno.toml": tt.toml}
			}
			dir, cfg, err := loadFiles(t, files)
			if err == nil {
				t.Fatalf("Load succeeded with %d services; want %q", len(cfg.Services), tt.want)
			}
			if got := errorLines(dir, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
			// One error value per line, for callers that print them one by one.
			var joined interface{ Unwrap() []error }
			if errors.As(err, &joined) && len(joined.Unwrap()) != len(tt.want) {
				t.Errorf("%d joined errors, want %d", len(joined.Unwrap()), len(tt.want))
			}
		})
	}
}

// TestLoadUnknownDependencyMessage checks one message exactly as uno check prints it, for a
// configuration given by a relative path.
func TestLoadUnknownDependencyMessage(t *testing.T) {
	dir := writeFiles(t, map[string]string{"uno.toml": `[uno]
grace = "5s"

[services.db]
command = "postgres"

[services.cache]
command = "redis-server"

[services.api]
command = "api"
depends_on = [
  "db",
  "apii",
]
`})
	t.Chdir(dir)
	_, err := Load("uno.toml", testEnviron)
	if want := `uno.toml:14: services.api.depends_on: unknown service "apii"`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestLoadTOMLSyntaxError(t *testing.T) {
	tests := []struct {
		name, toml string
		line       int
	}{
		{"missing value", "[services.a]\ncommand = \"a\"\nrestart =\n", 3},
		{"unterminated string", "[services.a]\n\ncommand = \"a\n", 3},
		{"unterminated header", "[services.a\ncommand = \"a\"\n", 1},
		{"leading zero", "[services.a]\ncommand = \"a\"\nrestart_limit = 05\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, err := loadFiles(t, map[string]string{"uno.toml": tt.toml})
			lines := errorLines(dir, err)
			prefix := fmt.Sprintf("uno.toml:%d: invalid TOML: ", tt.line)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], prefix) {
				t.Errorf("got %q, want one error starting %q", lines, prefix)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "uno.toml")
	_, err := Load(path, testEnviron)
	if want := "cannot read config: " + path + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

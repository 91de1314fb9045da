package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzLoadSeeds are configurations that reach every part of the loader: the valid ones so that
// mutations explore decoding, the broken ones so that they explore error paths.
var fuzzLoadSeeds = []string{
	// The example of the documentation.
	exampleConfig,
	// Every other key, with numbers where durations may be numbers.
	`[services.worker]
command = "/bin/worker --queue=${QUEUE:-default} $$literal"
restart = "always"
restart_delay = 0.5
restart_delay_max = 30
restart_reset_after = "1m"
restart_limit = 0x10
restart_window = "2m30s"
essential = false
log_prefix = false
user = 4242
group = "0"
groups = ["root", "7"]
env = { N = 1, F = 1.5e3, B = true, REF = "${N}x" }
ready = { exec = ["/bin/check", "--fast"], interval = 1, timeout = 2.5 }
stop_signal = "RTMIN+2"
`,
	// The array form of depends_on and its default conditions.
	`[services.db]
command = ["postgres"]
ready = { tcp = "127.0.0.1:5432" }
[services.init]
type = "oneshot"
command = ["/bin/init"]
[services.log]
command = "logd"
[services.app]
command = "app"
depends_on = ["db", "init", "log"]
`,
	// Dotted keys, quoted keys, arrays of tables and odd scalars.
	`uno.grace = 3
services.a.command = ["a"]
services.a.ready.file = "/tmp/ready"
services."b".command = 'b'
services.b.ready.notify = true
[services.c]
command = """
c \
  --flag"""
env.X = 1979-05-27T07:32:00Z
`,
	// A cycle, a self-dependency and an unknown dependency.
	`[services.a]
command = "a"
depends_on = ["b"]
[services.b]
command = "b"
depends_on = { a = "started", b = "ready", zz = "completed" }
`,
	// Many errors at once.
	`nope = 1
[uno]
grace = "-1s"
log_format = "xml"
[services."bad name"]
command = "x"
[services.x]
command = "a | b"
type = "forking"
ready = { http = "localhost", tcp = ":1" }
stop_signal = "SIGNOPE"
user = "no-such-user-for-uno"
group = 5
`,
	// Duplicates and redefinitions.
	"[services.a]\ncommand = \"a\"\ncommand = \"b\"\n[services.a]\n",
	"[[services]]\ncommand = \"a\"\n[services.x]\n",
	"services = { a = { command = \"a\" } }\n[services.a.env]\nX = 1\n",
	// Broken TOML.
	"[services.a\ncommand = \"a\"\n",
	"[services.a]\ncommand = \"unterminated\n",
	"\ufeff[services.a]\r\ncommand = 'a'\r\n",
	// Unicode and control characters in keys and values.
	"[services.\"\\u00e9\\n\"]\ncommand = \"\\u0000\"\n[services.ok]\ncommand = [\"\\t\"]\nenv = { \"A\\nB\" = \"x\" }\n",
	// Expansion at the edges.
	`[services.a]
command = ["${UNSET}", "${X:-${Y:-z}}"]
working_dir = "${PWD_UNSET:-relative}"
env_file = ["app.env", "${MISSING}.env"]
`,
	// Durations at the edges of time.Duration.
	`[uno]
grace = 9223372036854775807
[services.a]
command = "a"
stop_timeout = nan
restart_delay = inf
restart_window = -0.0
`,
	// The main service's reserved name.
	"[services.main]\ncommand = \"a\"\n",
	// Cron jobs, good and bad, and a crontab that is not there (read with a user field).
	`crontab = "tab"
crontab_user_field = true
[services.j]
type = "cron"
schedule = "*/5 1-3 * jan-mar mon-fri"
timezone = "America/New_York"
concurrency = "replace"
timeout = "1m"
jitter = "1s"
run_on_start = true
essential = true
fail_after = 2
command = "a"
[services.k]
type = "cron"
schedule = "@every 0s"
timezone = "Nowhere/Else"
restart = "always"
command = "b"
depends_on = ["j"]
`,
}

func FuzzLoad(f *testing.F) {
	for _, seed := range fuzzLoadSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "uno.toml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		// An env file to find, so that inputs naming it get past reading it.
		if err := os.WriteFile(filepath.Join(dir, "app.env"), []byte("APP=1\nQUOTED='a $b'\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, []string{"PATH=/usr/bin:/bin", "HOME=/root", "X=x y"})
		if err != nil {
			// uno check prints one error a line: an error that spans lines, or that does not
			// say which file it is about, would be misread. The file is uno.toml or app.env
			// here, or an env file the input names by an absolute path.
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, dir+string(filepath.Separator)) && !(filepath.IsAbs(line) && strings.Contains(line, ": ")) {
					t.Fatalf("error line %q does not start with the file it is about; whole error:\n%v", line, err)
				}
			}
			return
		}
		if len(cfg.Services) == 0 {
			t.Fatal("Load succeeded without services")
		}
		for _, s := range cfg.Services {
			if len(s.Command) == 0 || s.Command[0] == "" {
				t.Fatalf("service %q has command %q", s.Name, s.Command)
			}
		}
		checkStartOrder(t, cfg)
		if cfg.Service(MainName) == nil {
			if err := cfg.AddMain([]string{"/bin/true"}, nil); err != nil {
				t.Fatalf("AddMain: %v", err)
			}
			order := checkStartOrder(t, cfg)
			if last := order[len(order)-1]; !last.Main {
				t.Fatalf("main is not started last but %q is", last.Name)
			}
		}
	})
}

// checkStartOrder checks that StartOrder returns every service once, after its dependencies.
func checkStartOrder(t *testing.T, cfg *Config) []*Service {
	t.Helper()
	order := cfg.StartOrder()
	if len(order) != len(cfg.Services) {
		t.Fatalf("StartOrder returned %d of %d services", len(order), len(cfg.Services))
	}
	pos := map[string]int{}
	for i, s := range order {
		if _, dup := pos[s.Name]; dup {
			t.Fatalf("StartOrder returned %q twice", s.Name)
		}
		pos[s.Name] = i
	}
	for _, s := range order {
		for _, d := range s.DependsOn {
			p, ok := pos[d.Name]
			if !ok || p > pos[s.Name] {
				t.Fatalf("%q starts before its dependency %q", s.Name, d.Name)
			}
		}
	}
	return order
}

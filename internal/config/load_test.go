package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const exampleConfig = `[uno]
grace = "10s"
log_format = "json"

[services.migrate]
type = "oneshot"
command = ["/app/migrate", "up"]

[services.api]
command = ["/app/api", "--port", "${PORT:-8080}"]
depends_on = { migrate = "completed" }
user = "nobody"
working_dir = "/srv"
env = { GOMAXPROCS = "2" }
env_file = "app.env"
ready = { http = "http://127.0.0.1:8080/healthz", interval = "250ms", timeout = "60s" }
restart = "on-failure"
stop_signal = "SIGINT"
stop_timeout = "8s"

[services.nginx]
command = "nginx -g 'daemon off;'"
depends_on = { api = "ready" }
`

func TestLoadExample(t *testing.T) {
	nobody := lookupNobody(t)
	dir := writeFiles(t, map[string]string{
		"uno.toml": exampleConfig,
		"app.env":  "# the app's settings\nGOMAXPROCS=4\nAPP_MODE=production\n",
	})
	path := filepath.Join(dir, "uno.toml")
	got, err := Load(path, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	restartDefaults := func(s *Service) *Service {
		s.RestartDelay, s.RestartDelayMax = DefaultRestartDelay, DefaultRestartDelayMax
		s.RestartResetAfter, s.RestartLimit, s.RestartWindow = DefaultRestartResetAfter, DefaultRestartLimit, DefaultRestartWindow
		s.Essential, s.LogPrefix = true, true
		s.Output = Output{Format: FormatJSON}
		return s
	}
	want := &Config{
		File:      path,
		Grace:     10 * time.Second,
		LogFormat: "json",
		Services: []*Service{
			restartDefaults(&Service{
				Name: "migrate", File: path, Line: 5,
				Type:    Oneshot,
				Command: []string{"/app/migrate", "up"}, CommandLine: 7,
				Env:     testEnviron,
				Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: 10 * time.Second, KillMode: KillGroup,
			}),
			restartDefaults(&Service{
				Name: "api", File: path, Line: 9,
				Type: Simple,
				// PORT is unset, so the default applies.
				Command: []string{"/app/api", "--port", "8080"}, CommandLine: 10,
				Dir: "/srv",
				// uno's environment in its order, overridden in place by the user's
				// variables, then app.env, then env; new names are added at the end.
				Env: []string{
					"PATH=/usr/bin:/bin", "HOME=" + nobody.HomeDir, "GOMAXPROCS=2", "LANG=C.UTF-8",
					"USER=nobody", "LOGNAME=nobody", "APP_MODE=production",
				},
				User:      &User{Name: "nobody", Uid: 65534, Gid: 65534, Groups: []uint32{}, Home: nobody.HomeDir},
				DependsOn: []Dependency{{Name: "migrate", Condition: Completed, Line: 11}},
				Ready: &ReadyCheck{
					Kind: ReadyHTTP, Target: "http://127.0.0.1:8080/healthz", Line: 16,
					Interval: 250 * time.Millisecond, Timeout: 60 * time.Second,
				},
				Restart: RestartOnFailure, StopSignal: syscall.SIGINT, StopTimeout: 8 * time.Second, stopTimeoutSet: true, KillMode: KillGroup,
			}),
			restartDefaults(&Service{
				Name: "nginx", File: path, Line: 21,
				Type:    Simple,
				Command: []string{"nginx", "-g", "daemon off;"}, CommandLine: 22,
				Env:       testEnviron,
				DependsOn: []Dependency{{Name: "api", Condition: Ready, Line: 23}},
				Restart:   RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: 10 * time.Second, KillMode: KillGroup,
			}),
		},
	}
	if !reflect.DeepEqual(got, want) {
		if got.File != want.File || got.Grace != want.Grace || got.LogFormat != want.LogFormat {
			t.Errorf("config: got %s %v %s, want %s %v %s", got.File, got.Grace, got.LogFormat, want.File, want.Grace, want.LogFormat)
		}
		for i := range max(len(got.Services), len(want.Services)) {
			var g, w *Service
			if i < len(got.Services) {
				g = got.Services[i]
			}
			if i < len(want.Services) {
				w = want.Services[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("service %d:\n got %s\nwant %s", i, describeService(g), describeService(w))
			}
		}
		if !t.Failed() {
			t.Errorf("configs differ:\n got %+v\nwant %+v", got, want)
		}
	}
	if names := serviceNames(got.StartOrder()); !slices.Equal(names, []string{"migrate", "api", "nginx"}) {
		t.Errorf("start order %q", names)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\n"})
	if cfg.Grace != DefaultGrace || cfg.LogFormat != FormatPrefix {
		t.Errorf("grace %v, log_format %q; want %v, text", cfg.Grace, cfg.LogFormat, DefaultGrace)
	}
	got := cfg.Services[0]
	want := &Service{
		Name: "a", File: cfg.File, Line: 1, Type: Simple, Command: []string{"a"}, CommandLine: 2, Env: testEnviron,
		Restart: RestartNo, RestartDelay: 250 * time.Millisecond, RestartDelayMax: 30 * time.Second,
		RestartResetAfter: 30 * time.Second, RestartLimit: 5, RestartWindow: 60 * time.Second,
		StopSignal: syscall.SIGTERM, StopTimeout: DefaultGrace, KillMode: KillGroup, Essential: true, LogPrefix: true, Output: Output{Format: FormatPrefix},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %s\nwant %s", describeService(got), describeService(want))
	}
}

func TestLoadUnoSection(t *testing.T) {
	tests := []struct {
		name, toml string
		grace      time.Duration
		format     LogFormat
	}{
		{"integer seconds", "[uno]\ngrace = 3\n", 3 * time.Second, FormatPrefix},
		{"float seconds", "[uno]\ngrace = 1.5\n", 1500 * time.Millisecond, FormatPrefix},
		{"string", "[uno]\ngrace = \"1m30s\"\nlog_format = \"text\"\n", 90 * time.Second, FormatPrefix},
		{"json", "[uno]\nlog_format = \"json\"\n", DefaultGrace, FormatJSON},
		{"raw", "[uno]\nlog_format = \"raw\"\n", DefaultGrace, FormatRaw},
		{"dotted keys", "uno.grace = \"2s\"\n", 2 * time.Second, FormatPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"uno.toml": tt.toml + "[services.a]\ncommand = \"a\"\n"})
			if cfg.Grace != tt.grace || cfg.LogFormat != tt.format {
				t.Errorf("grace %v, log_format %q; want %v, %q", cfg.Grace, cfg.LogFormat, tt.grace, tt.format)
			}
			if s := cfg.Services[0]; s.StopTimeout != tt.grace {
				t.Errorf("stop_timeout %v, want grace %v", s.StopTimeout, tt.grace)
			}
		})
	}
}

func TestLoadStopTimeoutDefaultsToGraceWrittenAfter(t *testing.T) {
	// [uno] is read first wherever it is, so the default does not depend on where it is written.
	cfg := mustLoad(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\n[uno]\ngrace = \"4s\"\n"})
	if got := cfg.Services[0].StopTimeout; got != 4*time.Second {
		t.Errorf("stop_timeout %v, want 4s", got)
	}
}

func TestLoadServicesDir(t *testing.T) {
	dir, cfg, err := loadFiles(t, map[string]string{
		"uno.toml": "[services.web]\ncommand = \"web\"\ndepends_on = [\"cache\"]\n",
		// Read in name order, whatever order they were written in.
		"services.d/worker.toml": "command = \"worker\"\nenv_file = \"app.env\"\n",
		"services.d/cache.toml":  "command = [\"redis-server\"]\nready = { tcp = \"127.0.0.1:6379\" }\n",
		"services.d/2nd.toml":    "command = \"second\"\ntype = \"oneshot\"\n",
		// Not services: other suffixes, editor and package manager leftovers, dotfiles, directories.
		"services.d/notes.txt":         "not toml [",
		"services.d/worker.toml.bak":   "not toml [",
		"services.d/.hidden.toml":      "not toml [",
		"services.d/sub.toml/":         "",
		"services.d/sub.toml/inner.md": "",
		// env_file is relative to the configuration's directory, not to services.d.
		"app.env": "FROM=app.env\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := serviceNames(cfg.Services); !slices.Equal(got, []string{"web", "2nd", "cache", "worker"}) {
		t.Fatalf("services %q", got)
	}
	cache := cfg.Service("cache")
	if want := filepath.Join(dir, "services.d", "cache.toml"); cache.File != want || cache.Line != 1 {
		t.Errorf("cache defined at %s:%d, want %s:1", cache.File, cache.Line, want)
	}
	if cache.Ready == nil || cache.Ready.Target != "127.0.0.1:6379" {
		t.Errorf("cache ready %+v", cache.Ready)
	}
	// A dependency on a services.d service is resolved like any other.
	if got := cfg.Service("web").DependsOn; !slices.Equal(got, []Dependency{{"cache", Ready, 3}}) {
		t.Errorf("web depends on %+v", got)
	}
	if s := cfg.Service("worker"); !slices.Contains(s.Env, "FROM=app.env") {
		t.Errorf("worker env %q", s.Env)
	}
	if got := serviceNames(cfg.StartOrder()); !slices.Equal(got, []string{"2nd", "cache", "web", "worker"}) {
		t.Errorf("start order %q", got)
	}
}

func TestLoadServicesDirOnly(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"uno.toml":          "[uno]\ngrace = \"2s\"\n",
		"services.d/a.toml": "command = \"a\"\n",
	})
	if got := serviceNames(cfg.Services); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("services %q", got)
	}
	if s := cfg.Services[0]; s.StopTimeout != 2*time.Second {
		t.Errorf("stop_timeout %v, want grace 2s", s.StopTimeout)
	}
}

func TestLoadServicesDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"name defined in the main file", map[string]string{
			"uno.toml":            "[services.db]\ncommand = \"a\"\n\n[services.web]\ncommand = \"a\"\n",
			"services.d/web.toml": "command = \"b\"\n",
		}, []string{"services.d/web.toml: services.web: already defined in uno.toml:4"}},
		{"error inside a file names the file", map[string]string{
			"uno.toml":            "",
			"services.d/bad.toml": "command = \"x\"\nrestart = \"sometimes\"\n",
		}, []string{`services.d/bad.toml:2: services.bad.restart: want one of no, on-failure, always, got "sometimes"`}},
		{"missing command", map[string]string{
			"uno.toml":            "",
			"services.d/bad.toml": "restart = \"always\"\n",
		}, []string{"services.d/bad.toml:1: services.bad: command is required"}},
		{"unknown key", map[string]string{
			"uno.toml":            "",
			"services.d/bad.toml": "command = \"x\"\n[services.bad]\ncommand = \"y\"\n",
		}, []string{"services.d/bad.toml:2: services.bad.services: unknown key (known: " + strings.Join(serviceKeys, ", ") + ")"}},
		{"unknown dependency", map[string]string{
			"uno.toml":          "[services.web]\ncommand = \"web\"\n",
			"services.d/w.toml": "command = \"w\"\n\ndepends_on = [\"web\", \"nope\"]\n",
		}, []string{`services.d/w.toml:3: services.w.depends_on: unknown service "nope"`}},
		{"invalid name", map[string]string{
			"uno.toml":               "[services.web]\ncommand = \"web\"\n",
			"services.d/my app.toml": "command = \"x\"\n",
		}, []string{`services.d/my app.toml: services."my app": invalid service name: use letters, digits, '_', '.' and '-'`}},
		{"errors in the main file and in services.d", map[string]string{
			"uno.toml":          "[services.a]\ncommand = \"a\"\ntype = \"forking\"\n",
			"services.d/b.toml": "command = \"b\"\nessential = \"no\"\n",
		}, []string{
			`uno.toml:3: services.a.type: want one of simple, oneshot, cron, got "forking"`,
			"services.d/b.toml:2: services.b.essential: want true or false, got a string",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, err := loadFiles(t, tt.files)
			if got := errorLines(dir, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
	t.Run("syntax error", func(t *testing.T) {
		dir, _, err := loadFiles(t, map[string]string{
			"uno.toml":            "[services.a]\ncommand = \"a\"\n",
			"services.d/bad.toml": "command = \"x\"\nrestart = \n",
		})
		lines := errorLines(dir, err)
		if prefix := "services.d/bad.toml:2: invalid TOML: "; len(lines) != 1 || !strings.HasPrefix(lines[0], prefix) {
			t.Errorf("got %q, want one error starting %q", lines, prefix)
		}
	})
}

func TestAddMain(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": `[uno]
grace = "7s"
[services.migrate]
type = "oneshot"
command = "migrate"
[services.db]
command = "postgres"
ready = { tcp = ":5432" }
[services.log]
command = "logd"
[services.metrics]
command = "exporter"
essential = false
`})
	argv, environ := []string{"/app/server", "--flag"}, []string{"A=1"}
	if err := cfg.AddMain(argv, environ); err != nil {
		t.Fatal(err)
	}
	main := cfg.Service(MainName)
	if main == nil || cfg.Services[len(cfg.Services)-1] != main {
		t.Fatalf("main is not the last service: %q", serviceNames(cfg.Services))
	}
	want := &Service{
		Name: MainName, Main: true, File: "command line", Type: Simple,
		Command: argv, Env: environ, Restart: RestartNo, StopSignal: syscall.SIGTERM,
		StopTimeout: 7 * time.Second, KillMode: KillGroup, Essential: true,
		// Each essential service with its natural condition; a non-essential one may fail
		// without stopping the container, so the main program does not wait for it.
		DependsOn: []Dependency{{Name: "migrate", Condition: Completed}, {Name: "db", Condition: Ready}, {Name: "log", Condition: Started}},
	}
	if !reflect.DeepEqual(main, want) {
		t.Errorf("\n got %s\nwant %s", describeService(main), describeService(want))
	}
	if got := serviceNames(cfg.StartOrder()); !slices.Equal(got, []string{"migrate", "db", "log", "metrics", "main"}) {
		t.Errorf("start order %q", got)
	}
}

func TestServiceNamedMainIsRefused(t *testing.T) {
	// The name is the main program's, with or without a program on the command line, so that
	// a configuration does not change meaning when a CMD is added.
	dir, _, err := loadFiles(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\n\n[services.main]\ncommand = \"m\"\n"})
	want := "uno.toml:4: services.main: the name main is reserved for the program given on the command line"
	if got := errorLines(dir, err); !slices.Equal(got, []string{want}) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestFilesMustBeRegularAndSmall: a FIFO (which would block a reload for ever) or an endless
// device as the configuration or an env file is an error at once, with the path.
func TestFilesMustBeRegularAndSmall(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{fifo, "/dev/zero"} {
		cfg := filepath.Join(dir, "uno.toml")
		if err := os.WriteFile(cfg, []byte("[services.a]\ncommand = \"true\"\nenv_file = \""+target+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := Load(cfg, nil); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("env_file %s: %v", target, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("env_file %s: Load still reading after 20s", target)
		}
		if _, err := Load(target, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("config %s: %v", target, err)
		}
	}
}

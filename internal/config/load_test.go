package config

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testEnviron stands for uno's own environment; GOMAXPROCS and LANG are there to be overridden.
var testEnviron = []string{"PATH=/usr/bin:/bin", "HOME=/root", "GOMAXPROCS=8", "LANG=C.UTF-8"}

// writeFiles creates files (paths relative to a new directory, "/" separated; a path ending in
// "/" is a directory) and returns the directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadFiles writes files and loads their uno.toml.
func loadFiles(t *testing.T, files map[string]string) (dir string, cfg *Config, err error) {
	t.Helper()
	dir = writeFiles(t, files)
	cfg, err = Load(filepath.Join(dir, "uno.toml"), testEnviron)
	return dir, cfg, err
}

func mustLoad(t *testing.T, files map[string]string) *Config {
	t.Helper()
	_, cfg, err := loadFiles(t, files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// mustLoadService loads a uno.toml holding one service and returns it.
func mustLoadService(t *testing.T, toml string, extra map[string]string) *Service {
	t.Helper()
	files := map[string]string{"uno.toml": toml}
	for k, v := range extra {
		files[k] = v
	}
	cfg := mustLoad(t, files)
	if len(cfg.Services) != 1 {
		t.Fatalf("want one service, got %d", len(cfg.Services))
	}
	return cfg.Services[0]
}

// errorLines splits a joined error into its lines, with the temporary directory taken out of
// the paths so that they read as they would for a configuration in the current directory.
func errorLines(dir string, err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), "\n")
}

// needRoot skips tests that set a user: uno refuses a user switch it cannot make.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: uno refuses to switch users otherwise")
	}
}

func lookupNobody(t *testing.T) *user.User {
	t.Helper()
	needRoot(t)
	u, err := user.Lookup("nobody")
	if err != nil || u.Uid != "65534" || u.Gid != "65534" {
		t.Skipf("no nobody with uid and gid 65534 in /etc/passwd: %v", err)
	}
	return u
}

func describeService(s *Service) string {
	if s == nil {
		return "<nil>"
	}
	c := *s
	out := fmt.Sprintf("%+v", c)
	if s.User != nil {
		out += fmt.Sprintf("\n    user %+v", *s.User)
	}
	if s.Ready != nil {
		out += fmt.Sprintf("\n    ready %+v", *s.Ready)
	}
	return out
}

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
				Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: 10 * time.Second,
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
				Restart: RestartOnFailure, StopSignal: syscall.SIGINT, StopTimeout: 8 * time.Second, stopTimeoutSet: true,
			}),
			restartDefaults(&Service{
				Name: "nginx", File: path, Line: 21,
				Type:    Simple,
				Command: []string{"nginx", "-g", "daemon off;"}, CommandLine: 22,
				Env:       testEnviron,
				DependsOn: []Dependency{{Name: "api", Condition: Ready, Line: 23}},
				Restart:   RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: 10 * time.Second,
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

func serviceNames(services []*Service) []string {
	var names []string
	for _, s := range services {
		names = append(names, s.Name)
	}
	return names
}

func TestLoadDefaults(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\n"})
	if cfg.Grace != DefaultGrace || cfg.LogFormat != "text" {
		t.Errorf("grace %v, log_format %q; want %v, text", cfg.Grace, cfg.LogFormat, DefaultGrace)
	}
	got := cfg.Services[0]
	want := &Service{
		Name: "a", File: cfg.File, Line: 1, Type: Simple, Command: []string{"a"}, CommandLine: 2, Env: testEnviron,
		Restart: RestartNo, RestartDelay: 250 * time.Millisecond, RestartDelayMax: 30 * time.Second,
		RestartResetAfter: 30 * time.Second, RestartLimit: 5, RestartWindow: 60 * time.Second,
		StopSignal: syscall.SIGTERM, StopTimeout: DefaultGrace, Essential: true, LogPrefix: true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %s\nwant %s", describeService(got), describeService(want))
	}
}

func TestLoadUnoSection(t *testing.T) {
	tests := []struct {
		name, toml string
		grace      time.Duration
		format     string
	}{
		{"integer seconds", "[uno]\ngrace = 3\n", 3 * time.Second, "text"},
		{"float seconds", "[uno]\ngrace = 1.5\n", 1500 * time.Millisecond, "text"},
		{"string", "[uno]\ngrace = \"1m30s\"\nlog_format = \"text\"\n", 90 * time.Second, "text"},
		{"json", "[uno]\nlog_format = \"json\"\n", DefaultGrace, "json"},
		{"dotted keys", "uno.grace = \"2s\"\n", 2 * time.Second, "text"},
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

func TestLoadCommand(t *testing.T) {
	tests := []struct {
		name    string
		command string // the TOML value
		env     string // the TOML value of env, if any
		want    []string
	}{
		{"array as written", `["/bin/echo", "a b", ""]`, "", []string{"/bin/echo", "a b", ""}},
		{"string split as sh would", `"nginx -g 'daemon off;'"`, "", []string{"nginx", "-g", "daemon off;"}},
		{"string with double quotes and backslashes", `'run "a b" c\ d'`, "", []string{"run", "a b", "c d"}},
		{"multi-line string", "\"\"\"\nrun \\\n  --flag\"\"\"", "", []string{"run", "--flag"}},
		{"expansion keeps a value with spaces as one argument", `"echo $WORDS ${WORDS}"`, `{ WORDS = "a b" }`, []string{"echo", "a b", "a b"}},
		{"uno's environment", `["echo", "$LANG"]`, "", []string{"echo", "C.UTF-8"}},
		{"env overrides uno's environment", `["echo", "$LANG"]`, `{ LANG = "fr_FR" }`, []string{"echo", "fr_FR"}},
		{"defaults", `["echo", "${UNSET:-fallback}", "${EMPTY:-x}", "${EMPTY-y}", "${UNSET-z}"]`, `{ EMPTY = "" }`, []string{"echo", "fallback", "x", "", "z"}},
		{"nested default", `["echo", "${UNSET:-${LANG}/x}"]`, "", []string{"echo", "C.UTF-8/x"}},
		{"$$ is a literal $", `["sh", "-c", "echo $$HOME $${HOME}"]`, "", []string{"sh", "-c", "echo $HOME ${HOME}"}},
		{"a lone $ is kept", `["echo", "cost: $5", "end$"]`, "", []string{"echo", "cost: $5", "end$"}},
		{"unset variable is empty", `["echo", "[$UNSET]"]`, "", []string{"echo", "[]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toml := "[services.a]\ncommand = " + tt.command + "\n"
			if tt.env != "" {
				toml += "env = " + tt.env + "\n"
			}
			s := mustLoadService(t, toml, nil)
			if !slices.Equal(s.Command, tt.want) {
				t.Errorf("command %q, want %q", s.Command, tt.want)
			}
		})
	}
}

func TestLoadEnv(t *testing.T) {
	s := mustLoadService(t, `[services.a]
command = "a"
env_file = ["app.env", "${CONF_DIR:-conf}/more.env"]
env = { GOMAXPROCS = "2", NUM = 3, FLOAT = 1.5, BOOL = true, REF = "${FROM_FILE}+${NUM}", LITERAL = "$$NUM", LANG = "env" }
`, map[string]string{
		"app.env": `GOMAXPROCS=4
FROM_FILE=file
LANG=file
SINGLE='$HOME'
DOUBLE="$HOME"
ESCAPED="\$HOME"
REF_FILE=${FROM_FILE}-x
`,
		"conf/more.env": "FROM_FILE=more\n",
	})
	want := []string{
		// uno's environment keeps its order; each later source replaces values in place.
		"PATH=/usr/bin:/bin", "HOME=/root", "GOMAXPROCS=2", "LANG=env",
		// The first env file, in its order; FROM_FILE is replaced by the second file.
		"FROM_FILE=more", "SINGLE=$HOME", "DOUBLE=/root", "ESCAPED=$HOME", "REF_FILE=file-x",
		// env, in its order; numbers and booleans as written; references see what came before.
		"NUM=3", "FLOAT=1.5", "BOOL=true", "REF=more+3", "LITERAL=$NUM",
	}
	if !slices.Equal(s.Env, want) {
		t.Errorf("env\n got %q\nwant %q", s.Env, want)
	}
}

func TestLoadEnvAndUser(t *testing.T) {
	nobody := lookupNobody(t)
	tests := []struct {
		name, extra string
		files       map[string]string
		want        []string
	}{
		{
			"user sets HOME, USER and LOGNAME", "",
			nil,
			[]string{"PATH=/usr/bin:/bin", "HOME=" + nobody.HomeDir, "GOMAXPROCS=8", "LANG=C.UTF-8", "USER=nobody", "LOGNAME=nobody"},
		},
		{
			"env wins over the user's variables, and sees them", `env = { HOME = "/data", WHO = "${USER}@${HOME}" }`,
			nil,
			[]string{"PATH=/usr/bin:/bin", "HOME=/data", "GOMAXPROCS=8", "LANG=C.UTF-8", "USER=nobody", "LOGNAME=nobody", "WHO=nobody@/data"},
		},
		{
			"env_file wins over the user's variables", `env_file = "user.env"`,
			map[string]string{"user.env": "USER=someone\nWAS=$LOGNAME\n"},
			[]string{"PATH=/usr/bin:/bin", "HOME=" + nobody.HomeDir, "GOMAXPROCS=8", "LANG=C.UTF-8", "USER=someone", "LOGNAME=nobody", "WAS=nobody"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoadService(t, "[services.a]\ncommand = \"a\"\nuser = \"nobody\"\n"+tt.extra+"\n", tt.files)
			if !slices.Equal(s.Env, tt.want) {
				t.Errorf("env\n got %q\nwant %q", s.Env, tt.want)
			}
		})
	}
}

func TestLoadUser(t *testing.T) {
	nobody := lookupNobody(t)
	if _, err := user.LookupId("4242"); err == nil {
		t.Skip("uid 4242 is in /etc/passwd; these tests need it not to be")
	}
	tests := []struct {
		name, toml string
		want       User
	}{
		{"name", `user = "nobody"`, User{Name: "nobody", Uid: 65534, Gid: 65534, Groups: []uint32{}, Home: nobody.HomeDir}},
		{"uid as a string", `user = "65534"`, User{Name: "nobody", Uid: 65534, Gid: 65534, Groups: []uint32{}, Home: nobody.HomeDir}},
		{"uid as an integer", `user = 65534`, User{Name: "nobody", Uid: 65534, Gid: 65534, Groups: []uint32{}, Home: nobody.HomeDir}},
		{"root", `user = "root"`, User{Name: "root", Uid: 0, Gid: 0, Groups: []uint32{}, Home: "/root"}},
		// Images often run arbitrary uids: their group is the same number, not root's.
		{"uid not in passwd", `user = 4242`, User{Name: "4242", Uid: 4242, Gid: 4242, Groups: []uint32{}, Home: "/"}},
		{"uid not in passwd with a group", "user = \"4242\"\ngroup = \"root\"", User{Name: "4242", Uid: 4242, Gid: 0, Groups: []uint32{}, Home: "/"}},
		{"group by number", "user = \"nobody\"\ngroup = \"1234\"", User{Name: "nobody", Uid: 65534, Gid: 1234, Groups: []uint32{}, Home: nobody.HomeDir}},
		{"group as an integer", "user = \"nobody\"\ngroup = 1234", User{Name: "nobody", Uid: 65534, Gid: 1234, Groups: []uint32{}, Home: nobody.HomeDir}},
		{"groups", "user = \"nobody\"\ngroups = [\"root\", \"4321\", 99]", User{Name: "nobody", Uid: 65534, Gid: 65534, Groups: []uint32{0, 4321, 99}, Home: nobody.HomeDir}},
		{"one group as a string", "user = \"nobody\"\ngroups = \"root\"", User{Name: "nobody", Uid: 65534, Gid: 65534, Groups: []uint32{0}, Home: nobody.HomeDir}},
		{"no groups", "user = \"root\"\ngroups = []", User{Name: "root", Uid: 0, Gid: 0, Groups: []uint32{}, Home: "/root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoadService(t, "[services.a]\ncommand = \"a\"\n"+tt.toml+"\n", nil)
			if s.User == nil || !reflect.DeepEqual(*s.User, tt.want) {
				t.Fatalf("user %+v, want %+v", s.User, tt.want)
			}
			for _, kv := range []string{"HOME=" + tt.want.Home, "USER=" + tt.want.Name, "LOGNAME=" + tt.want.Name} {
				if !slices.Contains(s.Env, kv) {
					t.Errorf("env %q lacks %s", s.Env, kv)
				}
			}
		})
	}
}

func TestLoadDependsOn(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": `[services.app]
command = "app"
depends_on = [
  "db",
  "init",
  "log",
]
[services.web]
command = "web"
depends_on = { db = "started", init = "completed", log = "ready" }
[services.db]
command = "postgres"
ready = { tcp = "127.0.0.1:5432" }
[services.init]
type = "oneshot"
command = "init"
[services.log]
command = "logd"
`})
	// Named only, each dependency gets its natural condition: a oneshot's completion, the
	// readiness of a service with a check, the start of any other.
	wantApp := []Dependency{{"db", Ready, 4}, {"init", Completed, 5}, {"log", Started, 6}}
	if got := cfg.Service("app").DependsOn; !slices.Equal(got, wantApp) {
		t.Errorf("app depends on %+v, want %+v", got, wantApp)
	}
	// Conditions given are kept; "ready" on a service without a check is its start.
	wantWeb := []Dependency{{"db", Started, 10}, {"init", Completed, 10}, {"log", Ready, 10}}
	if got := cfg.Service("web").DependsOn; !slices.Equal(got, wantWeb) {
		t.Errorf("web depends on %+v, want %+v", got, wantWeb)
	}
	if got := serviceNames(cfg.StartOrder()); !slices.Equal(got, []string{"db", "init", "log", "app", "web"}) {
		t.Errorf("start order %q", got)
	}
}

func TestLoadReady(t *testing.T) {
	tests := []struct {
		name, ready string
		want        ReadyCheck
	}{
		{"http with defaults", `{ http = "https://localhost/health" }`,
			ReadyCheck{Kind: ReadyHTTP, Target: "https://localhost/health", Interval: 250 * time.Millisecond, Timeout: 60 * time.Second}},
		{"tcp expanded", `{ tcp = "127.0.0.1:${PORT:-5432}" }`,
			ReadyCheck{Kind: ReadyTCP, Target: "127.0.0.1:5432", Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}},
		{"exec string", `{ exec = "pg_isready -h '$LANG'" }`,
			ReadyCheck{Kind: ReadyExec, Argv: []string{"pg_isready", "-h", "C.UTF-8"}, Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}},
		{"exec array", `{ exec = ["/bin/check", "a b"] }`,
			ReadyCheck{Kind: ReadyExec, Argv: []string{"/bin/check", "a b"}, Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}},
		{"file", `{ file = "/run/ready" }`,
			ReadyCheck{Kind: ReadyFile, Target: "/run/ready", Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}},
		{"notify", `{ notify = true }`,
			ReadyCheck{Kind: ReadyNotify, Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}},
		{"durations as strings", `{ tcp = ":1", interval = "100ms", timeout = "2m" }`,
			ReadyCheck{Kind: ReadyTCP, Target: ":1", Interval: 100 * time.Millisecond, Timeout: 2 * time.Minute}},
		{"durations as seconds", `{ tcp = ":1", interval = 1, timeout = 0.5 }`,
			ReadyCheck{Kind: ReadyTCP, Target: ":1", Interval: time.Second, Timeout: 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoadService(t, "[services.a]\ncommand = \"a\"\nready = "+tt.ready+"\n", nil)
			tt.want.Line = 3 // where the kind is written
			if s.Ready == nil || !reflect.DeepEqual(*s.Ready, tt.want) {
				t.Errorf("ready %+v, want %+v", s.Ready, tt.want)
			}
		})
	}
	t.Run("as a table", func(t *testing.T) {
		s := mustLoadService(t, "[services.a]\ncommand = \"a\"\n[services.a.ready]\nfile = \"/f\"\ntimeout = 3\n", nil)
		want := ReadyCheck{Kind: ReadyFile, Target: "/f", Line: 4, Interval: DefaultReadyInterval, Timeout: 3 * time.Second}
		if s.Ready == nil || !reflect.DeepEqual(*s.Ready, want) {
			t.Errorf("ready %+v, want %+v", s.Ready, want)
		}
	})
}

func TestLoadRestartAndStop(t *testing.T) {
	s := mustLoadService(t, `[services.a]
command = "a"
restart = "always"
restart_delay = "1s"
restart_delay_max = 90
restart_reset_after = "5m"
restart_limit = 0
restart_window = 0.25
stop_timeout = "0s"
essential = false
log_prefix = false
`, nil)
	got := []any{s.Restart, s.RestartDelay, s.RestartDelayMax, s.RestartResetAfter, s.RestartLimit, s.RestartWindow, s.StopTimeout, s.Essential, s.LogPrefix}
	want := []any{RestartAlways, time.Second, 90 * time.Second, 5 * time.Minute, 0, 250 * time.Millisecond, time.Duration(0), false, false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, policy := range []RestartPolicy{RestartNo, RestartOnFailure, RestartAlways} {
		s := mustLoadService(t, fmt.Sprintf("[services.a]\ncommand = \"a\"\nrestart = %q\n", policy), nil)
		if s.Restart != policy {
			t.Errorf("restart = %q gave %q", policy, s.Restart)
		}
	}
}

func TestLoadStopSignal(t *testing.T) {
	tests := []struct {
		value string // the TOML value
		want  syscall.Signal
	}{
		{`"SIGINT"`, syscall.SIGINT},
		{`"INT"`, syscall.SIGINT},
		{`"sigquit"`, syscall.SIGQUIT},
		{`"2"`, syscall.SIGINT},
		{`2`, syscall.SIGINT},
		{`"SIGRTMIN+1"`, syscall.Signal(35)},
		{`"RTMAX"`, syscall.Signal(64)},
		{`"USR1"`, syscall.SIGUSR1},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			s := mustLoadService(t, "[services.a]\ncommand = \"a\"\nstop_signal = "+tt.value+"\n", nil)
			if s.StopSignal != tt.want {
				t.Errorf("stop_signal = %s gave %v, want %v", tt.value, s.StopSignal, tt.want)
			}
		})
	}
}

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
			want: []string{"uno.toml:1: colour: unknown key (known: uno, services)"}},
		{name: "unknown [uno] key", toml: "[uno]\ngrase = \"1s\"\n" + svc,
			want: []string{"uno.toml:2: uno.grase: unknown key (known: grace, log_format)"}},
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
			want: []string{`uno.toml:3: services.a.type: want one of simple, oneshot, got "forking"`}},
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
		{name: "log_format", toml: "[uno]\nlog_format = \"xml\"\n" + svc,
			want: []string{`uno.toml:2: uno.log_format: want one of text, json, got "xml"`}},

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
			`uno.toml:3: services.a.type: want one of simple, oneshot, got "forking"`,
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

func TestLoadProcfile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"Procfile": "# processes\nweb: bundle exec puma -p $PORT\n\nworker: ./worker --queue 'a b'\n",
		".env":     "PORT=5000\nGREETING='hi $USER'\nPATH=/opt/bin:${PATH}\n",
	})
	path := filepath.Join(dir, "Procfile")
	cfg, err := LoadProcfile(path, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File != path || cfg.Grace != DefaultGrace || cfg.LogFormat != "text" {
		t.Errorf("config %s %v %s", cfg.File, cfg.Grace, cfg.LogFormat)
	}
	env := []string{"PATH=/opt/bin:/usr/bin:/bin", "HOME=/root", "GOMAXPROCS=8", "LANG=C.UTF-8", "PORT=5000", "GREETING=hi $USER"}
	want := []*Service{
		{
			Name: "web", File: "Procfile", Line: 2, Type: Simple,
			// The shell, not uno, expands $PORT, as foreman's does.
			Command: []string{"/bin/sh", "-c", "bundle exec puma -p $PORT"},
			Env:     env, Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: DefaultGrace,
			Essential: true, LogPrefix: true,
		},
		{
			Name: "worker", File: "Procfile", Line: 4, Type: Simple,
			Command: []string{"/bin/sh", "-c", "./worker --queue 'a b'"},
			Env:     env, Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: DefaultGrace,
			Essential: true, LogPrefix: true,
		},
	}
	if len(cfg.Services) != len(want) {
		t.Fatalf("services %q", serviceNames(cfg.Services))
	}
	for i := range want {
		if !reflect.DeepEqual(cfg.Services[i], want[i]) {
			t.Errorf("service %d:\n got %s\nwant %s", i, describeService(cfg.Services[i]), describeService(want[i]))
		}
	}
}

func TestLoadProcfileWithoutDotenv(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Procfile": "web: run\n"})
	cfg, err := LoadProcfile(filepath.Join(dir, "Procfile"), testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Services[0].Env; !slices.Equal(got, testEnviron) {
		t.Errorf("env %q, want uno's %q", got, testEnviron)
	}
}

func TestLoadProcfileDotenvInDirectoryWithDollar(t *testing.T) {
	// The .env path is a real path: a $ in it must not be taken for a reference.
	dir := writeFiles(t, map[string]string{"a$HOME/Procfile": "web: run\n", "a$HOME/.env": "X=1\n"})
	cfg, err := LoadProcfile(filepath.Join(dir, "a$HOME", "Procfile"), testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.Services[0].Env, "X=1") {
		t.Errorf("env %q lacks X=1", cfg.Services[0].Env)
	}
}

func TestLoadProcfileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"Procfile error", map[string]string{"Procfile": "web: a\nworker b\n"}, `Procfile:2: missing ":" in "worker b": want name: command`},
		{".env syntax error", map[string]string{"Procfile": "web: a\n", ".env": "A=1\nB='x\n"}, ".env:2: unterminated single-quoted value"},
		{".env bad reference", map[string]string{"Procfile": "web: a\n", ".env": "A=${B\n"}, `.env:1: A: unterminated variable reference "${B": missing "}"`},
		{"no Procfile", map[string]string{}, "cannot read Procfile: Procfile: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := LoadProcfile(filepath.Join(dir, "Procfile"), testEnviron)
			if got := errorLines(dir, err); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStartOrder(t *testing.T) {
	svc := func(name string, deps ...string) *Service {
		s := &Service{Name: name}
		for _, d := range deps {
			s.DependsOn = append(s.DependsOn, Dependency{Name: d})
		}
		return s
	}
	tests := []struct {
		name     string
		services []*Service
		want     []string
	}{
		{"no dependencies: definition order", []*Service{svc("c"), svc("a"), svc("b")}, []string{"c", "a", "b"}},
		{"chain defined backwards", []*Service{svc("web", "api"), svc("api", "db"), svc("db")}, []string{"db", "api", "web"}},
		// c waits for b only: once b is placed, c comes before a, as it was defined.
		{"definition order where dependencies allow", []*Service{svc("c", "b"), svc("b"), svc("a")}, []string{"b", "c", "a"}},
		{"diamond", []*Service{svc("top", "left", "right"), svc("left", "base"), svc("right", "base"), svc("base")}, []string{"base", "left", "right", "top"}},
		{"independent services keep their places", []*Service{svc("x"), svc("app", "db"), svc("y"), svc("db"), svc("z")}, []string{"x", "y", "db", "app", "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{Services: tt.services}
			if got := serviceNames(cfg.StartOrder()); !slices.Equal(got, tt.want) {
				t.Errorf("start order %q, want %q", got, tt.want)
			}
		})
	}
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
		StopTimeout: 7 * time.Second, Essential: true,
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

// TestSetGrace: --grace and UNO_GRACE replace [uno] grace after loading, and with it the
// stop_timeout of every service that follows the default (the main program's too); one written
// in the file stays.
func TestSetGrace(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": `[uno]
grace = "1s"
[services.a]
command = "a"
[services.b]
command = "b"
stop_timeout = "2s"
`})
	if err := cfg.AddMain([]string{"m"}, nil); err != nil {
		t.Fatal(err)
	}
	cfg.SetGrace(30 * time.Second)
	want := map[string]time.Duration{"a": 30 * time.Second, "b": 2 * time.Second, MainName: 30 * time.Second}
	for name, d := range want {
		if got := cfg.Service(name).StopTimeout; got != d {
			t.Errorf("%s: stop_timeout %v, want %v", name, got, d)
		}
	}
	if cfg.Grace != 30*time.Second {
		t.Errorf("grace %v", cfg.Grace)
	}
}

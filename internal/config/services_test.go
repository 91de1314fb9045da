package config

import (
	"fmt"
	"os/user"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"
)

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

package config

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestHealthDecoded(t *testing.T) {
	s := mustLoadService(t, `
[services.api]
command = "api"
health = { http = "http://127.0.0.1:${PORT:-8080}/healthz", interval = "5s", timeout = 1, failures = 2, start_period = "30s", on_failure = "stop" }
`, nil)
	want := &HealthCheck{Kind: ReadyHTTP, Target: "http://127.0.0.1:8080/healthz", Line: 4, Interval: 5 * time.Second,
		Timeout: time.Second, Failures: 2, StartPeriod: 30 * time.Second, OnFailure: OnFailureStop}
	if !reflect.DeepEqual(s.Health, want) {
		t.Errorf("health %+v, want %+v", s.Health, want)
	}
	s = mustLoadService(t, "[services.api]\ncommand = \"api\"\nhealth = { exec = \"check --quick\" }\n", nil)
	if want := (&HealthCheck{Kind: ReadyExec, Argv: []string{"check", "--quick"}, Line: 3, Interval: DefaultHealthInterval,
		Timeout: DefaultHealthTimeout, Failures: DefaultHealthFailures, OnFailure: OnFailureRestart}); !reflect.DeepEqual(s.Health, want) {
		t.Errorf("defaults %+v, want %+v", s.Health, want)
	}
	s = mustLoadService(t, "[services.api]\ncommand = \"api\"\nhealth = { watchdog = 30 }\n", nil)
	if s.Health.Kind != HealthWatchdog || s.Health.Interval != 30*time.Second || s.Health.Failures != 1 || !s.UsesNotify() {
		t.Errorf("watchdog %+v", s.Health)
	}
	cfg := mustLoad(t, map[string]string{"uno.toml": "[uno]\ndrain = \"3s\"\ngrace = \"10s\"\n[services.a]\ncommand = \"a\"\n"})
	if cfg.Drain != 3*time.Second {
		t.Errorf("drain %v", cfg.Drain)
	}
}

func TestHealthErrors(t *testing.T) {
	for _, tc := range []struct{ toml, want string }{
		{`health = { tcp = ":80", exec = "x" }`, `uno.toml:3: services.api.health: want exactly one of http, tcp, exec, watchdog, got 2`},
		{`health = { file = "/x" }`, `uno.toml:3: services.api.health.file: unknown key (known: http, tcp, exec, watchdog, interval, timeout, failures, start_period, on_failure)`},
		{`health = { tcp = ":80", on_failure = "kill" }`, `uno.toml:3: services.api.health.on_failure: want one of restart, stop, ignore, got "kill"`},
		{`health = { tcp = ":80", failures = 0 }`, `uno.toml:3: services.api.health.failures: must be at least 1`},
		{`health = { tcp = ":80", interval = "0s" }`, `uno.toml:3: services.api.health.interval: must be more than 0`},
		{`health = { http = "ftp://x" }`, `uno.toml:3: services.api.health.http: want an http:// or https:// URL, got "ftp://x"`},
		{`health = { watchdog = "10s", interval = "1s" }`, `uno.toml:3: services.api.health.watchdog: interval and timeout do not apply to a watchdog`},
		{`health = { watchdog = "0s" }`, `uno.toml:3: services.api.health.watchdog: must be more than 0`},
		// A tiny period is a busy loop: uno spun a core on interval = "1ns" (fresh-eyes review).
		{`health = { exec = "true", interval = "1ns" }`, `uno.toml:3: services.api.health.interval: must be at least 10ms, got 1ns (a shorter check is a busy loop)`},
		{`health = { tcp = ":80", timeout = "1ms" }`, `uno.toml:3: services.api.health.timeout: must be at least 10ms, got 1ms (a shorter check is a busy loop)`},
		{`health = { watchdog = "1ns" }`, `uno.toml:3: services.api.health.watchdog: must be at least 10ms, got 1ns (a shorter check is a busy loop)`},
		{`health = "tcp"`, `uno.toml:3: services.api.health: want a table, got a string`},
	} {
		dir, _, err := loadFiles(t, map[string]string{"uno.toml": "[services.api]\ncommand = \"api\"\n" + tc.toml + "\n"})
		if got := errorLines(dir, err); !slices.Contains(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.toml, got, tc.want)
		}
	}
	dir, _, err := loadFiles(t, map[string]string{"uno.toml": "[uno]\ngrace = \"5s\"\ndrain = \"5s\"\n[services.a]\ncommand = \"a\"\n"})
	if got, want := errorLines(dir, err), "uno.toml:3: uno.drain: 5s leaves nothing of the grace (5s) for the stop: the drain counts inside it"; !slices.Contains(got, want) {
		t.Errorf("drain: got %q, want %q", got, want)
	}
}

package supervisor

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/testkit"
	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// These tests drive the state machine in-process with real short-lived processes (sh): the
// supervisor's decisions are checked through the events it logs, in order. The black-box tests
// of the binary as PID 1 are in test/e2e.

// recorder is a slog handler that keeps "message service" for each record.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	event := rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "service" {
			event += " " + a.Value.String()
		}
		return true
	})
	r.mu.Lock()
	r.events = append(r.events, event)
	r.mu.Unlock()
	return nil
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// sharedReaper is the test process's one reaper: a second one would race it for exit statuses.
var sharedReaper = sync.OnceValue(func() *reaper.Reaper { return reaper.New(nil) })

func runConfig(t *testing.T, toml string, main ...string) (code int, events []string) {
	t.Helper()
	return runConfigIn(t, t.TempDir(), toml, main...)
}

// runConfigIn is runConfig with the configuration file and the runtime directory in dir.
func runConfigIn(t *testing.T, dir, toml string, main ...string) (code int, events []string) {
	t.Helper()
	path := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if len(main) > 0 {
		if err := cfg.AddMain(main, os.Environ()); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	var out testkit.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(Options{Config: cfg, Log: ulogtest.FromSlog(rec), Stdout: &out, Stderr: &out, RuntimeDir: dir, Reaper: sharedReaper()})
	}()
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("supervisor still running after 30s; events:\n%s", strings.Join(rec.list(), "\n"))
	}
	return code, rec.list()
}

// contains checks that want appears in events as a subsequence, in order.
func containsInOrder(events, want []string) bool {
	i := 0
	for _, e := range events {
		if i < len(want) && e == want[i] {
			i++
		}
	}
	return i == len(want)
}

func count(events []string, event string) int {
	n := 0
	for _, e := range events {
		if e == event {
			n++
		}
	}
	return n
}

func TestStateMachine(t *testing.T) {
	cases := []struct {
		name     string
		toml     string
		main     []string
		wantCode int
		// wantEvents must appear in this order; wantCounts exactly this often.
		wantEvents []string
		wantCounts map[string]int
		notEvents  []string
	}{
		{
			name: "oneshot completes, then its dependent runs; an essential exit ends it all",
			toml: `
[services.setup]
type = "oneshot"
command = ["true"]

[services.app]
command = ["sh", "-c", "exit 0"]
depends_on = ["setup"]
`,
			wantCode: 0,
			wantEvents: []string{
				"service started setup", "service exited setup", "service completed setup",
				"service started app", "service exited app", "essential service ended; stopping the container app",
				"stopping services", "exiting",
			},
		},
		{
			name: "on-failure restarts until the limit, then the failure's status",
			toml: `
[services.crash]
command = ["sh", "-c", "exit 3"]
restart = "on-failure"
restart_delay = "10ms"
restart_limit = 2
`,
			wantCode:   3,
			wantCounts: map[string]int{"service started crash": 3, "restarting service crash": 2},
			wantEvents: []string{"service is restarting too often; giving up crash", "essential service ended; stopping the container crash"},
		},
		{
			name: "on-failure does not restart a clean exit",
			toml: `
[services.once]
command = ["true"]
restart = "on-failure"
`,
			wantCode:   0,
			wantCounts: map[string]int{"service started once": 1, "restarting service once": 0},
		},
		{
			name: "a oneshot with on-failure is run again until it succeeds",
			toml: `
[services.flaky]
type = "oneshot"
command = ["sh", "-c", "n=$$(cat \"$$0\" 2>/dev/null || echo 0); echo $$((n+1)) > \"$$0\"; [ $$n -ge 2 ]", "/tmp/uno-flaky-oneshot-count"]
restart = "on-failure"
restart_delay = "10ms"

[services.after]
command = ["true"]
depends_on = ["flaky"]
`,
			wantCode:   0,
			wantCounts: map[string]int{"service started flaky": 3, "service completed flaky": 1, "service started after": 1},
		},
		{
			name: "a dependency that fails for good fails its waiting dependent",
			toml: `
[services.dep]
type = "oneshot"
command = ["sh", "-c", "exit 6"]
essential = false

[services.app]
command = ["sleep", "100"]
depends_on = ["dep"]
`,
			wantCode:   6,
			wantEvents: []string{"non-essential service failed; the others go on dep", "service cannot start: a dependency ended without reaching its condition app"},
			notEvents:  []string{"service started app"},
		},
		{
			name: "not ready in time: stopped, restarted by policy, then given up with status 1",
			toml: `
[services.slow]
command = ["sleep", "100"]
ready = { file = "/nonexistent", interval = "10ms", timeout = "100ms" }
restart = "on-failure"
restart_delay = "10ms"
restart_limit = 1
`,
			wantCode:   1,
			wantCounts: map[string]int{"service started slow": 2, "service did not become ready in time slow": 2},
		},
		{
			name: "a start failure is a failure with the shell's status",
			toml: `
[services.missing]
command = ["/nonexistent/bin"]
`,
			wantCode:   127,
			wantEvents: []string{"service could not start missing", "essential service ended; stopping the container missing"},
		},
		{
			name: "the main program starts last and its status is uno's",
			toml: `
[services.side]
command = ["sleep", "100"]
ready = { exec = ["true"], interval = "10ms" }
`,
			main:       []string{"sh", "-c", "exit 9"},
			wantCode:   9,
			wantEvents: []string{"service started side", "service ready side", "service started main", "main program ended; stopping the services", "stopping service side", "service stopped side"},
		},
		{
			name: "a non-essential service dies alone; the rest runs to its end",
			toml: `
[services.flaky]
command = ["false"]
essential = false

[services.worker]
command = ["sh", "-c", "sleep 0.2"]
`,
			wantCode:   0,
			wantEvents: []string{"non-essential service failed; the others go on flaky", "service exited worker"},
		},
	}
	_ = os.Remove("/tmp/uno-flaky-oneshot-count")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, events := runConfig(t, c.toml, c.main...)
			if code != c.wantCode {
				t.Errorf("exit status %d, want %d", code, c.wantCode)
			}
			if c.wantEvents != nil && !containsInOrder(events, c.wantEvents) {
				t.Errorf("events lack, in order, %q", c.wantEvents)
			}
			for e, n := range c.wantCounts {
				if got := count(events, e); got != n {
					t.Errorf("%q happened %d times, want %d", e, got, n)
				}
			}
			for _, e := range c.notEvents {
				if slices.Contains(events, e) {
					t.Errorf("unexpected %q", e)
				}
			}
			if t.Failed() {
				t.Logf("events:\n%s", strings.Join(events, "\n"))
			}
		})
	}
}

func TestSatisfies(t *testing.T) {
	cases := []struct {
		state State
		cond  config.Condition
		want  bool
	}{
		{Waiting, config.Started, false},
		{Starting, config.Started, true},
		{Starting, config.Ready, false},
		{Running, config.Ready, true},
		{Running, config.Completed, false},
		{Completed, config.Completed, true},
		{Completed, config.Ready, true},
		{Backoff, config.Started, false},
		{Failed, config.Started, false},
		{Exited, config.Started, false},
	}
	for _, c := range cases {
		s := &service{state: c.state}
		if got := s.satisfies(c.cond); got != c.want {
			t.Errorf("%s satisfies %s: %v, want %v", c.state, c.cond, got, c.want)
		}
	}
}

func TestRestartLimitAndBackoff(t *testing.T) {
	cfg := &config.Service{
		RestartDelay: 100 * time.Millisecond, RestartDelayMax: 350 * time.Millisecond,
		RestartResetAfter: time.Hour, RestartLimit: 3, RestartWindow: time.Hour,
	}
	s := &service{cfg: cfg, delay: cfg.RestartDelay}
	sv := &Supervisor{log: ulogtest.FromSlog(&recorder{}), events: make(chan any, 16)}
	var delays []time.Duration
	for range 3 {
		if !sv.withinRestartLimit(s) {
			t.Fatalf("refused before the limit")
		}
		delays = append(delays, s.delay)
		s.state = Running
		sv.scheduleRestart(s, EvExited)
		s.restartAt.Stop()
	}
	if sv.withinRestartLimit(s) {
		t.Errorf("allowed a fourth restart within the window")
	}
	// delays records the delay after each doubling: 200ms, then the 350ms cap.
	if want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 350 * time.Millisecond}; !slices.Equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
	// A run that lasted restart_reset_after wipes the record and starts from the first delay.
	s.startedAt = time.Now().Add(-2 * time.Hour)
	s.lastExit = &reaper.Exit{}
	if !sv.withinRestartLimit(s) || s.delay != cfg.RestartDelay || len(s.failures) != 1 {
		t.Errorf("after a long run: delay %v, failures %d", s.delay, len(s.failures))
	}
}

package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/testkit"
	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// fakeClock is a wall clock the test sets and jumps; WakeAt records what the scheduler asked.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	armed time.Time
	wakes int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) WakeAt(t time.Time) {
	c.mu.Lock()
	c.armed = t
	c.wakes++
	c.mu.Unlock()
}

func (c *fakeClock) Close() {}

func (c *fakeClock) armedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed
}

// cronHarness runs a supervisor in-process on a fake clock.
type cronHarness struct {
	t     *testing.T
	sv    *Supervisor
	clock *fakeClock
	rec   *recorder
	done  chan int
}

func startCronHarness(t *testing.T, toml string, now time.Time) *cronHarness {
	t.Helper()
	dir := t.TempDir()
	marks := filepath.Join(dir, "marks")
	path := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(toml, "@MARKS@", marks)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	var mu sync.Mutex
	illegalTransition = func(name string, from State, ev Event, to State) {
		mu.Lock()
		bad = append(bad, name+": "+string(from)+" -"+string(ev)+"-> "+string(to))
		mu.Unlock()
	}
	t.Cleanup(func() {
		illegalTransition = nil
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Errorf("illegal transitions: %v", bad)
		}
	})
	h := &cronHarness{t: t, clock: &fakeClock{now: now}, rec: &recorder{}, done: make(chan int, 1)}
	var out testkit.Buffer
	h.sv = newSupervisor(Options{Config: cfg, Log: ulogtest.FromSlog(h.rec), Stdout: &out, Stderr: &out, RuntimeDir: dir, Reaper: sharedReaper()})
	h.sv.cron.clock = h.clock
	h.sv.cron.wake = make(chan struct{}, 1)
	go func() { h.done <- h.sv.run() }()
	t.Cleanup(func() {
		h.sv.sigs <- syscall.SIGTERM
		select {
		case <-h.done:
		case <-time.After(20 * time.Second):
			t.Errorf("supervisor still running 20 s after SIGTERM")
		}
	})
	return h
}

// at sets the wall clock and wakes the scheduler, as the timer would (it fires when the time
// comes, or when the clock is set).
func (h *cronHarness) at(now time.Time) {
	h.clock.mu.Lock()
	h.clock.now = now
	h.clock.mu.Unlock()
	h.sv.cron.wake <- struct{}{}
}

// waitEvents waits until event has been logged n times.
func (h *cronHarness) waitEvents(event string, n int) {
	h.t.Helper()
	end := time.Now().Add(20 * time.Second)
	for count(h.rec.list(), event) < n {
		if time.Now().After(end) {
			h.t.Fatalf("%q logged %d times, want %d; events:\n%s", event, count(h.rec.list(), event), n, strings.Join(h.rec.list(), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitArmed waits until the scheduler has armed its timer at want.
func (h *cronHarness) waitArmed(want time.Time) {
	h.t.Helper()
	end := time.Now().Add(20 * time.Second)
	for !h.clock.armedAt().Equal(want) {
		if time.Now().After(end) {
			h.t.Fatalf("timer armed at %v, want %v", h.clock.armedAt(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func utc(h, m, s int) time.Time { return time.Date(2026, 6, 1, h, m, s, 0, time.UTC) }

// TestCronClockJumps drives the real scheduler, with real runs, through jumps of a fake wall
// clock: forward, at most one run for what was missed; back, nothing runs twice.
func TestCronClockJumps(t *testing.T) {
	h := startCronHarness(t, `
[services.hourly]
type = "cron"
schedule = "0 * * * *"
command = ["sh", "-c", "echo run >> @MARKS@"]
`, utc(10, 30, 0))
	h.waitArmed(utc(11, 0, 0))
	h.at(utc(10, 59, 59)) // a wake-up before the time (the clock set a little): nothing
	h.at(utc(11, 0, 0))
	h.waitEvents("cron run done hourly", 1)
	h.waitArmed(utc(12, 0, 0))

	// Forward by five hours: one run for 12:00 (13:00 to 16:00 dropped), then 17:00.
	h.at(utc(16, 20, 0))
	h.waitEvents("cron run done hourly", 2)
	h.waitArmed(utc(17, 0, 0))
	if n := count(h.rec.list(), "cron job: occurrences missed (the wall clock jumped forward, or uno was held up); ran once for them hourly"); n != 1 {
		t.Errorf("the missed occurrences were logged %d times, want once", n)
	}

	// Back by three hours: nothing runs for 14:00, 15:00 or 16:00 again; still 17:00.
	h.at(utc(13, 20, 0))
	h.at(utc(14, 0, 0))
	h.at(utc(16, 0, 0))
	h.waitArmed(utc(17, 0, 0))
	h.at(utc(17, 0, 0))
	h.waitEvents("cron run done hourly", 3)
	h.waitArmed(utc(18, 0, 0))
	// Armed for 18:00, so the 17:00 run has started: any run for a repeated hour came before.
	if n := count(h.rec.list(), "service started hourly"); n != 3 {
		t.Errorf("%d runs started, want 3", n)
	}
}

// TestCronDaylightSavingInScheduler: the scheduler arms for the change itself when a job's
// fixed time is skipped (Warsaw, 29 March 2026: 02:00 CET becomes 03:00 CEST).
func TestCronDaylightSavingInScheduler(t *testing.T) {
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Skipf("no Europe/Warsaw zone (tzdata): %v", err)
	}
	h := startCronHarness(t, `
[services.night]
type = "cron"
schedule = "30 2 * * *"
timezone = "Europe/Warsaw"
command = ["sh", "-c", "echo run >> @MARKS@"]
`, time.Date(2026, 3, 28, 12, 0, 0, 0, warsaw))
	change := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC) // 03:00 CEST
	h.waitArmed(change)
	h.at(change)
	h.waitEvents("cron run done night", 1)
	h.waitArmed(time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC)) // 02:30 CEST
}

// TestCronStopDisarms: once uno stops, the timer is disarmed and a wake-up starts nothing.
func TestCronStopDisarms(t *testing.T) {
	h := startCronHarness(t, `
[services.every]
type = "cron"
schedule = "* * * * * *"
command = ["sh", "-c", "echo run >> @MARKS@"]

[services.slow]
command = ["sh", "-c", "trap 'sleep 0.5; exit 0' TERM; while :; do sleep 0.05; done"]
`, utc(10, 0, 0))
	h.waitArmed(utc(10, 0, 1))
	h.sv.sigs <- syscall.SIGTERM
	h.waitEvents("stopping services", 1)
	h.waitArmed(time.Time{})
	// The job is due now, and the timer fires: nothing may start.
	h.clock.mu.Lock()
	h.clock.now = utc(10, 0, 5)
	h.clock.mu.Unlock()
	select {
	case h.sv.cron.wake <- struct{}{}:
	default:
	}
	select {
	case <-h.done:
		h.done <- 0
	case <-time.After(20 * time.Second):
		t.Fatal("uno did not stop")
	}
	if n := count(h.rec.list(), "service started every"); n != 0 {
		t.Errorf("the job started %d times once the stop began", n)
	}
}

// TestSameCronDefinition: a job written again, moved in the file or with its zone loaded anew,
// is the same job (a reload leaves it alone); a new schedule is a change.
func TestSameCronDefinition(t *testing.T) {
	load := func(toml string) *config.Service {
		dir := t.TempDir()
		path := filepath.Join(dir, "uno.toml")
		if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Service("j")
	}
	const job = "[services.j]\ntype = \"cron\"\nschedule = \"0 3 * * *\"\ntimezone = \"America/New_York\"\ncommand = \"x\"\n"
	a, b := load(job), load("# moved down\n\n"+job)
	if !sameDefinition(a, b) {
		t.Errorf("the same job, two lines down, counts as changed")
	}
	if c := load(strings.Replace(job, "0 3", "0 4", 1)); sameDefinition(a, c) {
		t.Errorf("a new schedule counts as the same job")
	}
}

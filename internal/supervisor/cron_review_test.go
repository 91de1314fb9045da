package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
)

// Found in review: during issue 14's drain (the first SIGTERM, [uno] drain set) the scheduler
// kept firing, so a job due in the drain started a new run that the stop then cut short. A job
// never starts once the stop began, and the drain is the stop's beginning: the timer is
// disarmed and a wake-up starts nothing.
func TestCronNoRunDuringDrain(t *testing.T) {
	h := startCronHarness(t, `
[uno]
drain = "30s"
grace = "60s"

[services.every]
type = "cron"
schedule = "* * * * * *"
command = ["sh", "-c", "echo run >> @MARKS@"]
`, utc(10, 0, 0))
	h.waitArmed(utc(10, 0, 1))
	h.sv.sigs <- syscall.SIGTERM
	h.waitEvents("draining: not ready; services stop after the drain", 1)
	h.waitArmed(time.Time{})
	// Due now, and the timer fires anyway (a clock set wakes it): nothing may start.
	h.at(utc(10, 0, 5))
	h.sv.sigs <- syscall.SIGTERM // skips the rest of the drain
	select {
	case <-h.done:
		h.done <- 0
	case <-time.After(20 * time.Second):
		t.Fatal("uno did not stop")
	}
	if n := count(h.rec.list(), "service started every"); n != 0 {
		t.Errorf("the job started %d times during the drain", n)
	}
}

// ctl sends a control request as uno ctl would, and returns its answer.
func (h *cronHarness) ctl(cmd string, noWait bool, names ...string) (string, error) {
	cr := controlRequest{req: control.Request{Version: control.Version, Command: cmd, Names: names, NoWait: noWait}, ctx: context.Background(), result: make(chan controlResult, 1)}
	h.sv.control <- cr
	select {
	case r := <-cr.result:
		return r.msg, r.err
	case <-time.After(20 * time.Second):
		h.t.Fatalf("no answer to %s %v", cmd, names)
		return "", nil
	}
}

// Found in review: with concurrency = "replace", an operator's stop of a run being replaced
// left the job's "replacing" mark set; once started again, the job's next run, as it ended,
// started another one at once, due or not.
func TestCronReplaceThenOperatorStop(t *testing.T) {
	h := startCronHarness(t, `
[services.j]
type = "cron"
schedule = "* * * * * *"
concurrency = "replace"
stop_timeout = "60s"
command = ["sh", "-c", "[ -e @MARKS@.quick ] && exit 0; trap 'while [ ! -e @MARKS@.go ]; do sleep 0.02; done; exit 0' TERM; while :; do sleep 0.02; done"]
`, utc(10, 0, 0))
	marks := filepath.Join(h.sv.opts.RuntimeDir, "marks")
	h.waitArmed(utc(10, 0, 1))
	h.at(utc(10, 0, 1))
	h.waitEvents("service started j", 1)
	h.at(utc(10, 0, 2)) // due while the first run goes: it is stopped, to be replaced
	h.waitEvents("cron run still going when the next is due; replacing it j", 1)
	if _, err := h.ctl(control.CmdStop, true, "j"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{marks + ".quick", marks + ".go"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.waitEvents("service stopped j", 1)
	if _, err := h.ctl(control.CmdStart, true, "j"); err != nil {
		t.Fatal(err)
	}
	h.waitEvents("cron job scheduled j", 2)
	h.at(utc(10, 0, 10))
	h.waitEvents("cron run done j", 2)
	h.ctl(control.CmdRun, true) // no names: an error, answered once the run's end is handled
	if n := count(h.rec.list(), "service started j"); n != 2 {
		t.Errorf("%d runs started, want 2 (one at 10:00:01, one at 10:00:10)", n)
	}
}

// Found in review: concurrency = "allow" had no bound: 100 `uno ctl run` at once, or a
// per-second job whose runs hang, made as many processes as there were due times, until the
// container ran out of pids. At most maxRunsAtOnce runs go at once; a due run past that is
// skipped and counted, as under forbid.
func TestCronAllowIsBounded(t *testing.T) {
	h := startCronHarness(t, `
[services.a]
type = "cron"
schedule = "@yearly"
concurrency = "allow"
command = ["sleep", "60"]
`, utc(10, 0, 0))
	h.waitEvents("cron job scheduled a", 1)
	for i := range maxRunsAtOnce + 5 {
		msg, err := h.ctl(control.CmdRun, true, "a")
		if i < maxRunsAtOnce && err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if i >= maxRunsAtOnce && err == nil {
			t.Fatalf("run %d started (%s); at most %d go at once", i+1, msg, maxRunsAtOnce)
		}
	}
	h.ctl(control.CmdRun, true) // a sync point: answered after the runs above
	if n := count(h.rec.list(), "service started a"); n != maxRunsAtOnce {
		t.Errorf("%d runs started, want %d", n, maxRunsAtOnce)
	}
	if skips := h.sv.byName["a"].job.skips; skips != 5 {
		t.Errorf("skips = %d, want 5", skips)
	}
}

// Found in review: a reload that removed a concurrency = "allow" job stopped its own run but
// left its extra runs going, out of uno ctl status and of any later reload's view.
func TestCronReloadRemovesExtraRuns(t *testing.T) {
	h := startCronHarness(t, `
[services.a]
type = "cron"
schedule = "@yearly"
concurrency = "allow"
command = ["sleep", "60"]

[services.other]
type = "cron"
schedule = "@yearly"
command = ["true"]
`, utc(10, 0, 0))
	h.waitEvents("cron job scheduled a", 1)
	for range 3 {
		if _, err := h.ctl(control.CmdRun, true, "a"); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(h.sv.opts.RuntimeDir, "uno2.toml")
	if err := os.WriteFile(path, []byte("[services.other]\ntype = \"cron\"\nschedule = \"@yearly\"\ncommand = [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.sv.opts.Reload = func() (*config.Config, error) { return config.Load(path, os.Environ()) }
	if _, err := h.ctl(control.CmdReload, false); err != nil {
		t.Fatal(err)
	}
	h.waitEvents("service stopped a", 3)
}

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Attempts to break cron jobs, each found while trying, each now a test.

// TestCronReloadDuringRun: a reload that changes a job's schedule while a run goes lets that run
// finish (it is not killed, unlike a changed simple service), and the new schedule applies after.
func TestCronReloadDuringRun(t *testing.T) {
	needRoot(t)
	needBash(t)
	const conf = `
[services.job]
type = "cron"
schedule = "@yearly"
run_on_start = true
command = ["bash", "-c", "trap 'echo job-term >> $MARKS' TERM; echo job-start >> $MARKS; while [ ! -e @DIR@/go ]; do sleep 0.05; done; echo job-end >> $MARKS"]
`
	p, marks, socket, cfgPath := startControlled(t, conf)
	waitMark(t, marks, "job-start")
	written, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(written), `"@yearly"`, `"* * * * * *"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCtl(t, socket, "reload")
	if r.code != 0 || !strings.Contains(r.stdout, "changed: job") {
		t.Fatalf("reload: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if st := statusOf(t, socket)["job"]; st.State != "running" || st.Cron.Schedule != "* * * * * *" {
		t.Errorf("after the reload: %s %+v", st.State, st.Cron)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfgPath), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitMark(t, marks, "job-end")
	// The new schedule: runs every second (each finds "go" and ends at once).
	poll(t, "two runs on the new schedule", func() bool { return countMarks(t, marks, "job-end") >= 3 })
	if countMarks(t, marks, "job-term") != 0 {
		t.Errorf("the run going was stopped by the reload: %q", readMarks(t, marks))
	}

	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
}

// TestCronDaemonLeftInGroup: a job that starts a daemon (in its process group, as a shell's &
// does) and exits: the daemon gets SIGTERM as the run ends, like what any run leaves in its
// group, so the next run does not meet it; the job's runs go on.
func TestCronDaemonLeftInGroup(t *testing.T) {
	needRoot(t)
	needBash(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.forker]
type = "cron"
schedule = "* * * * * *"
command = ["bash", "-c", "bash -c 'trap \"echo daemon-term >> $MARKS; exit 0\" TERM; echo daemon-up >> $MARKS; sleep 1000 & wait' & while ! grep -q daemon-up $MARKS 2>/dev/null; do sleep 0.01; done; echo run >> $MARKS"]
`)
	poll(t, "two runs", func() bool { return countMarks(t, marks, "run") >= 2 && countMarks(t, marks, "daemon-term") >= 1 })
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
	got := readMarks(t, marks)
	// The first daemon got its TERM before the second run's daemon came up.
	first := strings.Index(strings.Join(got, " "), "daemon-term")
	second := strings.Index(strings.Join(got, " "), "run daemon-up")
	if first < 0 || (second >= 0 && second < first) {
		t.Errorf("a run met the last run's daemon: %q", got)
	}
}

// TestCronCtlRunDuringStop: once the stop began, uno ctl run is refused and starts nothing.
func TestCronCtlRunDuringStop(t *testing.T) {
	needRoot(t)
	needBash(t)
	p, marks, socket, _ := startControlled(t, `
[uno]
grace = "10s"

[services.slow]
command = ["bash", "-c", "trap 'sleep 2; exit 0' TERM; echo slow-up >> $MARKS; sleep 1000 & wait"]

[services.job]
type = "cron"
schedule = "@yearly"
command = ["bash", "-c", "echo job-ran >> $MARKS"]
`)
	waitMark(t, marks, "slow-up")
	waitState(t, socket, "job", "scheduled")
	p.signal(syscall.SIGTERM)
	poll(t, "the stop", func() bool { return strings.Contains(p.stderr.String(), "stopping services") })
	r := runCtl(t, socket, "run", "job")
	if r.code != 1 || !strings.Contains(r.stderr, "stopping") {
		t.Errorf("ctl run during the stop: %d %q %q", r.code, r.stdout, r.stderr)
	}
	p.expectExit(0)
	noBug(t, p)
	if countMarks(t, marks, "job-ran") != 0 {
		t.Errorf("the job ran during the stop: %q", readMarks(t, marks))
	}
}

// TestCronEssentialFailAfter: an essential job stops the container after fail_after failures in
// a row, with the last run's status; a job that is not essential fails on and on.
func TestCronEssentialFailAfter(t *testing.T) {
	needRoot(t)
	start := time.Now()
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.flaky]
type = "cron"
schedule = "* * * * * *"
command = ["sh", "-c", "echo fail >> $MARKS; exit 4"]

[services.critical]
type = "cron"
schedule = "* * * * * *"
essential = true
fail_after = 3
command = ["sh", "-c", "echo crit >> $MARKS; exit 5"]
`)
	p.expectExit(5)
	noBug(t, p)
	if n := countMarks(t, marks, "crit"); n != 3 {
		t.Errorf("the essential job ran %d times, want 3 (fail_after)", n)
	}
	log := p.stderr.String()
	if !strings.Contains(log, "essential service ended; stopping the container service=critical status=5") {
		t.Errorf("no stop for the essential job in the log:\n%s", log)
	}
	t.Logf("stopped after %v", time.Since(start).Round(time.Millisecond))
}

// TestCronStopWithExtraRuns: uno ctl stop of an "allow" job stops its extra runs too, and the
// job stays stopped until started again.
func TestCronStopWithExtraRuns(t *testing.T) {
	needRoot(t)
	needBash(t)
	p, marks, socket, _ := startControlled(t, `
[services.many]
type = "cron"
schedule = "* * * * * *"
concurrency = "allow"
command = ["bash", "-c", "trap 'echo many-term >> $MARKS; exit 0' TERM; echo many-start >> $MARKS; sleep 1000 & wait"]
`)
	poll(t, "an extra run", func() bool {
		st := statusOf(t, socket)["many"]
		return st.Cron != nil && st.Cron.ExtraRuns >= 1
	})
	r := runCtl(t, socket, "stop", "many")
	if r.code != 0 {
		t.Fatalf("stop: %d %q", r.code, r.stderr)
	}
	poll(t, "every run stopped", func() bool {
		st := statusOf(t, socket)["many"]
		return st.State == "stopped" && st.Cron.ExtraRuns == 0 && countMarks(t, marks, "many-term") == countMarks(t, marks, "many-start")
	})
	started := countMarks(t, marks, "many-start")
	r = runCtl(t, socket, "start", "many")
	if r.code != 0 {
		t.Fatalf("start: %d %q", r.code, r.stderr)
	}
	poll(t, "a run after the start", func() bool { return countMarks(t, marks, "many-start") > started })
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
}

package e2e

import (
	"math"
	"syscall"
	"testing"
	"time"
)

// TestCronMetrics: the cron series checked by value against the jobs' own record (uno ctl
// status) and their runs' marks, for a per-second job that succeeds and fails in turn and one
// that outlasts its second (skips) and its timeout; the exposition passes promtool.
func TestCronMetrics(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	flip := script(t, dir, "flip.sh", `#!/bin/sh
n=$(cat "$MARKS" 2>/dev/null | grep -c '^flip-')
if [ $((n % 2)) = 0 ]; then echo flip-fail >> "$MARKS"; exit 1; fi
echo flip-ok >> "$MARKS"
`)
	p, marks, socket, _ := startControlled(t, `
[services.flip]
type = "cron"
schedule = "* * * * * *"
command = ["`+flip+`"]

[services.slow]
type = "cron"
schedule = "* * * * * *"
timeout = "1500ms"
stop_timeout = "200ms"
command = ["sleep", "100"]
`)
	metricsNow := func() (map[string]float64, string) {
		r := runCtl(t, socket, "metrics")
		if r.code != 0 {
			t.Fatalf("ctl metrics: %d %s", r.code, r.stderr)
		}
		return parseSamples(t, r.stdout), r.stdout
	}
	poll(t, "flip: 2 successes, 2 failures; slow: a timeout, a skip, a run going", func() bool {
		st := statusOf(t, socket)
		f, s := st["flip"].Cron, st["slow"].Cron
		return f != nil && s != nil && countMarks(t, marks, "flip-ok") >= 2 && countMarks(t, marks, "flip-fail") >= 2 &&
			s.Timeouts >= 1 && s.Skips >= 1 && st["slow"].State == "running"
	})

	// While scheduled: the next run is the status's, within the next second or so.
	poll(t, "the next run in the metrics and the status alike", func() bool {
		got, _ := metricsNow()
		st := statusOf(t, socket)
		for _, name := range []string{"flip", "slow"} {
			next, ok := got[`uno_cron_next_run_timestamp_seconds{service="`+name+`"}`]
			if !ok || st[name].Cron.NextRun.IsZero() || !near(next, epoch(st[name].Cron.NextRun)) {
				return false
			}
			if ahead := next - epoch(time.Now()); ahead < -5 || ahead > 1.5 {
				t.Errorf("%s: next run %.3f s from now", name, ahead)
			}
		}
		return true
	})
	// A job between runs is in state scheduled, as the status says.
	poll(t, "flip scheduled in the metrics", func() bool {
		before := statusOf(t, socket)["flip"]
		got, _ := metricsNow()
		after := statusOf(t, socket)["flip"]
		if before.State != "scheduled" || after.State != "scheduled" || before.Cron.Runs != after.Cron.Runs {
			return false // it ran meanwhile: try again
		}
		if v := got[`uno_service_state{service="flip",state="scheduled"}`]; v != 1 {
			t.Fatalf("flip scheduled, its state series %v", v)
		}
		return true
	})
	_, text := metricsNow()
	promtoolCheck(t, text)

	// Stop both (slow in its run, flip between two): the record no longer moves.
	poll(t, "flip between runs, slow early in one", func() bool {
		st := statusOf(t, socket)
		return st["flip"].State == "scheduled" && st["slow"].State == "running" && time.Since(st["slow"].StartedAt) < 700*time.Millisecond
	})
	if r := runCtl(t, socket, "stop", "flip", "slow"); r.code != 0 {
		t.Fatalf("stop: %d %s", r.code, r.stderr)
	}
	waitState(t, socket, "flip", "stopped")
	waitState(t, socket, "slow", "stopped")
	got, text := metricsNow()
	st := statusOf(t, socket)
	ok, fail := countMarks(t, marks, "flip-ok"), countMarks(t, marks, "flip-fail")
	fj, sj := st["flip"].Cron, st["slow"].Cron
	want := map[string]float64{
		`uno_cron_runs_total{service="flip",result="success"}`: float64(ok),
		`uno_cron_runs_total{service="flip",result="failure"}`: float64(fail),
		`uno_cron_runs_total{service="flip",result="timeout"}`: 0,
		// A stop the moment a run began would end it stopped, without a mark.
		`uno_cron_runs_total{service="flip",result="stopped"}`: float64(fj.Runs - ok - fail),
		`uno_cron_skips_total{service="flip"}`:                 0,
		`uno_cron_runs_total{service="slow",result="success"}`: 0,
		`uno_cron_runs_total{service="slow",result="failure"}`: 0,
		`uno_cron_runs_total{service="slow",result="timeout"}`: float64(sj.Timeouts),
		`uno_cron_runs_total{service="slow",result="stopped"}`: 1,
		`uno_cron_skips_total{service="slow"}`:                 float64(sj.Skips),
	}
	for series, v := range want {
		if g, found := got[series]; !found || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, found, v)
		}
	}
	for _, name := range []string{"flip", "slow"} {
		j := st[name].Cron
		if last := got[`uno_cron_last_run_timestamp_seconds{service="`+name+`"}`]; j.LastRunStart.IsZero() || !near(last, epoch(j.LastRunStart)) {
			t.Errorf("%s: last run %v, status %v", name, last, j.LastRunStart)
		}
		if _, found := got[`uno_cron_next_run_timestamp_seconds{service="`+name+`"}`]; found {
			t.Errorf("%s: a next run once stopped", name)
		}
		if ended := got[`uno_cron_runs_total{service="`+name+`",result="success"}`] + got[`uno_cron_runs_total{service="`+name+`",result="failure"}`] +
			got[`uno_cron_runs_total{service="`+name+`",result="timeout"}`] + got[`uno_cron_runs_total{service="`+name+`",result="stopped"}`]; ended != float64(j.Runs) {
			t.Errorf("%s: %v runs ended, status counts %d started", name, ended, j.Runs)
		}
		if f := got[`uno_cron_runs_total{service="`+name+`",result="failure"}`] + got[`uno_cron_runs_total{service="`+name+`",result="timeout"}`]; f != float64(j.Failures) {
			t.Errorf("%s: failure+timeout %v, status failures %d", name, f, j.Failures)
		}
	}
	if fail < 2 || ok < 2 || sj.Timeouts < 1 || sj.Skips < 1 {
		t.Errorf("scenario: %d ok, %d fail, slow %+v", ok, fail, *sj)
	}
	promtoolCheck(t, text)
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// near: two renderings of one time agree to the microsecond.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

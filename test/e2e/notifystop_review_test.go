package e2e

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// Review of the STOPPING=1 deadline (notifystop.go) from its give-up path: a run that said
// STOPPING=1, hung, and then survived the SIGKILL (frozen by a cgroup v1 freezer, state D: the
// process a stop can never end) is given up on after the bounded wait. The run still counts
// as failed, as the run that died of the SIGKILL does: the restart policy decides, and an
// essential service takes the container with it. Before, the give-up made it "stopped", as if
// an operator had stopped it: no restart, and an essential service's end did not end the
// container.

// selfStopFrozen starts conf's service app (whose first run writes its pid to @DIR@/pid, then
// says STOPPING=1 and marks "stopping"; a later run only marks "up"), freezes its run once it said STOPPING=1, and returns uno
// with the frozen run's pid (stop_timeout is 3 s: the freeze must come before the SIGKILL). The
// run is thawed (and killed) at the end of the test.
func selfStopFrozen(t *testing.T, conf string, args ...string) (*proc, string, int) {
	t.Helper()
	p, marks := startServices(t, startOpts{mode: asSubreaper}, conf, args...)
	cg := freezerCgroup(t) // after uno: its cleanup (the thaw) runs first
	waitMark(t, marks, "stopping")
	return p, marks, freezeService(t, cg, marks)
}

const selfStopFrozenCommand = `command = ["sh", "-c", 'if [ -e @DIR@/pid ]; then echo up >> "$MARKS"; exec sleep 1000; fi; echo $$$$ > @DIR@/pid; echo up >> "$MARKS"; systemd-notify --ready; systemd-notify STOPPING=1; echo stopping >> "$MARKS"; exec sleep 1000']
ready = { notify = true, timeout = "30s" }
stop_timeout = "3s"
`

// TestNotifyStoppingSurvivesKillIsRestarted: restart = "on-failure" restarts it, and the run's
// end is counted (uno_service_exits_total, reason "failed", as for the run the SIGKILL ends).
func TestNotifyStoppingSurvivesKillIsRestarted(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, marks, _ := selfStopFrozen(t, `
[services.app]
`+selfStopFrozenCommand+`
restart = "on-failure"
restart_delay = "50ms"
`, "--http", addr, "--no-socket")
	waitLog(t, p, `service's process survived SIGKILL.*service=app`)
	poll(t, "app's second run", func() bool {
		n := 0
		for _, m := range readMarks(t, marks) {
			if m == "up" {
				n++
			}
		}
		return n >= 2
	})
	code, _, body := httpGet(t, addr, "/metrics")
	if got := parseSamples(t, body)[`uno_service_exits_total{service="app",reason="failed"}`]; code != 200 || got < 1 {
		t.Errorf("/metrics %d: the given-up run counted %v times as failed, want at least once", code, got)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

// TestNotifyStoppingSurvivesKillEssentialEnds: an essential service (restart = "no") that is
// given up on ends the container, with a failure status.
func TestNotifyStoppingSurvivesKillEssentialEnds(t *testing.T) {
	needRoot(t)
	p, _, _ := selfStopFrozen(t, `
[services.app]
`+selfStopFrozenCommand+`
essential = true

[services.other]
command = ["sleep", "1000"]
`)
	waitLog(t, p, `service's process survived SIGKILL.*service=app`)
	select {
	case <-p.exited:
	case <-time.After(deadline):
		t.Fatalf("uno still running %v after its essential service was given up on:\n%s", deadline, p.stderr.String())
	}
	if code := p.wait(); code == 0 {
		t.Errorf("uno exited 0 after its essential service failed:\n%s", p.stderr.String())
	}
}

// TestNotifyStoppingHealthHeld: a run that said STOPPING=1 and then fails its exec health check
// (it stops serving as it stops) and ends by itself, with 0, within stop_timeout, ends "with its
// own status" (docs/services.md): restart = "on-failure" does not restart it. The health check
// must not turn the stop it announced into an unhealthy run that on_failure = "restart"
// restarts, as the watchdog is held for it.
func TestNotifyStoppingHealthHeld(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", 'systemd-notify --ready; systemd-notify STOPPING=1; while [ ! -e "$MARKS.go" ]; do sleep 0.02; done; touch "$MARKS.sick"; sleep 1; exit 0']
ready = { notify = true, timeout = "30s" }
health = { exec = ["sh", "-c", "test ! -e \"$MARKS.sick\""], interval = "50ms", failures = 2, on_failure = "restart" }
stop_timeout = "10s"
restart = "on-failure"
essential = false

[services.keep]
command = ["sleep", "1000"]
`)
	waitLog(t, p, `service said it is stopping.*service=app`)
	// Only now does its check fail (20 checks in the second it goes on): one that failed before
	// the STOPPING=1 was read would be an ordinary unhealthy run.
	if err := os.WriteFile(marks+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, `service (exited|stopped) service=app`)
	s := statusOf(t, socket)["app"]
	if s.LastExit == nil || s.LastExit.Code != 0 || s.Restarts != 0 || s.State != "exited" {
		t.Errorf("%+v, want its own exit 0, exited, no restart:\n%s", s, p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A run that says STOPPING=1 without uno asking it to stop gets its stop_timeout to end, as
// under systemd; then uno kills it and the run counts as failed (notifystop.go). Before, its
// watchdog was held and nothing else watched it: a service that announced its stop and hung
// stayed not ready for ever, never restarted.

// TestNotifyStoppingHungIsKilled: STOPPING=1, then the service hangs, ignoring SIGTERM. It is
// not killed before stop_timeout, it is killed after, and restart = "on-failure" restarts it.
func TestNotifyStoppingHungIsKilled(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", 'trap "" TERM; systemd-notify --ready; sleep 0.2; systemd-notify STOPPING=1; while :; do sleep 0.05; done']
ready = { notify = true, timeout = "30s" }
health = { watchdog = "10s" }
stop_timeout = "800ms"
restart = "on-failure"
restart_delay = "50ms"
`)
	first := waitState(t, socket, "app", "running")
	waitLog(t, p, `service said it is stopping; it has stop_timeout to end.*service=app`)
	announced := time.Now()
	// Half the timeout later it still runs: the deadline is stop_timeout, not at once.
	time.Sleep(400 * time.Millisecond)
	if s := statusOf(t, socket)["app"]; s.Pid != first.Pid || s.State != "running" {
		t.Fatalf("half of stop_timeout after STOPPING=1: %+v, want the first run still running:\n%s", s, p.stderr.String())
	}
	waitLog(t, p, `service said STOPPING=1 and did not end within stop_timeout; killing it.*service=app`)
	if took := time.Since(announced); took < 800*time.Millisecond-50*time.Millisecond {
		t.Errorf("killed %v after the test saw STOPPING=1, before its stop_timeout of 800ms", took)
	}
	poll(t, "app restarted", func() bool {
		s := statusOf(t, socket)["app"]
		return s.Restarts >= 1 && s.Pid != first.Pid && s.Pid != 0
	})
	s := statusOf(t, socket)["app"]
	if s.LastExit == nil || s.LastExit.Code != 128+int(syscall.SIGKILL) {
		t.Errorf("last exit %+v, want the SIGKILL", s.LastExit)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

// TestNotifyStoppingThenExits: a run that says STOPPING=1 and ends by itself in time is not
// killed; its exit is its own (0 here: restart = "on-failure" does not restart it).
func TestNotifyStoppingThenExits(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", 'systemd-notify --ready; sleep 0.2; systemd-notify STOPPING=1; sleep 0.3; exit 0']
ready = { notify = true, timeout = "30s" }
stop_timeout = "2s"
restart = "on-failure"
essential = false

[services.keep]
command = ["sleep", "1000"]
`)
	waitLog(t, p, `service said it is stopping.*service=app`)
	s := waitState(t, socket, "app", "exited")
	if s.LastExit == nil || s.LastExit.Code != 0 || s.Restarts != 0 {
		t.Errorf("%+v, want its own exit 0 and no restart:\n%s", s, p.stderr.String())
	}
	// Past the stop_timeout the ended run's deadline does nothing.
	time.Sleep(2200 * time.Millisecond)
	if strings.Contains(p.stderr.String(), "did not end within stop_timeout") {
		t.Errorf("a run that ended was still killed at its deadline:\n%s", p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestNotifyStoppingExtended: EXTEND_TIMEOUT_USEC= pushes the deadline of a stop the run
// announced, as it does one uno started.
func TestNotifyStoppingExtended(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", 'systemd-notify --ready; systemd-notify STOPPING=1; systemd-notify EXTEND_TIMEOUT_USEC=30000000; while [ ! -e "$MARKS.go" ]; do sleep 0.02; done; exit 3']
ready = { notify = true, timeout = "30s" }
stop_timeout = "300ms"
essential = false

[services.keep]
command = ["sleep", "1000"]
`)
	waitLog(t, p, `service extended its stop timeout.*service=app`)
	extended := time.Now()
	untilPast(extended, 900*time.Millisecond) // three times stop_timeout
	if s := statusOf(t, socket)["app"]; s.State != "running" {
		t.Fatalf("state %q past stop_timeout with the extension, want running:\n%s", s.State, p.stderr.String())
	}
	if err := os.WriteFile(marks+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := waitState(t, socket, "app", "failed")
	if s.LastExit == nil || s.LastExit.Code != 3 {
		t.Errorf("last exit %+v, want its own exit 3 (not a SIGKILL):\n%s", s.LastExit, p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

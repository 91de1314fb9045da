package e2e

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run systemd's own systemd-notify inside the services: EXTEND_TIMEOUT_USEC= and
// MAINPID= as a real client sends them. uno expands $VAR in commands: $$ is the shell's $.

// untilPast waits until d has passed since since: the deadline under test must have gone by.
func untilPast(since time.Time, d time.Duration) { time.Sleep(time.Until(since.Add(d))) }

// TestNotifyExtendReadiness: a notify service that asks for more time is not stopped at its
// readiness timeout, and becomes ready when it says READY=1.
func TestNotifyExtendReadiness(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.slow]
command = ["sh", "-c", 'systemd-notify EXTEND_TIMEOUT_USEC=30000000; while [ ! -e "$MARKS.go" ]; do sleep 0.02; done; systemd-notify --ready; exec sleep 1000']
ready = { notify = true, timeout = "300ms" }
`)
	waitLog(t, p, `service extended its readiness timeout.*service=slow`)
	extended := time.Now()
	untilPast(extended, 900*time.Millisecond) // three times the configured timeout
	if s := statusOf(t, socket)["slow"]; s.State != "starting" {
		t.Fatalf("state %q past the configured readiness timeout, want starting:\n%s", s.State, p.stderr.String())
	}
	if err := os.WriteFile(marks+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitState(t, socket, "slow", "running")
	if strings.Contains(p.stderr.String(), "did not become ready") {
		t.Errorf("readiness timed out despite EXTEND_TIMEOUT_USEC=:\n%s", p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// stopExtender traps SIGTERM, asks for more time to stop, and exits 3 once $MARKS.go exists.
const stopExtender = `trap 'systemd-notify EXTEND_TIMEOUT_USEC=%s; while [ ! -e "$MARKS.go" ]; do sleep 0.02; done; exit 3' TERM; systemd-notify --ready; while :; do sleep 0.02; done`

// TestNotifyExtendStop: a service being stopped that asks for more time is not killed at its
// stop_timeout; its clean exit is its own.
func TestNotifyExtendStop(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", '''`+strings.Replace(stopExtender, "%s", "30000000", 1)+`''']
ready = { notify = true, timeout = "30s" }
stop_timeout = "300ms"
kill_mode = "mixed"
`)
	waitState(t, socket, "app", "running")
	if r := runCtl(t, socket, "stop", "--no-wait", "app"); r.code != 0 {
		t.Fatalf("stop --no-wait: %d %s", r.code, r.stderr)
	}
	waitLog(t, p, `service extended its stop timeout.*service=app`)
	extended := time.Now()
	untilPast(extended, 900*time.Millisecond)
	if s := statusOf(t, socket)["app"]; s.State != "stopping" {
		t.Fatalf("state %q past stop_timeout, want stopping:\n%s", s.State, p.stderr.String())
	}
	if err := os.WriteFile(marks+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := waitState(t, socket, "app", "stopped")
	if s.LastExit == nil || s.LastExit.Code != 3 {
		t.Errorf("last exit %+v, want its own exit 3 (not a SIGKILL):\n%s", s.LastExit, p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestNotifyExtendStopWithinGrace: an extension never takes uno past its grace and margin.
func TestNotifyExtendStopWithinGrace(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[uno]
grace = "1s"

[services.app]
command = ["sh", "-c", '''`+strings.Replace(stopExtender, "%s", "60000000", 1)+`''']
ready = { notify = true, timeout = "30s" }
stop_timeout = "300ms"
`)
	waitState(t, socket, "app", "running")
	began := time.Now()
	p.signal(syscall.SIGTERM)
	waitLog(t, p, `service extended its stop timeout.*service=app`)
	p.wait()
	// grace 1s + uno's exit margin 500ms; a second more for a loaded machine's exit.
	if took := time.Since(began); took > 2500*time.Millisecond {
		t.Errorf("uno took %v to exit with grace = 1s:\n%s", took, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "killing") {
		t.Errorf("the service was not killed at the grace:\n%s", p.stderr.String())
	}
}

// TestNotifyMainPid: MAINPID= of a descendant is taken (status shows it, and kill_mode =
// "mixed" stops it instead of the started process); of a stranger (another service's process,
// uno itself, pid 1) it is refused with a warning.
func TestNotifyMainPid(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.other]
command = ["sh", "-c", 'echo $$$$ > "$MARKS.other.tmp"; mv "$MARKS.other.tmp" "$MARKS.other"; exec sleep 1000']

[services.app]
command = ["sh", "-c", 'while [ ! -e "$MARKS.other" ]; do sleep 0.02; done; systemd-notify MAINPID=$$(cat "$MARKS.other"); systemd-notify MAINPID=$$PPID; systemd-notify MAINPID=1; sleep 1000 & systemd-notify MAINPID=$$!; systemd-notify --ready; wait; exit 7']
ready = { notify = true, timeout = "30s" }
kill_mode = "mixed"
`)
	s := waitState(t, socket, "app", "running")
	data, err := os.ReadFile(marks + ".other")
	if err != nil {
		t.Fatal(err)
	}
	other := strings.TrimSpace(string(data))
	for _, stranger := range []string{other, "1"} { // uno is pid 1 here: $PPID and 1 alike
		waitLog(t, p, `MAINPID= is not a process of the service's run; ignored.*service=app mainpid=`+stranger+` `)
	}
	// $PPID and 1 are the same value: said once.
	if n := strings.Count(p.stderr.String(), "MAINPID= is not a process"); n != 2 {
		t.Errorf("%d refusals, want 2:\n%s", n, p.stderr.String())
	}
	if s.MainPid == 0 || s.MainPid == s.Pid || strconv.Itoa(s.MainPid) == other {
		t.Fatalf("main_pid %d (pid %d, other %s), want the service's sleep", s.MainPid, s.Pid, other)
	}
	if r := runCtl(t, socket, "status"); !strings.Contains(r.stdout, "(main "+strconv.Itoa(s.MainPid)+")") {
		t.Errorf("status table lacks the main pid:\n%s", r.stdout)
	}
	// kill_mode = "mixed": the stop signal goes to the main process; the shell outlives it.
	runCtl(t, socket, "stop", "app")
	s = waitState(t, socket, "app", "stopped")
	if s.LastExit == nil || s.LastExit.Code != 7 {
		t.Errorf("last exit %+v, want 7: SIGTERM to the main process only:\n%s", s.LastExit, p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestNotifyExtendWatchdog: an EXTEND_TIMEOUT_USEC= while the watchdog runs holds its deadlines
// off for that long; the pings that follow keep it healthy.
func TestNotifyExtendWatchdog(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", 'systemd-notify EXTEND_TIMEOUT_USEC=2000000; while [ ! -e "$MARKS.go" ]; do sleep 0.02; done; while :; do systemd-notify WATCHDOG=1; sleep 0.1; done']
health = { watchdog = "300ms" }
`)
	waitLog(t, p, `service extended its watchdog deadline.*service=app`)
	extended := time.Now()
	untilPast(extended, 900*time.Millisecond) // three periods without a ping
	if s := statusOf(t, socket)["app"]; s.Restarts != 0 || s.Health == "unhealthy" || strings.Contains(p.stderr.String(), "health check failed") {
		t.Fatalf("watchdog judged within the extension: %+v\n%s", s, p.stderr.String())
	}
	if err := os.WriteFile(marks+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "healthy", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

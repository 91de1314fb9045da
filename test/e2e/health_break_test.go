package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// Attempts to break health checks: an operator's restart while uno stops an unhealthy run, and
// a reload that changes a health check while one runs.

// TestHealthRestartDuringTheUnhealthyStop: uno ctl restart while an unhealthy run is still
// stopping (it takes 300ms after SIGTERM) takes it over: one new run, started once the old one
// has ended, not also the restart policy's.
func TestHealthRestartDuringTheUnhealthyStop(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["@TESTPROG@", "trap-term", "${MARKS}.finished"]
health = { exec = ["sh", "-c", "test ! -e \"$MARKS.sick\""], interval = "20ms", failures = 1 }
restart_delay = "10ms"
`)
	poll(t, "healthy", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
	first := statusOf(t, socket)["app"].Pid
	if err := os.WriteFile(marks+".sick", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitState(t, socket, "app", "stopping")
	if err := os.Remove(marks + ".sick"); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "restart", "app"); r.code != 0 {
		t.Fatalf("restart during the unhealthy stop: %d %s", r.code, r.stderr)
	}
	s := statusOf(t, socket)["app"]
	if s.State != "running" || s.Pid == first {
		t.Errorf("after the restart: %+v", s)
	}
	if _, err := os.Stat(marks + ".finished"); err != nil {
		t.Errorf("the new run started before the old one had finished stopping: %v", err)
	}
	poll(t, "healthy again", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
	log := p.stderr.String()
	if strings.Contains(log, "restarting service") || strings.Contains(log, "illegal") {
		t.Errorf("the restart policy restarted it as well, or the state machine refused a move:\n%s", log)
	}
	if n := strings.Count(log, "service started"); n != 2 {
		t.Errorf("%d runs started, want 2:\n%s", n, log)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestHealthReloadWhileACheckRuns: a reload that changes the health check while a check is under
// way restarts the service with the new check; the old check's late result is not heard.
func TestHealthReloadWhileACheckRuns(t *testing.T) {
	needRoot(t)
	p, marks, socket, cfgPath := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["sh", "-c", "echo started >> \"$MARKS.checks\"; sleep 0.5; exit 1"], interval = "10ms", timeout = "5s", failures = 1, on_failure = "ignore" }
`)
	poll(t, "a check under way", func() bool { data, _ := os.ReadFile(marks + ".checks"); return len(data) > 0 })
	conf := `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["true"], interval = "20ms" }
`
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "reload"); r.code != 0 || !strings.Contains(r.stdout, "changed: app") {
		t.Fatalf("reload: %d %q %s", r.code, r.stdout, r.stderr)
	}
	poll(t, "healthy under the new check", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
	// The old check, killed with its run, never counted.
	data, _ := os.ReadFile(marks + ".checks")
	if n := strings.Count(string(data), "started"); n != 1 {
		t.Errorf("%d old checks ran", n)
	}
	if strings.Contains(p.stderr.String(), "service unhealthy") {
		t.Errorf("the old check's result was heard:\n%s", p.stderr.String())
	}
	if s := statusOf(t, socket)["app"]; s.HealthFailures != 0 || s.State != "running" {
		t.Errorf("after the reload: %+v", s)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestHealthWatchdogSocketIsNotReadiness: a service whose notify socket is there for its
// watchdog, with a readiness check of another kind, is not made ready by a READY=1 on it.
func TestHealthWatchdogSocketIsNotReadiness(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["python3", "-c", """
import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1\\nSTATUS=first", os.environ["NOTIFY_SOCKET"])
time.sleep(0.05)
s.sendto(b"STATUS=second", os.environ["NOTIFY_SOCKET"])
while True:
    s.sendto(b"WATCHDOG=1", os.environ["NOTIFY_SOCKET"])
    time.sleep(0.05)
"""]
ready = { file = "${MARKS}.ready", interval = "20ms" }
health = { watchdog = "1s" }
`)
	// The second message was handled after the first one's READY=1.
	poll(t, "both messages handled", func() bool { return statusOf(t, socket)["app"].Status == "second" })
	if s := statusOf(t, socket)["app"]; s.State != "starting" {
		t.Fatalf("READY=1 on the watchdog's socket made it %s", s.State)
	}
	if err := os.WriteFile(marks+".ready", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "ready by its file", func() bool { return statusOf(t, socket)["app"].State == "running" })
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestOperatorStopDuringAnUnhealthyOrNotReadyStop: uno ctl stop while uno is stopping a run
// for its health, or because it was not ready in time, is the operator's: the run ends stopped,
// and no restart follows (fresh-eyes review: the readiness path restarted it).
func TestOperatorStopDuringAnUnhealthyOrNotReadyStop(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct{ name, check string }{
		{"unhealthy", `health = { exec = ["sh", "-c", "test ! -e \"$MARKS.sick\""], interval = "20ms", failures = 1 }`},
		{"not-ready", `ready = { exec = ["false"], interval = "20ms", timeout = "300ms" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["@TESTPROG@", "trap-term", "${MARKS}.finished"]
restart = "always"
restart_delay = "10ms"
`+tc.check+"\n")
			if tc.name == "unhealthy" {
				poll(t, "healthy", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
			}
			if err := os.WriteFile(marks+".sick", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitState(t, socket, "app", "stopping")
			if r := runCtl(t, socket, "stop", "app"); r.code != 0 {
				t.Fatalf("stop during the stop: %d %s", r.code, r.stderr)
			}
			waitState(t, socket, "app", "stopped")
			log := p.stderr.String()
			if strings.Contains(log, "restarting service") {
				t.Errorf("restarted after the operator's stop:\n%s", log)
			}
			p.signal(syscall.SIGTERM)
			p.expectExit(0)
		})
	}
}

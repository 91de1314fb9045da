package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Health checks: a service that hangs while alive is found out after `failures` checks and
// restarted; on_failure = stop ends the container; ignore flips readiness back and forth;
// start_period holds the count; a check that hangs is cut at its timeout. docs/services.md's
// table of ready, healthy and alive has a test for each row here.

// waitLog polls until uno's log (its stderr) matches pattern.
func waitLog(t *testing.T, p *proc, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	poll(t, "log "+pattern, func() bool { return re.MatchString(p.stderr.String()) })
}

// ctlCode is uno ctl's exit status for args.
func ctlCode(t *testing.T, socket string, args ...string) int {
	t.Helper()
	return runCtl(t, socket, args...).code
}

func TestHealthHangingServiceIsRestarted(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, marks, socket, _ := startControlled(t, fmt.Sprintf(`
[services.api]
command = ["@TESTPROG@", "serve-health", "%[1]s", "${MARKS}", "${MARKS}.hang"]
ready = { tcp = "%[1]s", interval = "20ms" }
health = { http = "http://%[1]s/healthz", interval = "100ms", timeout = "300ms", failures = 3 }
restart_delay = "50ms"
`, addr))
	poll(t, "api healthy", func() bool { return statusOf(t, socket)["api"].Health == "healthy" })
	if c := ctlCode(t, socket, "ready"); c != 0 {
		t.Fatalf("ready while healthy: %d", c)
	}
	first := statusOf(t, socket)["api"]

	// It hangs: alive, its port open, no answer.
	if err := os.WriteFile(marks+".hang", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Each step shows, in uno's log and in uno ctl status.
	waitLog(t, p, `health check failed.*service=api failures=1 of=3 err="no answer within the timeout \(300ms\)`)
	// Fewer than failures in a row: still ready (one snapshot says both).
	poll(t, "status shows a failure", func() bool {
		s := statusOf(t, socket)["api"]
		if s.Restarts == 0 && (s.HealthFailures == 1 || s.HealthFailures == 2) {
			if !s.Ready || s.Health != "healthy" || !strings.Contains(s.HealthError, "no answer within the timeout") {
				t.Errorf("with %d failures: %+v", s.HealthFailures, s)
			}
			return true
		}
		if s.Health == "unhealthy" || s.State != "running" || s.Restarts > 0 {
			t.Logf("the window of 1-2 failures went unseen (a loaded machine): %+v", s)
			return true
		}
		return false
	})
	waitLog(t, p, `service=api failures=2 of=3`)
	waitLog(t, p, `service unhealthy; stopping it.*service=api failures=3`)
	// The new run must answer: the hang ends with the run it was meant for.
	if err := os.Remove(marks + ".hang"); err != nil {
		t.Fatal(err)
	}
	poll(t, "api restarted and healthy", func() bool {
		s := statusOf(t, socket)["api"]
		return s.Restarts == 1 && s.Health == "healthy" && s.State == "running"
	})
	s := statusOf(t, socket)["api"]
	if s.Pid == first.Pid || s.HealthFailures != 0 || s.HealthError != "" {
		t.Errorf("after the restart: %+v (first run's pid %d)", s, first.Pid)
	}
	if s.LastExit == nil || s.LastExit.Code != 1 || !strings.Contains(s.LastExit.Description, "unhealthy: no answer") {
		t.Errorf("last exit of the unhealthy run: %+v", s.LastExit)
	}
	if got := strings.Count(p.stderr.String(), "restarting service"); got != 1 {
		t.Errorf("%d restarts logged, want 1", got)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestHealthUnhealthyRestartCountsForTheLimit: unhealthy runs count as failures for
// restart_limit, even under restart = "no" (on_failure decides), until uno gives up.
func TestHealthUnhealthyRestartCountsForTheLimit(t *testing.T) {
	needRoot(t)
	p, _, _, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["false"], interval = "20ms", failures = 1 }
restart_limit = 2
restart_delay = "10ms"
`)
	p.expectExit(1)
	log := p.stderr.String()
	if n := strings.Count(log, "service unhealthy; stopping it"); n != 3 {
		t.Errorf("%d unhealthy stops, want 3 (two restarts, then the limit)", n)
	}
	if !strings.Contains(log, "service is restarting too often; giving up") {
		t.Errorf("no give-up in the log:\n%s", log)
	}
}

func TestHealthOnFailureStopEndsTheContainer(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["sh", "-c", "test ! -e \"$MARKS.sick\""], interval = "50ms", failures = 2, on_failure = "stop" }
restart = "always"
`)
	poll(t, "app healthy", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
	if err := os.WriteFile(marks+".sick", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Status 1, as for a service that never became ready; restart = "always" does not apply.
	p.expectExit(1)
	log := p.stderr.String()
	for _, want := range []string{"service unhealthy; stopping it", "on_failure=stop", "essential service ended; stopping the container", "service=app status=1 state=failed"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "restarting service") {
		t.Errorf("on_failure = stop restarted it:\n%s", log)
	}
}

func TestHealthIgnoreFlipsReadiness(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["sh", "-c", "test ! -e \"$MARKS.sick\""], interval = "30ms", failures = 2, on_failure = "ignore" }
`)
	for round := 0; round < 2; round++ {
		poll(t, "ready and healthy", func() bool {
			return ctlCode(t, socket, "ready") == 0 && ctlCode(t, socket, "health") == 0
		})
		if err := os.WriteFile(marks+".sick", nil, 0o644); err != nil {
			t.Fatal(err)
		}
		poll(t, "not ready, not healthy", func() bool {
			return ctlCode(t, socket, "ready") == 1 && ctlCode(t, socket, "health") == 1
		})
		s := statusOf(t, socket)["app"]
		if s.State != "running" || s.Health != "unhealthy" || s.Ready || s.Pid == 0 {
			t.Errorf("round %d, unhealthy: %+v", round, s)
		}
		if r := runCtl(t, socket, "health"); !strings.Contains(r.stdout, "unhealthy: app is unhealthy (") {
			t.Errorf("health says %q", r.stdout)
		}
		if err := os.Remove(marks + ".sick"); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "ready again", func() bool { return ctlCode(t, socket, "ready") == 0 })
	if s := statusOf(t, socket)["app"]; s.Restarts != 0 {
		t.Errorf("ignore restarted it: %+v", s)
	}
	if n := strings.Count(p.stderr.String(), "service healthy again"); n < 2 {
		t.Errorf("%d 'healthy again' lines, want 2", n)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestHealthStartPeriod(t *testing.T) {
	needRoot(t)
	const startPeriod = 800 * time.Millisecond
	p, _, socket, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["false"], interval = "50ms", failures = 2, start_period = "800ms", on_failure = "ignore" }
`)
	waitLog(t, p, `service=app`) // started
	var readyAt time.Time
	poll(t, "app running", func() bool {
		s := statusOf(t, socket)["app"]
		if s.State == "running" {
			readyAt = time.Now()
		}
		return s.State == "running"
	})
	// Inside the start period the failures show, but do not count: ready, health "starting".
	s := statusOf(t, socket)["app"]
	if time.Since(readyAt) < startPeriod/2 && (s.Health != "starting" || s.HealthFailures != 0 || !s.Ready) {
		t.Errorf("in the start period: %+v", s)
	}
	poll(t, "unhealthy", func() bool { return statusOf(t, socket)["app"].Health == "unhealthy" })
	// readyAt is later than the run became ready: the period, at least, had to pass.
	if took := time.Since(readyAt); took < startPeriod-100*time.Millisecond {
		t.Errorf("unhealthy %v after ready, within start_period %v", took, startPeriod)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestHealthCheckHangingPastItsTimeout: a check that never ends is killed at its timeout and
// counted as a failure; the next starts only after it.
func TestHealthCheckHangingPastItsTimeout(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
health = { exec = ["sh", "-c", "echo x >> \"$MARKS.checks\"; exec sleep 1001"], interval = "20ms", timeout = "100ms", failures = 3, on_failure = "ignore" }
`)
	poll(t, "unhealthy", func() bool { return statusOf(t, socket)["app"].Health == "unhealthy" })
	s := statusOf(t, socket)["app"]
	if !strings.Contains(s.HealthError, "no answer within the timeout (100ms)") {
		t.Errorf("health error %q", s.HealthError)
	}
	// Every check was killed at its timeout: one runs at a time, and none is left over.
	data, _ := os.ReadFile(marks + ".checks")
	checks := strings.Count(string(data), "x")
	if checks < 3 {
		t.Fatalf("%d checks ran", checks)
	}
	if running := countCommands(t, "sleep\x001001\x00"); running > 1 {
		t.Errorf("%d of %d hanging checks still run", running, checks)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// countCommands counts the live processes whose /proc/PID/cmdline is cmdline.
func countCommands(t *testing.T, cmdline string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && string(data) == cmdline && alive(atoiT(t, e.Name())) {
			n++
		}
	}
	return n
}

func TestHealthWatchdog(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["@TESTPROG@", "watchdog", "${MARKS}"]
health = { watchdog = "200ms" }
restart_delay = "10ms"
`)
	waitMark(t, marks, "watchdog_200000")
	poll(t, "STATUS= in uno ctl status", func() bool { return statusOf(t, socket)["app"].Status == "pinging" })
	if r := runCtl(t, socket, "status"); !strings.Contains(r.stdout, "pinging") {
		t.Errorf("status table lacks the service's STATUS=:\n%s", r.stdout)
	}
	// Pinging keeps it healthy over several periods.
	poll(t, "healthy", func() bool { return statusOf(t, socket)["app"].Health == "healthy" })
	first := statusOf(t, socket)["app"]
	// It stops pinging: restarted (on_failure = restart by default), with restart = "no".
	if err := os.WriteFile(marks+".stop", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, `service unhealthy; stopping it.*service=app failures=1 on_failure=restart last_error="no WATCHDOG=1 within 200ms"`)
	if err := os.Remove(marks + ".stop"); err != nil {
		t.Fatal(err)
	}
	poll(t, "restarted and healthy", func() bool {
		s := statusOf(t, socket)["app"]
		return s.Restarts == 1 && s.Health == "healthy" && s.Pid != first.Pid
	})
	// WATCHDOG=trigger: unhealthy at once.
	if err := os.WriteFile(marks+".trigger", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, `service unhealthy; stopping it.*last_error="the service sent WATCHDOG=trigger"`)
	poll(t, "restarted again", func() bool { return statusOf(t, socket)["app"].Restarts == 2 })
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestHealthWatchdogFlood: a service that floods its notify socket does not hold uno up: the
// control socket answers meanwhile, and the service's own pings still count.
func TestHealthWatchdogFlood(t *testing.T) {
	needRoot(t)
	socket := filepath.Join(socketDir(t), "uno.sock")
	p, marks := startServices(t, startOpts{mode: asPID1, env: []string{"FLOOD=200000"}}, `
[services.app]
command = ["@TESTPROG@", "watchdog", "${MARKS}"]
health = { watchdog = "300ms" }
`, "--socket", socket)
	waitMark(t, marks, "watchdog_300000")
	// Five deadlines after the flood, each met: the control socket answers all along.
	var m map[string]float64
	poll(t, "five watchdog deadlines", func() bool {
		r := runCtl(t, socket, "metrics")
		if r.code != 0 {
			return false
		}
		m = parseSamples(t, r.stdout)
		return m[`uno_health_check_duration_seconds_count{service="app"}`] >= 5
	})
	if f := m[`uno_health_check_failures_total{service="app"}`]; f != 0 || strings.Contains(p.stderr.String(), "service unhealthy") {
		t.Errorf("%v missed deadlines after a flood:\n%s", f, p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestNotifyUnsupportedFloodLogsOnce: a service that sends a refused MAINPID= in a flood gets
// one warning for its run, not one per datagram: uno's log is not the service's to fill
// (fresh-eyes review: 2,000 datagrams gave 2,000 warnings); an EXTEND_TIMEOUT_USEC= shorter than
// the next watchdog deadline changes nothing, and says nothing.
func TestNotifyUnsupportedFloodLogsOnce(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asPID1, env: []string{"FLOOD=2000", "FLOOD_MSG=MAINPID=1\nEXTEND_TIMEOUT_USEC=1\nWATCHDOG=1"}}, `
[services.app]
command = ["@TESTPROG@", "watchdog", "${MARKS}"]
health = { watchdog = "300ms" }
`, "--no-socket")
	waitMark(t, marks, "watchdog_300000")
	// The flood was sent before the mark; STATUS=pinging after it; its warning, once read.
	waitLog(t, p, "MAINPID= is not a process of the service's run")
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	if n := strings.Count(p.stderr.String(), "MAINPID= is not a process"); n != 1 {
		t.Errorf("%d warnings for one run's flood, want 1", n)
	}
	if strings.Contains(p.stderr.String(), "extended") {
		t.Errorf("a 1 µs extension was logged:\n%s", p.stderr.String())
	}
}

// TestNotifyTruncatedDatagramIgnored: a datagram longer than uno reads (4 KiB) is dropped, as
// systemd drops one, not read cut: here the cut turns READY=10 into READY=1 (fresh-eyes review:
// the service was made ready by a message it never sent).
func TestNotifyTruncatedDatagramIgnored(t *testing.T) {
	needRoot(t)
	msg := "X=" + strings.Repeat("x", 4096-len("X=")-len("\nREADY=1")) + "\nREADY=10\nSTATUS=long"
	socket := filepath.Join(socketDir(t), "uno.sock")
	p, _ := startServices(t, startOpts{mode: asPID1, env: []string{"FLOOD=1", "FLOOD_MSG=" + msg}}, `
[services.app]
command = ["@TESTPROG@", "watchdog", "${MARKS}"]
ready = { notify = true, timeout = "60s" }
health = { watchdog = "10s" }
`, "--socket", socket)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", p.stderr.String())
		}
	})
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	// STATUS=pinging comes after the long datagram, and messages are taken in order.
	poll(t, "STATUS=pinging", func() bool { return statusOf(t, socket)["app"].Status == "pinging" })
	if s := statusOf(t, socket)["app"]; s.Ready || s.State != "starting" {
		t.Errorf("a cut datagram made it ready: %+v", s)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

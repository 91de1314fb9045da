package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
)

// Drain: on the first SIGTERM uno is not ready at once (/readyz 503) while the services go on
// answering for the drain, then stops as usual; a second SIGTERM skips the rest of the drain.

// readyz is /readyz's status at addr (0 if it does not answer).
func readyz(t *testing.T, addr string) int {
	code, _, _ := httpGet(t, addr, "/readyz")
	return code
}

// notReadyAfterTerm sends SIGTERM to p and reports how long /readyz took to answer 503.
func notReadyAfterTerm(t *testing.T, p *proc, addr string) time.Duration {
	t.Helper()
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	// Asked back to back, not every 10 ms: the figure is the answer's, not the poll's step.
	for readyz(t, addr) != 503 {
		if time.Since(sent) > deadline {
			t.Fatalf("/readyz still not 503 %v after SIGTERM", deadline)
		}
	}
	took := time.Since(sent)
	t.Logf("/readyz 503 %v after SIGTERM", took)
	return took
}

func TestDrainServices(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	app := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	const drain = 700 * time.Millisecond
	p, _, socket, _ := startControlled(t, fmt.Sprintf(`
[uno]
drain = "700ms"
grace = "10s"

[services.app]
command = ["@TESTPROG@", "serve-health", "%[1]s", "${MARKS}", "${MARKS}.hang"]
ready = { tcp = "%[1]s", interval = "20ms" }
`, app), "--http", addr)
	poll(t, "/readyz 200", func() bool { return readyz(t, addr) == 200 })
	sent := time.Now()
	if took := notReadyAfterTerm(t, p, addr); took > 50*time.Millisecond {
		t.Errorf("/readyz answered 503 %v after SIGTERM, want within 50ms", took)
	}
	if r := runCtl(t, socket, "ready"); r.code != 1 || !strings.Contains(r.stdout, "not ready: uno is draining before the stop") {
		t.Errorf("ctl ready while draining: %d %q", r.code, r.stdout)
	}
	// Meanwhile everything runs and answers; uno stays healthy (a liveness probe must not kill it).
	if code, _, _ := httpGet(t, app, "/"); code != 200 {
		t.Errorf("app while draining: %d", code)
	}
	if code, _, _ := httpGet(t, addr, "/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d", code)
	}
	if s := statusOf(t, socket)["app"]; s.State != "running" {
		t.Errorf("app while draining: %+v", s)
	}
	waitLog(t, p, `drain over`)
	if since := time.Since(sent); since < drain {
		t.Errorf("drain over after %v, want %v", since, drain)
	}
	p.expectExit(0)
	log := p.stderr.String()
	if i, j := strings.Index(log, "drain over"), strings.Index(log, "stopping service"); i < 0 || j < i {
		t.Errorf("a service stopped before the drain was over:\n%s", log)
	}
	// The drain counts inside the grace: the stop got what was left.
	if !regexp.MustCompile(`stopping services.*grace=9\.[0-9]+s`).MatchString(log) {
		t.Errorf("the stop's grace is not the grace less the drain:\n%s", log)
	}
}

func TestDrainSecondTermSkipsIt(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, _, _, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
`, "--http", addr, "--drain", "30s", "--grace", "60s")
	poll(t, "/readyz 200", func() bool { return readyz(t, addr) == 200 })
	notReadyAfterTerm(t, p, addr)
	waitLog(t, p, `draining: not ready`)
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	p.expectExit(0) // sleep's 143 is not uno's: no main program
	if took := time.Since(sent); took > 15*time.Second {
		t.Errorf("uno took %v after the second SIGTERM: the drain was not skipped", took)
	}
	if !strings.Contains(p.stderr.String(), "second SIGTERM: drain skipped") {
		t.Errorf("log:\n%s", p.stderr.String())
	}
}

func TestDrainSingleProgram(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	socket := filepath.Join(socketDir(t), "uno.sock")
	for _, second := range []bool{false, true} {
		t.Run(fmt.Sprintf("second=%v", second), func(t *testing.T) {
			p := startUno(t, startOpts{mode: asPID1, env: []string{"UNO_DRAIN=" + map[bool]string{false: "500ms", true: "30s"}[second]}},
				"--socket", socket, "--http", addr, "--", testbin.TestProg(t), "signals")
			p.expect(`^\d+ ready$`)
			poll(t, "/readyz 200", func() bool { return readyz(t, addr) == 200 })
			sent := time.Now()
			if took := notReadyAfterTerm(t, p, addr); took > 50*time.Millisecond {
				t.Errorf("/readyz answered 503 %v after SIGTERM, want within 50ms", took)
			}
			if second {
				p.signal(syscall.SIGTERM)
			}
			p.expect(`^\d+ got 15$`)
			took := time.Since(sent)
			if !second && took < 500*time.Millisecond {
				t.Errorf("the program got SIGTERM %v after uno, within the drain", took)
			}
			if second && took > 15*time.Second {
				t.Errorf("the second SIGTERM reached the program after %v", took)
			}
			p.expectExit(0)
		})
	}
}

// TestDrainThenSIGINT: SIGINT during a drain stops at once (SIGINT does not drain), with the
// grace that is left (fresh-eyes review: held).
func TestDrainThenSIGINT(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, _, _, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
`, "--http", addr, "--drain", "30s", "--grace", "60s")
	poll(t, "/readyz 200", func() bool { return readyz(t, addr) == 200 })
	notReadyAfterTerm(t, p, addr)
	waitLog(t, p, `draining: not ready`)
	sent := time.Now()
	p.signal(syscall.SIGINT)
	p.expectExit(0)
	if took := time.Since(sent); took > 15*time.Second {
		t.Errorf("uno took %v after SIGINT: the drain went on", took)
	}
	if !strings.Contains(p.stderr.String(), "stopping on signal signal=SIGINT") {
		t.Errorf("log:\n%s", p.stderr.String())
	}
}

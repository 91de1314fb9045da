package e2e

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsToUnoWhileStartingShims (review fe20): uno forks each shim from a thread that
// blocks every signal (internal/spawn's forkExecMasked). A signal sent to uno is the process's,
// which the runtime's other threads take, so none may be lost or held up while shims start one
// after the other: SIGUSR1 to uno 300 times, each after the program reported the one before
// (so none merge; uno forwards it to every service), while four services restart through the shim without pause, with two CPU hogs;
// the delays are compared with the same run where that service starts directly.
func TestSignalsToUnoWhileStartingShims(t *testing.T) {
	needRoot(t)
	cpuHogs(t)
	delays := map[string][]time.Duration{}
	for _, c := range []struct{ name, extra string }{{"direct", ""}, {"shim", `umask = "0027"`}} {
		conf := `
[services.app]
command = ["@TESTPROG@", "signals"]
log_format = "raw"
`
		for i := range 4 {
			conf += fmt.Sprintf(`
[services.flap%d]
command = ["/bin/true"]
restart = "always"
restart_delay = "1ms"
restart_delay_max = "1ms"
restart_limit = 0
essential = false
%s
`, i, c.extra)
		}
		p, _ := startServices(t, startOpts{mode: asSubreaper}, conf)
		p.expect(`^\d+ ready`)
		for range 300 {
			start := time.Now()
			p.signal(syscall.SIGUSR1)
			p.expect(fmt.Sprintf(`^\d+ got %d$`, int(syscall.SIGUSR1)))
			delays[c.name] = append(delays[c.name], time.Since(start))
		}
		p.signal(syscall.SIGTERM)
		p.wait()
		starts := strings.Count(p.stderr.String(), "service started service=flap")
		t.Logf("%s: the flap services started %d times meanwhile", c.name, starts)
		if starts < 10 {
			t.Errorf("%s: flap started only %d times: the test did not test shims starting", c.name, starts)
		}
	}
	for name, d := range delays {
		slices.Sort(d)
		t.Logf("%s: SIGUSR1 to the program, median %v, 99th %v, max %v (%d)", name, d[len(d)/2], d[len(d)*99/100], d[len(d)-1], len(d))
	}
}

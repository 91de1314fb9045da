package kube

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testkit"
)

// Scenario 3: deleting the services pod. uno.toml's drain (5 s) turns /readyz 503 on the
// kubelet's SIGTERM while every service keeps running; the kubelet's readiness probe sees the
// pod not ready before anything stops; after the drain the services stop in the reverse of
// their start order, within the rest of the grace, and uno exits 0 (SIGTERM, no main program).
const (
	drain = 5 * time.Second  // [uno] drain in uno.toml
	grace = 30 * time.Second // terminationGracePeriodSeconds in services.yaml
)

// testDrain deletes p, whose container c is uno serving /readyz on httpPort and web on webPort,
// and checks the drain and the stop. logFile is c's CRI log, opened before the deletion.
func testDrain(t *testing.T, p *kpod, c containerStatus, logFile *os.File, httpPort, webPort int) {
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(port int, path string) (int, error) {
		resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// Before the deletion, readiness and the page answer, and Prometheus could scrape uno.
	if code, err := get(httpPort, "/metrics"); err != nil || code != 200 {
		t.Errorf("GET /metrics: %d, %v", code, err)
	}

	p.delete()
	// /readyz turns 503 on the SIGTERM; until then it answers 200 (or the kubelet has not sent it).
	var notReady time.Time
	err := testkit.WaitProgress(stall, func() (int, bool) {
		if code, err := get(httpPort, "/readyz"); err == nil && code == 503 {
			notReady = time.Now()
			return 0, true
		}
		_, killed := p.killedAt("services")
		return node.events.count() + btoi(killed), false
	})
	if err != nil {
		t.Fatalf("waiting for /readyz to answer 503 after the deletion: %v\nkubelet log:\n%s", err, daemonLog("kubelet", 40))
	}
	killed := mustKilledAt(t, p, "services")
	t.Logf("MEASURE drain: the kubelet's SIGTERM %s after the deletion; /readyz 503 seen %s after it",
		ms(killed.Sub(p.deleted)), ms(notReady.Sub(killed)))
	servicesAnswer := func(when string) {
		t.Helper()
		if code, err := get(webPort, "/"); err != nil || code != 200 {
			t.Errorf("%s: web answered %d, %v: the services must keep serving during the drain", when, code, err)
		}
		if code, err := get(httpPort, "/healthz"); err != nil || code != 200 {
			t.Errorf("%s: /healthz answered %d, %v: a drain must not fail liveness", when, code, err)
		}
		if e, ok := node.events.exit(c.id()); ok {
			t.Errorf("%s: the container already exited (%d at %v)", when, e.exitStatus, e.at)
		}
	}
	servicesAnswer("uno not ready")

	// The kubelet's own view. It no longer lists a static pod whose manifest is gone, so its
	// /pods cannot show the Ready condition; its readiness probe (every 1 s, failureThreshold 1)
	// goes on while the container stops, until the kubelet's housekeeping (every 2 s) drops the
	// status of a pod it no longer has, after which the probe worker only logs "No status for
	// pod". So: the kubelet either saw the 503 within the drain, and no 200 after it, or had
	// stopped probing.
	var probeFailed, noStatus time.Time
	err = testkit.WaitProgress(stall, func() (int, bool) {
		for _, at := range p.klogTimes("services", `"Probe failed"`, `probeType="Readiness"`, `statuscode: 503`) {
			if !at.Before(killed) {
				probeFailed = at
				return 0, true
			}
		}
		for _, at := range p.klogTimes("", `"No status for pod"`) {
			if !at.Before(killed) {
				noStatus = at
				return 0, true
			}
		}
		return node.events.count(), false
	})
	if err != nil {
		t.Fatalf("waiting for the kubelet's readiness probe to fail, or stop, after its SIGTERM: %v\nkubelet log:\n%s", err, daemonLog("kubelet", 40))
	}
	servicesAnswer("the kubelet's readiness probe failed or stopped")
	if probeFailed.IsZero() {
		t.Logf("MEASURE drain: the kubelet stopped probing %s %s after its SIGTERM (its status dropped with the manifest) before a probe ran", p.name, ms(noStatus.Sub(killed)))
	} else if probeFailed.Sub(killed) >= drain {
		t.Errorf("the kubelet's readiness probe failed %v after its SIGTERM, not within the %v drain", probeFailed.Sub(killed), drain)
	}

	exit := awaitExit(t, "the uno-services container", c.id())
	stop := exit.at.Sub(killed)
	t.Logf("MEASURE drain: exit %s after the SIGTERM, status %d (drain %v, grace %v)", ms(stop), exit.exitStatus, drain, grace)
	if exit.exitStatus != 0 {
		t.Errorf("uno exited %d on the pod's deletion, want 0 (SIGTERM, no main program); 137 would be the kubelet's SIGKILL", exit.exitStatus)
	}
	// The tolerance is klog's and containerd's clocks against a drain timed inside uno.
	if stop < drain-100*time.Millisecond || stop >= grace {
		t.Errorf("the container exited %v after the SIGTERM: want the %v drain first, and the stop within the %v grace", stop, drain, grace)
	}
	p.waitGone()
	logText, err := io.ReadAll(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(logText)
	drainOver, ok := criLineTime(log, "drain over")
	if _, began := criLineTime(log, "draining: not ready"); !began || !ok {
		t.Fatalf("uno's log has no drain lines:\n%s", tail(log, 30))
	}
	t.Logf("MEASURE drain: uno's drain over %s after the SIGTERM", ms(drainOver.Sub(killed)))
	if !probeFailed.IsZero() {
		t.Logf("MEASURE drain: the kubelet's readiness probe failed (503) %s after its SIGTERM, %s before the drain ended",
			ms(probeFailed.Sub(killed)), ms(drainOver.Sub(probeFailed)))
		if !probeFailed.Before(drainOver) {
			t.Errorf("the kubelet saw the pod not ready at %v, after the drain ended at %v", probeFailed, drainOver)
		}
	}
	// Once the kubelet saw the 503, it saw no 200 again. (A probe logged as passed just after
	// "Killing container" can be one answered before containerd delivered the SIGTERM.)
	if passed := p.klogTimes("services", `"Probe succeeded"`, `probeType="Readiness"`); !probeFailed.IsZero() && len(passed) > 0 && passed[len(passed)-1].After(probeFailed) {
		t.Errorf("the kubelet's readiness probe passed at %v, after it failed at %v during the drain", passed[len(passed)-1], probeFailed)
	}
	if len(p.klogTimes("services", `"Probe succeeded"`, `probeType="Readiness"`)) == 0 {
		t.Errorf("the kubelet's log has no readiness probe that passed: is prober.go logged at -v 3?")
	}
	checkStopOrder(t, log, "drain over")
}

// criLineTime returns the time the container runtime stamped on the first line of a CRI log
// ("2026-12-01T21:00:00.123456789Z stdout F text") whose text contains what.
func criLineTime(log, what string) (time.Time, bool) {
	for _, l := range strings.Split(log, "\n") {
		f := strings.SplitN(l, " ", 4)
		if len(f) == 4 && strings.Contains(f[3], what) {
			at, err := time.Parse(time.RFC3339Nano, f[0])
			return at, err == nil
		}
	}
	return time.Time{}, false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

package kube

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Scenarios 2 and 3: uno running the services of examples/kubernetes/uno.toml, probed by the
// kubelet's httpGet probes on uno's /readyz and /healthz. A worker made to keep failing turns
// /healthz red and the kubelet restarts the container; the new container becomes Ready again;
// deleting the pod then stops the services in the reverse of their start order, within the
// grace, and uno exits 0. Scenario 3, the deletion with uno's drain, is in drain_test.go.
func testServices(t *testing.T) {
	httpPort, webPort := mustFreePort(t), mustFreePort(t)
	p := runPod(t, "services.yaml", "uno-services", "9000", strconv.Itoa(httpPort), "8080", strconv.Itoa(webPort))

	q := p.await("Ready", ready)
	readyAt := time.Now()
	first, _ := q.container("services")
	started := firstStart(t, "uno-services", first.id())
	t.Logf("MEASURE services: Ready %s after the manifest was written, %s after uno started",
		ms(readyAt.Sub(p.created)), ms(readyAt.Sub(started.at)))
	probe := func(path string) int {
		t.Helper()
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := probe("/readyz"); code != 200 {
		t.Fatalf("/readyz answered %d once the kubelet had the pod Ready", code)
	}
	status := p.exec("services", "/usr/bin/uno", "ctl", "status")
	for _, want := range []string{"setup", "completed", "web", "worker", "ticker"} {
		if !strings.Contains(status, want) {
			t.Errorf("uno ctl status has no %q:\n%s", want, status)
		}
	}

	// The worker fails, and every run after it fails too: uno holds it in back-off.
	p.exec("services", "touch", "/tmp/fail")
	p.exec("services", "/usr/bin/uno", "ctl", "signal", "KILL", "worker")
	failed := time.Now()
	q = p.await("the liveness probe to restart the container", func(q *pod) bool {
		s, ok := q.container("services")
		return ok && s.RestartCount >= 1 && s.ContainerID != first.ContainerID
	})
	restartedAt := time.Now()
	second, _ := q.container("services")
	if !strings.Contains(daemonLog("kubelet", 1000), `containerMessage="Container services failed liveness probe, will be restarted"`) {
		t.Errorf("the kubelet restarted the container, but its log does not say it was for the liveness probe")
	}
	if second.LastState.Terminated == nil {
		t.Fatalf("the restarted container has no lastState.terminated: %+v", second.LastState)
	}
	firstExit := awaitExit(t, "the first uno-services container", first.id())
	t.Logf("MEASURE services: liveness restart %s after the worker failed; the kubelet recorded exit %d (%s) for the first container; containerd %d",
		ms(restartedAt.Sub(failed)), second.LastState.Terminated.ExitCode, second.LastState.Terminated.Reason, firstExit.exitStatus)
	// Stopped by the kubelet's SIGTERM, without a main program: uno's documented status is 0.
	if second.LastState.Terminated.ExitCode != 0 || firstExit.exitStatus != 0 {
		t.Errorf("the container stopped by the liveness probe exited %d (kubelet) / %d (containerd), want 0",
			second.LastState.Terminated.ExitCode, firstExit.exitStatus)
	}
	q = p.await("Ready again after the restart", ready)
	second, _ = q.container("services")
	if code := probe("/healthz"); code != 200 {
		t.Errorf("/healthz answered %d in the restarted container", code)
	}

	// Scenario 3. The log file goes with the pod: it is held open from before the deletion.
	logPath := filepath.Join(node.podLogs, "default_"+p.name+"_"+p.uid, "services", strconv.Itoa(second.RestartCount)+".log")
	logFile, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	testDrain(t, p, second, logFile, httpPort, webPort)
}

// checkStopOrder checks, in uno's log, that the services stopped in the reverse of the start
// order: the worker and the ticker (which depend on web) have exited before web is stopped,
// and nothing was stopped before the line after (the drain's end).
func checkStopOrder(t *testing.T, log, after string) {
	t.Helper()
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		if strings.Contains(l, after) {
			for _, early := range lines[:i] {
				if strings.Contains(early, "stopping service") || strings.Contains(early, "service stopped") {
					t.Errorf("uno stopped a service before %q: %s", after, early)
				}
			}
			break
		}
	}
	find := func(what, service string) int {
		for i, l := range lines {
			if strings.Contains(l, what) && strings.Contains(l, "service="+service+" ") {
				return i
			}
		}
		t.Errorf("uno's log has no %q line for %s:\n%s", what, service, tail(log, 30))
		return -1
	}
	for _, l := range lines {
		if strings.Contains(l, "stopping") || strings.Contains(l, "stopped") || strings.Contains(l, "exiting") {
			t.Logf("uno's log: %s", l)
		}
	}
	webStop := find("stopping service", "web")
	for _, dependent := range []string{"worker", "ticker"} {
		if stopped := find("service stopped", dependent); stopped > webStop {
			t.Errorf("web was stopped (line %d) before %s had stopped (line %d):\n%s", webStop, dependent, stopped, tail(log, 30))
		}
	}
}

func mustFreePort(t *testing.T) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

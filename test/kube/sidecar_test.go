package kube

import (
	"testing"
	"time"
)

// Scenario 6: a native sidecar (an init container with restartPolicy: Always) with uno as its
// init. The kubelet starts it before the main container (once its startup probe, `uno ctl
// ready`, passes), and on the pod's deletion stops it after the main container has exited.
func testNativeSidecar(t *testing.T) {
	const grace = 10 * time.Second // terminationGracePeriodSeconds in sidecar.yaml
	p := runPod(t, "sidecar.yaml", "uno-sidecar")
	q := p.await("the main container running", func(q *pod) bool { return running(q, "main") && running(q, "sidecar") })
	side, _ := q.container("sidecar")
	main, _ := q.container("main")
	sideStart, mainStart := firstStart(t, "the sidecar", side.id()), firstStart(t, "main", main.id())
	t.Logf("MEASURE sidecar: main started %s after the sidecar", ms(mainStart.at.Sub(sideStart.at)))
	if !mainStart.at.After(sideStart.at) {
		t.Errorf("main started at %v, the sidecar at %v: the sidecar must come first", mainStart.at, sideStart.at)
	}
	if side.Started == nil || !*side.Started {
		t.Errorf("the sidecar is not started in the kubelet's view: %+v", side)
	}

	p.delete()
	mainExit := awaitExit(t, "main", main.id())
	sideExit := awaitExit(t, "the sidecar", side.id())
	t.Logf("MEASURE sidecar: main exited %d after %s, the sidecar %d after %s (%s after main)",
		mainExit.exitStatus, ms(mainExit.at.Sub(p.deleted)), sideExit.exitStatus, ms(sideExit.at.Sub(p.deleted)), ms(sideExit.at.Sub(mainExit.at)))
	if !sideExit.at.After(mainExit.at) {
		t.Errorf("the sidecar exited at %v, main at %v: the sidecar must stop last", sideExit.at, mainExit.at)
	}
	// main's program handles SIGTERM and exits 0 after a second: uno passes its status on.
	if mainExit.exitStatus != 0 {
		t.Errorf("main exited %d, want its program's 0", mainExit.exitStatus)
	}
	if sideExit.exitStatus != 143 {
		t.Errorf("the sidecar exited %d, want 143 (its program killed by SIGTERM)", sideExit.exitStatus)
	}
	if d := sideExit.at.Sub(p.deleted); d >= grace {
		t.Errorf("the pod took %v to stop, more than its %v grace", d, grace)
	}
	p.waitGone()
}

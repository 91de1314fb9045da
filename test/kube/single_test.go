package kube

import (
	"strings"
	"testing"
	"time"
)

// running reports whether the pod lists the container as running.
func running(q *pod, name string) bool {
	if q == nil {
		return false
	}
	s, ok := q.container(name)
	return ok && s.State.Running != nil && s.ContainerID != ""
}

func ready(q *pod) bool { return q != nil && q.condition("Ready") }

// Scenario 1: uno as the container's ENTRYPOINT. The kubelet's exec probes on `uno ctl ready`
// and `uno ctl health` make the pod Ready; deleting the pod stops it with exit 143 at once,
// where the same program without an init waits out the grace and is SIGKILLed.
func testSingleProgram(t *testing.T) {
	const grace = 5 * time.Second // terminationGracePeriodSeconds in both manifests
	withUno := runPod(t, "single-program.yaml", "uno-single")
	bare := runPod(t, "no-init.yaml", "no-init")

	q := withUno.await("Ready", ready)
	readyAt := time.Now()
	app, _ := q.container("app")
	started := firstStart(t, "uno-single's app", app.id())
	t.Logf("MEASURE single: Ready %s after the manifest was written, %s after uno started",
		ms(readyAt.Sub(withUno.created)), ms(readyAt.Sub(started.at)))
	// The probes' own commands, as the kubelet runs them.
	if out := withUno.exec("app", "/usr/bin/uno", "ctl", "ready"); !strings.HasPrefix(out, "ready") {
		t.Errorf("uno ctl ready printed %q", out)
	}
	if out := withUno.exec("app", "/usr/bin/uno", "ctl", "health"); !strings.HasPrefix(out, "healthy") {
		t.Errorf("uno ctl health printed %q", out)
	}
	bq := bare.await("the baseline running", func(q *pod) bool { return running(q, "app") })
	bareApp, _ := bq.container("app")

	// The liveness probe ran every 2 s from the start until now and never failed: no restart.
	if now := withUno.get(); now == nil {
		t.Fatal("uno-single is gone before its deletion")
	} else if s, _ := now.container("app"); s.RestartCount != 0 || s.ContainerID != app.ContainerID {
		t.Errorf("uno-single's container was restarted (%d restarts)", s.RestartCount)
	}

	// Both deleted at once: their stops overlap, and neither waits for the other.
	withUno.delete()
	bare.delete()
	exit := awaitExit(t, "uno-single's app", app.id())
	bareExit := awaitExit(t, "no-init's app", bareApp.id())
	// The grace runs from the kubelet's SIGTERM, which comes some time after the deletion (the
	// kubelet's own work, the same with or without uno): each stop is timed from it.
	killed, bareKilled := mustKilledAt(t, withUno, "app"), mustKilledAt(t, bare, "app")
	stop, bareStop := exit.at.Sub(killed), bareExit.at.Sub(bareKilled)
	t.Logf("MEASURE single: the kubelet's SIGTERM %s and %s after the deletions; then exits after %s with uno (exit %d), %s without an init (exit %d), grace %v",
		ms(killed.Sub(withUno.deleted)), ms(bareKilled.Sub(bare.deleted)), ms(stop), exit.exitStatus, ms(bareStop), bareExit.exitStatus, grace)
	if exit.exitStatus != 143 {
		t.Errorf("uno-single's container exited %d, want 143 (the program killed by SIGTERM)", exit.exitStatus)
	}
	if stop >= grace/2 {
		t.Errorf("uno-single took %v to stop, not well inside its %v grace", stop, grace)
	}
	// The kubelet logs its line just before it asks for the stop: the SIGKILL follows the
	// grace after that, give or take the clocks' resolution.
	if bareExit.exitStatus != 137 || bareStop < grace-100*time.Millisecond {
		t.Errorf("the baseline exited %d %v after the SIGTERM; want 137 (SIGKILL) after the %v grace: is it still a baseline?", bareExit.exitStatus, bareStop, grace)
	}
	withUno.waitGone()
	bare.waitGone()
}

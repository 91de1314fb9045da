package kube

import (
	"testing"
	"time"
)

// Scenario 7: containers that fail at once under uno, each its own way, in a crash loop. The
// exit code the kubelet records (lastState.terminated.exitCode), and containerd's for every
// run, is uno's documented one; the kubelet restarts them with its back-off.
func testCrashLoop(t *testing.T) {
	want := map[string]int{
		"exit-3":         3,        // the program's code
		"killed-by-usr1": 128 + 10, // 128+n for signal n
		"not-found":      127,
		"not-executable": 126,
		"usage-error":    2,
	}
	const restarts = 2
	p := runPod(t, "crashloop.yaml", "uno-crashloop")
	backedOff := map[string]bool{}
	var runs []string // exit-3's container IDs, one a run, in order
	q := p.await("every container restarted twice", func(q *pod) bool {
		if q == nil {
			return false
		}
		done := true
		for name := range want {
			s, ok := q.container(name)
			if ok && s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff" {
				backedOff[name] = true
			}
			if name == "exit-3" && ok && s.ContainerID != "" && (len(runs) == 0 || runs[len(runs)-1] != s.id()) {
				runs = append(runs, s.id())
			}
			done = done && ok && s.RestartCount >= restarts && s.LastState.Terminated != nil
		}
		return done
	})
	for _, name := range []string{"exit-3", "killed-by-usr1", "not-found", "not-executable", "usage-error"} {
		code := want[name]
		s, _ := q.container(name)
		if got := s.LastState.Terminated.ExitCode; got != code {
			t.Errorf("%s: the kubelet recorded exit %d (%s), want %d", name, got, s.LastState.Terminated.Reason, code)
		}
		if !backedOff[name] {
			t.Errorf("%s was never seen waiting in CrashLoopBackOff", name)
		}
		t.Logf("MEASURE crashloop: %s: lastState.terminated.exitCode %d, reason %s, restartCount %d",
			name, s.LastState.Terminated.ExitCode, s.LastState.Terminated.Reason, s.RestartCount)
	}
	// Every run of exit-3, as containerd saw it: its status, and the kubelet's back-off between
	// one exit and the next start.
	var lastExit time.Time
	for i, id := range runs {
		start := firstStart(t, "a run of exit-3", id)
		exit := awaitExit(t, "a run of exit-3", id)
		if exit.exitStatus != 3 {
			t.Errorf("run %d of exit-3 exited %d", i, exit.exitStatus)
		}
		if i > 0 {
			t.Logf("MEASURE crashloop: exit-3 run %d started %s after the exit before it", i, ms(start.at.Sub(lastExit)))
		}
		lastExit = exit.at
	}
	if len(runs) < restarts+1 {
		t.Errorf("saw %d runs of exit-3, want at least %d", len(runs), restarts+1)
	}
	p.delete()
	p.waitGone()
}

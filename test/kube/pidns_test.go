package kube

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Scenarios 4 and 5: a pod with shareProcessNamespace, whose PID 1 is the sandbox: uno under
// the name catatonit with -P (the pause image of this node). uno in the "app" container is
// not PID 1 and runs as a child subreaper: the orphan its program leaves is re-parented to it
// and reaped by it. The orphan of the "other" container (no init) goes to PID 1, the pause
// container, which reaps it. When the pod stops, nothing is left in its namespace.
func testSharedProcessNamespace(t *testing.T) {
	sharedPID(t, node.uno, "uno as catatonit -P")
}

// The same pod with Debian's catatonit -P as the pause container, the peer uno stands in for:
// it holds PID 1 and reaps the other container's orphan the same way.
func testSharedProcessNamespaceCatatonitPause(t *testing.T) {
	switchPause(t, peerPauseImage)
	sharedPID(t, peerCatatonit, "Debian's catatonit -P")
}

// sharedPID runs shared-pid.yaml on a node whose pause container is /catatonit -P, a copy of
// pauseBinary.
func sharedPID(t *testing.T, pauseBinary, pauseName string) {
	p := runPod(t, "shared-pid.yaml", "uno-shared-pid")
	q := p.await("both containers running", func(q *pod) bool { return running(q, "app") && running(q, "other") })
	app, _ := q.container("app")
	tasks, err := runningTasks()
	if err != nil {
		t.Fatal(err)
	}
	pausePid, unoPid := tasks[p.sandboxID()], tasks[app.id()]
	if pausePid == 0 || unoPid == 0 {
		t.Fatalf("no running task for the sandbox (%d) or app (%d): %v", pausePid, unoPid, tasks)
	}
	pause, _ := readProc(pausePid)
	if pause.cmdline != "/catatonit -P" {
		t.Errorf("the sandbox runs %q, want /catatonit -P", pause.cmdline)
	}
	if !sameFile(t, fmt.Sprintf("/proc/%d/exe", pausePid), pauseBinary) {
		t.Errorf("the sandbox's /catatonit is not %s", pauseBinary)
	}
	unoProc, _ := readProc(unoPid)
	if unoProc.pidNS != pause.pidNS {
		t.Fatalf("app's uno is in pid namespace %s, the sandbox in %s: the namespace is not shared", unoProc.pidNS, pause.pidNS)
	}
	if nsPid := nsPID(t, unoPid); nsPid == 1 {
		t.Errorf("uno is PID 1 of the shared namespace; the pause container should be")
	}
	if nsPid := nsPID(t, pausePid); nsPid != 1 {
		t.Errorf("the sandbox is PID %d of the shared namespace, want 1", nsPid)
	}

	// Each container's orphan, re-parented to its reaper.
	orphans := map[string]int{"sleep 1001": unoPid, "sleep 1002": pausePid}
	for cmdline, reaper := range orphans {
		var orphan proc
		p.await(cmdline+" to be an orphan", func(*pod) bool {
			for _, pr := range allProcs() {
				if pr.cmdline == cmdline && pr.pidNS == pause.pidNS {
					orphan = pr
					return pr.ppid == reaper
				}
			}
			return false
		})
		// Killed from outside, as the OOM killer or a debugging operator would: its reaper must
		// collect it, or it stays a zombie.
		if err := syscall.Kill(orphan.pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		end := time.Now().Add(stall)
		for {
			pr, alive := readProc(orphan.pid)
			if !alive || pr.ppid != reaper { // reaped (the number may be someone else's by now)
				break
			}
			if time.Now().After(end) {
				t.Fatalf("%s (pid %d), killed, is still %c under its reaper %d after %v: not reaped", cmdline, orphan.pid, pr.state, reaper, stall)
			}
			time.Sleep(5 * time.Millisecond)
		}
		who := "uno, app's subreaper"
		if reaper == pausePid {
			who = "the pause container (" + pauseName + ")"
		}
		t.Logf("%s: re-parented to %s and reaped by it", cmdline, who)
	}

	p.delete()
	p.waitGone()
	var left []string
	for _, pr := range allProcs() {
		if pr.pidNS == pause.pidNS {
			left = append(left, fmt.Sprintf("%d %q", pr.pid, pr.cmdline))
		}
	}
	if len(left) > 0 {
		t.Errorf("processes left in the pod's namespace after it stopped: %s", strings.Join(left, ", "))
	}
}

// nsPID is the pid of a host process inside its own pid namespace (the last NSpid field).
func nsPID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" {
			var n int
			fmt.Sscan(f[len(f)-1], &n)
			return n
		}
	}
	t.Fatalf("no NSpid in /proc/%d/status", pid)
	return 0
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(da, db)
}

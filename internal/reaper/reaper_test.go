package reaper

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// This test binary makes itself a child subreaper, so that the grandchildren its shells leave
// behind come to it as they would come to uno.
func TestMain(m *testing.M) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func start(t *testing.T, r *Reaper, argv ...string) (int, <-chan Exit) {
	t.Helper()
	pid, exited, err := r.Start(func() (int, error) {
		return syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return pid, exited
}

func await(t *testing.T, exited <-chan Exit) Exit {
	t.Helper()
	select {
	case e := <-exited:
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no exit status within 20s")
	}
	return Exit{}
}

// One reaper for the whole test binary, as in uno: a second one would race it for statuses
// (go test -count=N runs the tests again in the same process).
var (
	mu       sync.Mutex
	orphans  []Exit
	reaperOf = sync.OnceValue(func() *Reaper {
		return New(func(e Exit) { mu.Lock(); orphans = append(orphans, e); mu.Unlock() })
	})
)

func TestExitStatusesAndOrphans(t *testing.T) {
	r := reaperOf()
	mu.Lock()
	orphans = nil
	before := r.Orphans()
	mu.Unlock()

	// A child that exits at once: its status must not be lost between fork and registration.
	pid, exited := start(t, r, "/bin/true")
	if e := await(t, exited); e.Pid != pid || e.Code() != 0 {
		t.Fatalf("true: %+v", e)
	}
	_, exited = start(t, r, "/bin/sh", "-c", "exit 42")
	if e := await(t, exited); e.Code() != 42 {
		t.Fatalf("exit 42: code %d", e.Code())
	}
	_, exited = start(t, r, "/bin/sh", "-c", "kill -USR1 $$")
	if e := await(t, exited); e.Code() != 128+int(syscall.SIGUSR1) || !e.Status.Signaled() {
		t.Fatalf("killed by USR1: %+v code %d", e, e.Code())
	}

	// Ten orphans: the shell exits without waiting for its background children.
	_, exited = start(t, r, "/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true & done; exit 0")
	await(t, exited)
	select {
	case <-r.Empty():
	case <-time.After(20 * time.Second):
		t.Fatal("Empty never closed")
	}
	mu.Lock()
	if len(orphans) != 10 || r.Orphans()-before != 10 {
		t.Fatalf("%d orphans reported, %d counted; want 10", len(orphans), r.Orphans()-before)
	}
	mu.Unlock()

	// Watch: with SIGCHLD taken away from the reaper, the pidfd alone delivers the exit.
	signal.Stop(r.sigchld)
	defer signal.Notify(r.sigchld, syscall.SIGCHLD)
	pid, exited = start(t, r, "/bin/sh", "-c", "sleep 0.05; exit 7")
	r.Watch(pid)
	if e := await(t, exited); e.Pid != pid || e.Code() != 7 {
		t.Fatalf("watched child: %+v code %d", e, e.Code())
	}
}

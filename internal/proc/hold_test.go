package proc

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHoldAndAncestors: Hold keeps a handle only when keep accepts the stat it reads through it,
// the handle signals that process, and Ancestors leads from a child to this process.
func TestHoldAndAncestors(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid

	if fd, ok := Hold(pid, func(Stat) bool { return false }); ok || fd != -1 {
		t.Errorf("Hold kept %d though keep said no", fd)
	}
	var seen Stat
	fd, ok := Hold(pid, func(st Stat) bool { seen = st; return true })
	if !ok {
		t.Fatalf("Hold(%d) failed", pid)
	}
	defer unix.Close(fd)
	if seen.Pid != pid || seen.PPid != os.Getpid() {
		t.Errorf("keep saw %+v, want pid %d, parent %d", seen, pid, os.Getpid())
	}
	if up := Ancestors(seen, os.Getpid()); !slices.Equal(up, []int{os.Getpid()}) {
		t.Errorf("Ancestors up to this process = %v, want [%d]", up, os.Getpid())
	}
	if up := Ancestors(seen, -1); len(up) < 2 || up[0] != os.Getpid() || up[1] != os.Getppid() {
		t.Errorf("Ancestors to the top = %v, want %d, %d, ...", up, os.Getpid(), os.Getppid())
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("signal through the held handle: %v", err)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("sleep exited 0 after SIGKILL")
	}
	// Reaped: its stat is no longer there to read through the handle.
	if _, ok := readAt(fd, pid); ok {
		t.Error("the stat of a reaped process was read through its handle")
	}
}

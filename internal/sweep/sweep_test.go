package sweep

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/uno-init/uno/internal/proc"
)

// TestDescendants finds a grandchild through its parent, and nothing outside the tree.
func TestDescendants(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 30 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	var sleepPid int
	for _, c := range buf[:n] {
		if c >= '0' && c <= '9' {
			sleepPid = sleepPid*10 + int(c-'0')
		}
	}
	defer func() { _ = (&os.Process{Pid: sleepPid}).Kill() }()
	got := Descendants(os.Getpid())
	if !slices.Contains(got, cmd.Process.Pid) || !slices.Contains(got, sleepPid) {
		t.Fatalf("Descendants = %v, want the shell %d and its sleep %d", got, cmd.Process.Pid, sleepPid)
	}
	if slices.Contains(got, os.Getppid()) || slices.Contains(got, os.Getpid()) {
		t.Fatalf("Descendants %v contains the parent or root", got)
	}
	if st, ok := proc.Read(sleepPid); !ok || st.PPid != cmd.Process.Pid {
		t.Fatalf("proc.Read(%d) = %+v, %v", sleepPid, st, ok)
	}
}

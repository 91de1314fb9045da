package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRead: a child whose command name holds spaces and parentheses is read right, and found by All.
func TestRead(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "a) (b")
	if err := os.WriteFile(odd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	st, ok := Read(cmd.Process.Pid)
	if !ok || st.Pid != cmd.Process.Pid || st.PPid != os.Getpid() || st.Pgrp != unix.Getpgrp() || st.State == 'Z' {
		t.Fatalf("Read(%d) = %+v, %v; want parent %d, group %d", cmd.Process.Pid, st, ok, os.Getpid(), unix.Getpgrp())
	}
	// Its state may change between the two reads; its parent and group may not.
	if !slices.ContainsFunc(All(), func(o Stat) bool { return o.Pid == st.Pid && o.PPid == st.PPid && o.Pgrp == st.Pgrp }) {
		t.Errorf("All() lacks %+v", st)
	}
	if _, ok := Read(-1); ok {
		t.Error("Read(-1) succeeded")
	}
	if self, ok := Self(); !ok || self != os.Getpid() || !Own() {
		t.Errorf("Self() = %d, %v, Own() = %v: the test's /proc is its own namespace's, pid %d", self, ok, Own(), os.Getpid())
	}
}

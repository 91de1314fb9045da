package reaper

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/proc"
)

// TestHoldMembersRechecks: what act holds is decided again about each process once it is held,
// not taken from the listing of /proc that came before. The race itself (a member that exits
// between the listing and the open, and a stranger given its number) cannot be forced, so this
// test gives holdMembers a listing that is out of date in the two ways that race leaves it: a
// member that has left the group since (setsid, as a stranger with the number would be in
// another group) and one that has exited (a zombie: holding it would hold a number about to be
// freed). Only the member that is still one may be held, and the Kill of what is held must not
// reach the one that left.
func TestHoldMembersRechecks(t *testing.T) {
	r := reaperOf()
	dir := t.TempDir()
	script := `
sleep 1000 & echo $! > "$0/stay.tmp"; mv "$0/stay.tmp" "$0/stay"
sh -c 'while [ ! -e "$0/leave" ]; do sleep 0.01; done; exec setsid sleep 1000' "$0" &
echo $! > "$0/moved.tmp"; mv "$0/moved.tmp" "$0/moved"
sh -c 'sh -c "while [ \"\$(cat /proc/\$PPID/comm)\" != sleep ]; do sleep 0.01; done" & echo $! > "$0/zombie"; exec sleep 1000' "$0" &
exec sleep 1000`
	leader, exited, err := r.Start(func() (int, error) {
		return syscall.ForkExec("/bin/sh", []string{"sh", "-c", script, dir},
			&syscall.ProcAttr{Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{Setpgid: true}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var stay, moved, zombie int
	defer func() {
		_ = r.Signal(leader, true, syscall.SIGKILL)
		if moved > 0 {
			_ = unix.Kill(moved, syscall.SIGKILL) // no longer in the group
		}
		await(t, exited)
	}()
	stay, moved, zombie = awaitPid(t, dir, "stay"), awaitPid(t, dir, "moved"), awaitPid(t, dir, "zombie")
	listed := groupMembers(leader)
	for _, pid := range []int{stay, moved} {
		if !slicesContains(listed, pid) {
			t.Fatalf("group %d lists %v, without %d", leader, listed, pid)
		}
	}
	// Now the listing goes out of date.
	if err := os.WriteFile(filepath.Join(dir, "leave"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	awaitStat(t, "the member to leave the group", moved, func(st proc.Stat) bool { return st.Pgrp == moved })
	awaitStat(t, "the exited member to be a zombie", zombie, func(st proc.Stat) bool { return st.State == 'Z' })

	held := holdMembers(leader, []int{stay, moved, zombie})
	if held == nil || len(held.fds) != 1 {
		n := 0
		if held != nil {
			n = len(held.fds)
			held.Release()
		}
		t.Fatalf("%d processes held of stay %d, moved %d, zombie %d: want only stay", n, stay, moved, zombie)
	}
	if n := held.Kill(syscall.SIGKILL); n != 1 {
		t.Errorf("Kill reached %d, want 1", n)
	}
	// stay's parent (the leader's sleep) does not reap it: killed, it is a zombie.
	awaitStat(t, "the held member to die", stay, func(st proc.Stat) bool { return st.State == 'Z' })
	if st, ok := proc.Read(moved); !ok || st.State == 'Z' {
		t.Errorf("the member that left the group was killed: %+v, %v", st, ok)
	}
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// awaitPid waits for a shell to have written a pid to dir/name. (The zombie's parent writes it
// with builtins only: an external command's wait would reap the zombie. Nor may the zombie-to-be
// exit before its parent has exec'd sleep: dash reaps a background child that ends while it is
// still running builtins (seen in half of 100 tries under load), so the child waits to see its
// parent's name turn to sleep.)
func awaitPid(t *testing.T, dir, name string) int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no %s pid within 20s", name)
	return 0
}

// awaitStat waits until pid's stat satisfies ok.
func awaitStat(t *testing.T, what string, pid int, ok func(proc.Stat) bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st, found := proc.Read(pid); found && ok(st) {
			return
		}
	}
	st, found := proc.Read(pid)
	t.Fatalf("waited 20s for %s: %+v, %v", what, st, found)
}

// Package proc reads what uno needs to know of other processes from /proc/PID/stat: each one's
// parent, process group and state. The sweep walks the tree with it, the reaper finds what a
// group leader left in its group, and the notify socket where a sender comes from. Hold is the
// one way to act on a process found by its number: hold it first, then check it again.
package proc

import (
	"bytes"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Stat is what /proc/PID/stat says of one process.
type Stat struct {
	Pid   int
	State byte // R, S, D, Z (zombie), T (stopped)...
	PPid  int
	Pgrp  int
}

// Read reads pid's stat; false when the process is gone or /proc cannot tell.
func Read(pid int) (Stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	return parse(pid, b)
}

func parse(pid int, b []byte) (Stat, bool) {
	// The command name (field 2) may hold spaces and parentheses: parse after its last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, false
	}
	fields := bytes.Fields(b[i+1:]) // state, ppid, pgrp, ...
	if len(fields) < 3 || len(fields[0]) != 1 {
		return Stat{}, false
	}
	ppid, err1 := strconv.Atoi(string(fields[1]))
	pgrp, err2 := strconv.Atoi(string(fields[2]))
	if err1 != nil || err2 != nil {
		return Stat{}, false
	}
	return Stat{Pid: pid, State: fields[0][0], PPid: ppid, Pgrp: pgrp}, true
}

// Hold opens pid's /proc directory, a handle on that very process: the kernel takes it as a
// pidfd (pidfd_send_signal), and it never comes to mean another process, while the number
// pid may be handed to a stranger as soon as the process is reaped. Whatever was decided about
// pid from an earlier read (a listing of /proc) is decided again here, by keep, on the stat read
// through the handle, so of the process held; fd is kept only if keep says so, and the caller
// closes it. A process gone before the open, or by the read, is not held.
func Hold(pid int, keep func(Stat) bool) (fd int, ok bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	if st, ok := readAt(fd, pid); ok && keep(st) {
		return fd, true
	}
	unix.Close(fd)
	return -1, false
}

// readAt reads the stat of the process whose /proc directory dir is.
func readAt(dir, pid int) (Stat, bool) {
	fd, err := unix.Openat(dir, "stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Stat{}, false
	}
	f := os.NewFile(uintptr(fd), "stat")
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return Stat{}, false
	}
	return parse(pid, b)
}

// Ancestors lists the parents of the process st describes, nearest first, by /proc's numbers:
// up to stop or pid 1, included, or to the first that /proc no longer shows. A parent that exits
// meanwhile hands its children to a subreaper or init, so the walk never loops; the bound is
// for a /proc that lies.
func Ancestors(st Stat, stop int) []int {
	var up []int
	for hops := 0; hops < 4096 && st.PPid > 0; hops++ {
		up = append(up, st.PPid)
		if st.PPid == stop || st.PPid == 1 {
			break
		}
		var ok bool
		if st, ok = Read(st.PPid); !ok {
			break
		}
	}
	return up
}

// All reads every process that /proc lists.
func All() []Stat {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var all []Stat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := Read(pid); ok {
			all = append(all, st)
		}
	}
	return all
}

// Own reports whether /proc shows this process's own PID namespace. uno as PID 1 of a namespace
// that did not mount a /proc of its own sees another namespace's pids there, which are not its
// to signal.
func Own() bool {
	self, ok := Self()
	return ok && self == os.Getpid()
}

// Self is this process's pid as /proc numbers it: os.Getpid() when /proc is its own namespace's,
// its pid in the parent namespace when /proc is the parent's (unshare --pid without remounting
// /proc), and false when /proc does not show it at all (another namespace's, or no /proc).
func Self() (int, bool) {
	self, err := os.Readlink("/proc/self")
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(self)
	return pid, err == nil
}

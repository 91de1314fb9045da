// Package proc reads what uno needs to know of other processes from /proc/PID/stat: each one's
// parent, process group and state. The sweep walks the tree with it and the reaper finds what a
// group leader left in its group.
package proc

import (
	"bytes"
	"os"
	"strconv"
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

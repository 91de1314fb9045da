package kube

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// proc is what the tests read of a host process in /proc.
type proc struct {
	pid, ppid int
	state     byte   // R, S, Z, ...
	cmdline   string // arguments joined by spaces
	pidNS     string // the target of /proc/PID/ns/pid
}

// readProc reads one process, or reports that it is gone.
func readProc(pid int) (proc, bool) {
	p := proc{pid: pid}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, false
	}
	// The command name in parentheses may hold spaces: the fields start after the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return p, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 {
		return p, false
	}
	p.state = fields[0][0]
	p.ppid, _ = strconv.Atoi(fields[1])
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	p.pidNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return p, true
}

// allProcs lists the host's processes.
func allProcs() []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

func processesMatching(match func(cmdline string) bool) []int {
	var pids []int
	for _, p := range allProcs() {
		if p.pid != os.Getpid() && match(p.cmdline) {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// killTree SIGKILLs pid and all its descendants, children first found, and waits (bounded) for
// them to be gone.
func killTree(pid int) {
	children := map[int][]int{}
	for _, p := range allProcs() {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	var tree []int
	var walk func(int)
	walk = func(p int) {
		tree = append(tree, p)
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	for _, p := range tree {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	end := time.Now().Add(10 * time.Second)
	for _, p := range tree {
		for time.Now().Before(end) {
			if q, ok := readProc(p); !ok || q.state == 'Z' {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// unmountBelow detaches every mount at or below dir, deepest first.
func unmountBelow(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			points = append(points, fields[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		_ = unix.Unmount(p, unix.MNT_DETACH)
	}
}

// removeCgroups removes the cgroup tree name (the kubelet's kubepods) in every hierarchy,
// leaves first. Its processes are gone by then.
func removeCgroups(name string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	if st, err := os.Stat("/sys/fs/cgroup/" + name); err == nil && st.IsDir() {
		roots = append(roots, "/sys/fs/cgroup/"+name) // a pure cgroup v2 machine
	}
	for _, root := range roots {
		var dirs []string
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
}

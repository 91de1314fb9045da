package spawn

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/privs"
)

// This file is the wait for the shim's report, which must not outlast a stop of the shim: the
// supervisor starts services from its event loop, and a shim stopped before its exec (SIGSTOP
// from anyone, a Ctrl-Z's SIGTSTP to the foreground service) would hold the report pipe open,
// and the loop with it, for as long as it stays stopped (TestStoppedShimDoesNotHoldUpTheSupervisor).

// reportPoll is how often, in milliseconds, the wait looks whether the shim is stopped.
const reportPoll = 20

// readReport reads the shim's report from fd: n bytes of buf and the read's error, or stopped
// when the shim (pid) is stopped with the pipe still open.
func readReport(fd, pid int, buf []byte) (n int, err error, stopped bool) {
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		k, err := unix.Poll(fds, reportPoll)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err, false
		case k > 0:
			n, err := readRetrying(fd, buf)
			return n, err, false
		case isStopped(pid):
			return 0, nil, true
		}
	}
}

// isStopped reports whether pid is stopped (by a signal, or traced), from /proc/PID/stat.
func isStopped(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	rest := strings.TrimLeft(s[strings.LastIndexByte(s, ')')+1:], " ")
	return rest != "" && (rest[0] == 'T' || rest[0] == 't')
}

// lateReport waits, in the background, for the report of a shim that was stopped before its exec
// and that uno took for started: if it fails once continued, its exit ends the run with its
// status (1, 126 or 127), and the message goes to the program's standard error (stderr), as
// the shim writes it when it has no report pipe. It closes both descriptors.
func lateReport(report, stderr int, program string) {
	defer syscall.Close(report)
	defer syscall.Close(stderr)
	var buf [4096]byte
	n, err := readRetrying(report, buf[:])
	step, errno, failed := privs.ParseReport(buf[:max(n, 0)])
	if err != nil || !failed {
		return
	}
	_, _ = syscall.Write(stderr, []byte("uno: cannot start "+program+": "+step+": "+errno.Error()+"\n"))
}

// readRetrying is read(2) on fd, again after an interruption.
func readRetrying(fd int, buf []byte) (int, error) {
	n, err := syscall.Read(fd, buf)
	for err == syscall.EINTR {
		n, err = syscall.Read(fd, buf)
	}
	return n, err
}

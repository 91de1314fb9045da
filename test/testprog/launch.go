package main

// The modes test/peers uses to compare uno with the C inits: a launcher that hands an init the
// signal mask, ignored signals and open fds a caller might, and a process family that records
// which of its members each signal reaches.

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// family catches every signal a Go program can and appends "ROLE got N" to log for each. The
// program ("prog") first starts a "member" in its own process group, so a test can tell a
// signal sent to the program from one sent to its group.
func family(log, role string) {
	c := make(chan os.Signal, 128)
	for sig := syscall.Signal(1); sig <= 64; sig++ {
		switch sig {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGPROF, 32, 33, 34:
			continue
		}
		signal.Notify(c, sig)
	}
	if role == "prog" {
		self, err := os.Executable()
		if err != nil {
			panic(err)
		}
		attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
		if _, err := syscall.ForkExec(self, []string{"testprog", "member", log}, attr); err != nil {
			panic(err)
		}
	}
	appendLine(log, role+" ready")
	for s := range c {
		appendLine(log, fmt.Sprintf("%s got %d", role, int(s.(syscall.Signal))))
	}
}

// launch execs an init the way a caller with a particular state would: what it sets up here
// (signal mask, ignored signals, extra fds, LISTEN_PID, a PID namespace's own /proc) is what the
// init inherits. Go's syscall.Exec keeps the calling thread's signal mask, and an ignored signal
// stays ignored across exec; both are what a shell or container runtime would pass on.
func launch(args []string) {
	var block, ignore uint64
	fds := 0
	listenPid, proc := false, false
	for len(args) > 0 && args[0] != "--" {
		switch args[0] {
		case "-block", "-ignore", "-fds":
			if len(args) < 2 {
				fail("launch: %s needs a value", args[0])
			}
			base := 16
			if args[0] == "-fds" {
				base = 10
			}
			v, err := strconv.ParseUint(args[1], base, 64)
			if err != nil {
				fail("launch: %s %q: %v", args[0], args[1], err)
			}
			switch args[0] {
			case "-block":
				block = v
			case "-ignore":
				ignore = v
			default:
				fds = int(v)
			}
			args = args[1:]
		case "-listen-pid":
			listenPid = true
		case "-proc":
			proc = true
		default:
			fail("launch: unknown option %q", args[0])
		}
		args = args[1:]
	}
	if len(args) < 3 {
		fail("launch: want -- PATH ARGV0 [ARGS]")
	}
	path, argv := args[1], args[2:]
	if proc {
		// The test started us with CLONE_NEWNS: keep the new /proc out of the host's mounts.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fail("launch: private mounts: %v", err)
		}
		if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
			fail("launch: mount /proc: %v", err)
		}
	}
	if listenPid {
		os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	}
	// Whatever fds we were given beyond stdio (a CI runner's, a shell's) stop at exec: the init
	// sees only what the test hands it.
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range entries {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				unix.CloseOnExec(fd)
			}
		}
	}
	// Fixed numbers from 10, clear of whatever the runtime holds; without O_CLOEXEC, so they
	// reach the init as a caller's stray fds would.
	for i := 0; i < fds; i++ {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
		if err == nil {
			err = unix.Dup2(fd, 10+i)
			unix.Close(fd)
		}
		if err != nil {
			fail("launch: fd %d: %v", 10+i, err)
		}
	}
	for sig := 1; sig <= 64; sig++ {
		if ignore&(1<<(sig-1)) == 0 || sig == 9 || sig == 19 || (sig >= 32 && sig <= 34) {
			continue
		}
		signal.Ignore(syscall.Signal(sig))
	}
	// The mask is per thread: set it on the one that calls execve.
	runtime.LockOSThread()
	var set unix.Sigset_t
	set.Val[0] = block
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &set, nil); err != nil {
		fail("launch: sigmask: %v", err)
	}
	err := syscall.Exec(path, argv, os.Environ())
	unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil)
	fail("launch: exec %s: %v", path, err)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testprog: "+strings.TrimSuffix(format, "\n")+"\n", args...)
	os.Exit(125)
}

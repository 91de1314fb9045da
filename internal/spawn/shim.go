package spawn

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/privs"
	"github.com/uno-init/uno/internal/reaper"
)

// This file starts a program whose Spec has privilege settings, through uno's own binary as the
// privilege shim (see package privs for why): the shim gets the credentials instead of ForkExec,
// and a report pipe on which it says what failed, which closes unread when its exec succeeds.

// shimBinary is uno's own binary as the child sees it: the file uno runs from, even if its path
// has been replaced since. (A variable only for the benchmark, which measures the real uno.)
var shimBinary = "/proc/self/exe"

func startShim(r *reaper.Reaper, spec Spec, path string, attr *syscall.ProcAttr, onGroupExit reaper.GroupExit) (int, <-chan reaper.Exit, error) {
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC); err != nil {
		return 0, nil, &StartError{Program: spec.Argv[0], Err: err}
	}
	// attr is Start's, made for this start: the shim takes the credentials, and the report pipe
	// after every descriptor the program gets, so that it takes no number of theirs (the shim
	// marks it close-on-exec).
	attr.Sys.Credential = nil
	report := len(attr.Files)
	attr.Files = append(attr.Files, uintptr(pipe[1]))
	var id *privs.Identity
	if c := spec.Credential; c != nil {
		id = &privs.Identity{Uid: c.Uid, Gid: c.Gid, Groups: c.Groups}
	}
	var mask uint64
	if !spec.EmptyMask {
		mask = currentMask()
	}
	argv := privs.ShimArgs(spec.Privileges, id, mask, report, path, spec.Argv)
	// The shim starts with every signal blocked: the Go runtime unblocks those it ends the
	// process on (HUP, INT, TERM, QUIT...) and the faults, and the rest (USR1, ALRM, the
	// real-time ones...), which it would drop until the shim gives them their default action
	// (signals.RestoreDefaults), wait pending until the shim sets the program's mask.
	var full unix.Sigset_t
	full.Val[0] = ^uint64(0) // the kernel's set is the first 64 bits
	pid, exited, err := r.StartGroupLeader(onGroupExit, func() (int, error) {
		return forkExecMasked(shimBinary, argv, attr, &full)
	})
	syscall.Close(pipe[1])
	if err != nil {
		syscall.Close(pipe[0])
		what := "privilege shim " + shimBinary
		if _, serr := os.Stat("/proc/self"); err == syscall.ENOENT && serr != nil {
			what += " (is /proc mounted? uno starts a service with privilege settings through it)"
		}
		return 0, nil, &StartError{Program: spec.Argv[0], Err: &os.SyscallError{Syscall: what, Err: err}}
	}
	// Read outside the reaper's lock: the shim's start-up must not hold up reaping. The shim
	// writes its report at once, and the exec closes the pipe: one read says which, unless the
	// shim is stopped first: then it counts as started (shimreport.go).
	var buf [4096]byte // PIPE_BUF: the shim's one write arrives whole
	n, rerr, stopped := readReport(pipe[0], pid, buf[:])
	if stopped {
		if stderr, err := unix.FcntlInt(attr.Files[2], unix.F_DUPFD_CLOEXEC, 0); err == nil {
			go lateReport(pipe[0], stderr, spec.Argv[0])
			return pid, exited, nil
		}
		n, rerr = readRetrying(pipe[0], buf[:]) // no descriptor to spare: wait, as before
	}
	syscall.Close(pipe[0])
	step, errno, failed := privs.ParseReport(buf[:max(n, 0)])
	if !failed && rerr == nil {
		return pid, exited, nil
	}
	// The shim exits right after its report: its exit is this start's, not a run's.
	e := <-exited
	if e.Leftovers != nil {
		e.Leftovers.Kill(syscall.SIGKILL)
	}
	if rerr != nil {
		return 0, nil, &StartError{Program: spec.Argv[0], Err: &os.SyscallError{Syscall: "reading the privilege shim's report", Err: rerr}}
	}
	if step == "exec "+spec.Argv[0] {
		return 0, nil, execError(spec.Argv[0], errno)
	}
	return 0, nil, &StartError{Program: spec.Argv[0], Err: &os.SyscallError{Syscall: step, Err: errno}}
}

// StartError is a program whose privilege settings could not be applied: nothing of it ran.
type StartError struct {
	Program string
	Err     error
}

func (e *StartError) Error() string { return "cannot start " + e.Program + ": " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// currentMask is the calling thread's signal mask, which a child of ForkExec would get.
func currentMask() uint64 {
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &old); err != nil {
		return 0
	}
	return *(*uint64)(unsafe.Pointer(&old.Val[0]))
}

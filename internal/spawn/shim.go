package spawn

import (
	"errors"
	"fmt"
	"io"
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
	rd, wr, err := os.Pipe()
	if err != nil {
		return 0, nil, fmt.Errorf("cannot start %s: %w", spec.Argv[0], err)
	}
	defer rd.Close()
	shimAttr := *attr
	sys := *attr.Sys
	sys.Credential = nil
	shimAttr.Sys = &sys
	// The report pipe after every descriptor the program gets, so that it takes no number of
	// theirs; the shim marks it close-on-exec.
	report := len(attr.Files)
	shimAttr.Files = append(append([]uintptr(nil), attr.Files...), wr.Fd())
	var id *privs.Identity
	if c := spec.Credential; c != nil {
		id = &privs.Identity{Uid: c.Uid, Gid: c.Gid, Groups: c.Groups}
	}
	var mask uint64
	if !spec.EmptyMask {
		mask = currentMask()
	}
	argv := privs.ShimArgs(spec.Privileges, id, mask, report, path, spec.Argv)
	pid, exited, err := r.StartGroupLeader(onGroupExit, func() (int, error) {
		return syscall.ForkExec(shimBinary, argv, &shimAttr)
	})
	wr.Close()
	if err != nil {
		return 0, nil, fmt.Errorf("cannot start %s: privilege shim %s: %w", spec.Argv[0], shimBinary, err)
	}
	// Read outside the reaper's lock: the shim's start-up must not hold up reaping.
	msg, rerr := io.ReadAll(io.LimitReader(rd, 4096))
	failure := privs.ParseReport(msg)
	if failure == nil && rerr == nil {
		return pid, exited, nil
	}
	// The shim exits right after its report: its exit is this start's, not a run's.
	e := <-exited
	if e.Leftovers != nil {
		e.Leftovers.Kill(syscall.SIGKILL)
	}
	if rerr != nil {
		return 0, nil, fmt.Errorf("cannot start %s: reading the privilege shim's report: %w", spec.Argv[0], rerr)
	}
	var f *privs.Failure
	if errors.As(failure, &f) && f.Step == "exec "+spec.Argv[0] {
		return 0, nil, execError(spec.Argv[0], f.Errno)
	}
	return 0, nil, &StartError{Program: spec.Argv[0], Err: failure}
}

// StartError is a program whose privilege settings could not be applied: nothing of it ran.
type StartError struct {
	Program string
	Err     error
}

func (e *StartError) Error() string { return fmt.Sprintf("cannot start %s: %v", e.Program, e.Err) }
func (e *StartError) Unwrap() error { return e.Err }

// currentMask is the calling thread's signal mask, which a child of ForkExec would get.
func currentMask() uint64 {
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &old); err != nil {
		return 0
	}
	return *(*uint64)(unsafe.Pointer(&old.Val[0]))
}

// Package stdio writes to uno's own standard output and standard error without ever raising a
// SIGPIPE in uno.
//
// uno catches SIGPIPE so that one sent to it can be passed on to its program. A write of uno's own
// to a pipe whose reader has gone raises one too, and nothing tells the two apart once caught
// (the kernel marks both as sent by a user): so uno's own writes must raise none. A Writer blocks
// SIGPIPE in the writing thread for the length of each write, so the kernel's signal stays
// pending on that thread and is taken back before it is unblocked, and it writes with write(2)
// rather than through os.File, whose writes to fds 1 and 2 raise a SIGPIPE of their own on EPIPE.
// The write just fails with EPIPE, and the caller decides.
//
// It does not buffer or queue: see ulog.Async for a writer that never blocks.
package stdio

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Writer writes to one of uno's own descriptors. It is safe for concurrent use; concurrent writes
// are not serialized beyond what write(2) does.
type Writer struct {
	f *os.File
}

// New returns a Writer for f, typically os.Stdout or os.Stderr. f must stay open.
func New(f *os.File) *Writer { return &Writer{f: f} }

// File is the file written to, for callers that compare destinations or ask for a terminal.
func (w *Writer) File() *os.File { return w.f }

var sigpipeSet = func() unix.Sigset_t {
	var s unix.Sigset_t
	s.Val[0] = 1 << (syscall.SIGPIPE - 1)
	return s
}()

// Write writes all of p, or fails: EPIPE when nobody reads any more.
func (w *Writer) Write(p []byte) (int, error) {
	// The mask is per thread: the goroutine must not move while SIGPIPE is blocked.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &sigpipeSet, &old); err != nil {
		return 0, os.NewSyscallError("rt_sigprocmask", err)
	}
	n, err := writeAll(int(w.f.Fd()), p)
	if errors.Is(err, syscall.EPIPE) && old.Val[0]&sigpipeSet.Val[0] == 0 {
		takePendingSIGPIPE()
	}
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	if err != nil {
		return n, &os.PathError{Op: "write", Path: w.f.Name(), Err: err}
	}
	return n, nil
}

func writeAll(fd int, p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := unix.Write(fd, p[written:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			// A descriptor someone else made non-blocking: wait until it takes more.
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, -1); err != nil && err != syscall.EINTR {
				return written, err
			}
			continue
		case err != nil:
			return written, err
		}
		written += n
	}
	return written, nil
}

// takePendingSIGPIPE removes the SIGPIPE that the failed write left pending on this thread.
func takePendingSIGPIPE() {
	var zero unix.Timespec
	for {
		_, _, errno := unix.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&sigpipeSet)), 0,
			uintptr(unsafe.Pointer(&zero)), 8, 0, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}

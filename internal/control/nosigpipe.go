package control

import (
	"errors"
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// noSIGPIPE writes to a connection with MSG_NOSIGNAL, so that a peer that hung up makes the write
// fail with EPIPE and raises no SIGPIPE. uno catches SIGPIPE (Go would otherwise die of one on
// stderr), and one raised by its own write cannot be told from one sent to it: in single-program
// mode it would be forwarded to the program and kill it. A health check that gives up before its
// answer (a HEALTHCHECK timeout, a kubelet probe) must never do that.
type noSIGPIPE struct{ raw syscall.RawConn }

// quiet wraps conn for writing; a conn without a descriptor is written to as it is.
func quiet(conn io.Writer) io.Writer {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return conn
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return conn
	}
	return noSIGPIPE{raw}
}

// Write writes all of p, waiting in the runtime's poller while the socket is full; the
// connection's write deadline applies.
func (w noSIGPIPE) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		var n int
		var sendErr error
		err := w.raw.Write(func(fd uintptr) bool {
			for {
				n, sendErr = unix.SendmsgN(int(fd), p[written:], nil, nil, unix.MSG_NOSIGNAL)
				if !errors.Is(sendErr, unix.EINTR) {
					return !errors.Is(sendErr, unix.EAGAIN)
				}
			}
		})
		if err == nil {
			err = sendErr
		}
		if err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

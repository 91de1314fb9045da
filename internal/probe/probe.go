// Package probe checks whether a service is ready: an HTTP GET that answers 2xx, a TCP connect, a
// command that exits 0, a file that exists, or a READY=1 datagram on the systemd notify socket,
// which says who sent it (Message.From).
//
// A check is one attempt; the supervisor decides how often to try and when to give up. Exec
// checks start their command through the reaper like any other child, never with os/exec,
// whose Wait would race the reaper for the exit status.
package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/proc"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/spawn"
)

// Check is one attempt; nil means ready. It must return soon after ctx is done.
type Check func(ctx context.Context) error

// HTTP checks that a GET of rawURL answers with a 2xx status. Only plain http is spoken: a
// readiness check talks to the service inside the container, and a TLS client would double uno's
// size. The request is written by hand for the same reason.
func HTTP(rawURL string) (Check, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: only http:// URLs can be checked (use a tcp or exec check for TLS)", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	request := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: uno-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return err
		}
		defer conn.Close()
		if deadline, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(deadline)
		}
		if _, err := conn.Write([]byte(request)); err != nil {
			return err
		}
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the response: %w", err)
		}
		// "HTTP/1.1 200 OK"
		fields := strings.Fields(status)
		if len(fields) < 2 || !strings.HasPrefix(fields[0], "HTTP/") {
			return fmt.Errorf("not an HTTP response: %q", strings.TrimSpace(status))
		}
		code, err := strconv.Atoi(fields[1])
		if err != nil {
			return fmt.Errorf("not an HTTP response: %q", strings.TrimSpace(status))
		}
		if code < 200 || code > 299 {
			return fmt.Errorf("HTTP status %d", code)
		}
		return nil
	}, nil
}

// TCP checks that addr accepts a connection.
func TCP(addr string) Check {
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}

// File checks that path exists.
func File(path string) Check {
	return func(context.Context) error {
		_, err := os.Stat(path)
		return err
	}
}

// Exec checks that a command exits 0. It runs with the service's environment, directory and
// user, in a process group of its own that is killed if ctx ends first, and whatever it leaves in
// that group is killed when it exits (a check runs every interval: leftovers would pile up); its
// output is discarded.
func Exec(r *reaper.Reaper, spec spawn.Spec) Check {
	spec.Pgroup = true
	spec.OnGroupExit = reaper.GroupExit{Signal: syscall.SIGKILL}
	return func(ctx context.Context) error {
		devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		spec.Stdio = [3]*os.File{devnull, devnull, devnull}
		pid, exited, err := spawn.Start(r, spec)
		devnull.Close()
		if err != nil {
			return err
		}
		select {
		case e := <-exited:
			if code := e.Code(); code != 0 {
				return fmt.Errorf("%s exited with status %d", spec.Argv[0], code)
			}
			return nil
		case <-ctx.Done():
			_ = r.Signal(pid, true, syscall.SIGKILL)
			<-exited
			return ctx.Err()
		}
	}
}

// Notifier is a systemd notify socket (sd_notify(3)) for one service: the service finds its
// path in $NOTIFY_SOCKET and sends datagrams such as "READY=1\nSTATUS=listening".
//
// Any process that can reach the socket can send to it, so each message says who sent it, as
// the kernel vouches (SO_PASSCRED), and where that sender was in the process tree when the
// message was read: the supervisor credits it only to the run it comes from (Message.From).
type Notifier struct {
	Path string
	conn *net.UnixConn
}

// Listen creates the socket at path, owned by uid and gid so that a service running as another
// user can send to it, and readable by nobody else.
func Listen(path string, uid, gid int) (*Notifier, error) {
	_ = os.Remove(path) // a stale socket from an earlier run
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	n := &Notifier{Path: path, conn: conn}
	if err := n.passCredentials(); err != nil {
		n.Close()
		return nil, fmt.Errorf("notify socket %s: SO_PASSCRED: %w", path, err)
	}
	if err := os.Chown(path, uid, gid); err != nil && uid != os.Getuid() {
		n.Close() // and the socket file with it: the next start binds the path again
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// passCredentials has the kernel attach the sender's pid to each datagram. Set before the path
// is handed to anyone: a message sent before it would come with pid 0, and be ignored.
func (n *Notifier) passCredentials() error {
	raw, err := n.conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	}); err != nil {
		return err
	}
	return serr
}

// Message is one datagram on a notify socket.
type Message struct {
	Vars map[string]string
	// Pid is the sender, in uno's PID namespace, from the credentials the kernel attached: only
	// a process with CAP_SYS_ADMIN can claim another's. 0: unknown (sent from another PID
	// namespace, or before the socket asked for credentials).
	Pid int
	// Pgid is the sender's process group when the message was read (0: the sender was gone).
	Pgid int
	// Ancestors are the sender's parents when the message was read, nearest first, up to uno.
	// nil when /proc is not uno's PID namespace's: its numbers are not those of Pid.
	Ancestors []int
}

// From reports whether m was sent by leader, by a member of the process group it leads, or by a
// descendant of it: by the run of a service whose process leader is. A sender that was gone by
// the time uno read its message (reaped, not even a zombie) cannot be placed, and is not.
func (m Message) From(leader int) bool {
	if m.Pid <= 0 || leader <= 0 {
		return false
	}
	return m.Pid == leader || m.Pgid == leader || slices.Contains(m.Ancestors, leader)
}

// Messages reads datagrams until Close and calls fn with each one. Where each sender stands is
// read at once, before the next datagram: a sender that waits for its message to be read (as
// systemd-notify does, with BARRIER=1) is then sure to be found.
func (n *Notifier) Messages(fn func(Message)) {
	buf := make([]byte, 4096)
	// Room for the credentials and nothing else: file descriptors sent along (BARRIER=1 sends
	// one) do not fit, and the kernel closes them instead of installing them in uno.
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		size, oobn, flags, _, err := n.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (a sender that vanished): keep listening, but do not spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			// Longer than buf: dropped whole, as systemd drops one. Read cut, its last line
			// could say what the sender never did (READY=10 cut to READY=1).
			continue
		}
		m := Message{Vars: map[string]string{}, Pid: sender(oob[:oobn])}
		if m.Pid > 0 {
			m.Pgid, m.Ancestors = placeOf(m.Pid)
		}
		for _, line := range strings.Split(string(buf[:size]), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				m.Vars[k] = v
			}
		}
		fn(m)
	}
}

// sender returns the pid in the credentials among a datagram's control messages, 0 if none.
func sender(oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	pid := 0
	for i := range msgs {
		if cred, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
			pid = int(cred.Pid)
		} else if fds, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			for _, fd := range fds { // none should fit; never keep one if it does
				unix.Close(fd)
			}
		}
	}
	return pid
}

// placeOf reads pid's process group (by uno's numbers, which pid is in) and, when /proc is uno's
// namespace's, its ancestors up to uno.
func placeOf(pid int) (pgid int, ancestors []int) {
	pgid, err := unix.Getpgid(pid)
	if err != nil {
		return 0, nil
	}
	if !proc.Own() {
		return pgid, nil
	}
	if st, ok := proc.Read(pid); ok {
		ancestors = proc.Ancestors(st, os.Getpid())
	}
	return pgid, ancestors
}

// Close removes the socket and ends Messages.
func (n *Notifier) Close() error {
	err := n.conn.Close()
	_ = os.Remove(n.Path)
	return err
}

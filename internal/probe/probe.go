// Package probe checks whether a service is ready: an HTTP GET that answers 2xx, a TCP connect, a
// command that exits 0, a file that exists, or a READY=1 datagram on the systemd notify socket.
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
	"strconv"
	"strings"
	"syscall"
	"time"

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

// Messages reads datagrams until Close and calls fn with each one's variables.
func (n *Notifier) Messages(fn func(vars map[string]string)) {
	buf := make([]byte, 4096)
	for {
		size, _, err := n.conn.ReadFromUnix(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (a sender that vanished): keep listening, but do not spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		vars := map[string]string{}
		for _, line := range strings.Split(string(buf[:size]), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				vars[k] = v
			}
		}
		fn(vars)
	}
}

// Close removes the socket and ends Messages.
func (n *Notifier) Close() error {
	err := n.conn.Close()
	_ = os.Remove(n.Path)
	return err
}

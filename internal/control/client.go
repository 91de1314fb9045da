package control

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/safedir"
)

// SocketName is the control socket's file name in uno's runtime directory.
const SocketName = "uno.sock"

// RuntimeDir is where uno keeps its control socket: /run/uno when /run is writable (a container's
// root), else $XDG_RUNTIME_DIR/uno, else /tmp/uno-UID. Both uno and uno ctl trust the latter two,
// the per-user fallback, only once safedir.Check does.
func RuntimeDir() string {
	if unix.Access("/run", unix.W_OK) == nil {
		return "/run/uno"
	}
	return userRuntimeDir()
}

func userRuntimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "uno")
	}
	return filepath.Join(os.TempDir(), "uno-"+strconv.Itoa(os.Getuid()))
}

// DefaultSocket is the socket uno listens on when not told otherwise.
func DefaultSocket() string { return filepath.Join(RuntimeDir(), SocketName) }

// FindSocket is the socket `uno ctl` talks to when not told otherwise: the first that exists of
// /run/uno/uno.sock and the per-user places, so that a client that cannot write /run (a
// non-root docker exec) still finds a root uno's socket, and gets a clear "permission denied".
func FindSocket() string {
	candidates := []string{filepath.Join("/run/uno", SocketName), filepath.Join(userRuntimeDir(), SocketName)}
	for _, c := range candidates {
		if _, err := os.Lstat(c); err == nil {
			return c
		}
	}
	return DefaultSocket()
}

// Client talks to one uno.
type Client struct {
	Path    string
	Timeout time.Duration // for connecting and for answers other than a logs stream
}

// Do sends req and returns the reply. A reply with OK false is not an error: probes answer
// "not ready" that way; the caller looks at Reply.Error.
func (c *Client) Do(req Request) (Reply, error) {
	var last Reply
	err := c.Stream(req, func(r Reply) error { last = r; return nil })
	return last, err
}

// Stream sends req and calls fn with each reply until the server is done.
func (c *Client) Stream(req Request, fn func(Reply) error) error {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	// A socket in the per-user fallback directory is worth what the directory is: another user
	// who made it could answer in uno's stead. uno itself would allow its group (0750) at most.
	if dir := filepath.Dir(c.Path); dir == userRuntimeDir() {
		if err := safedir.Check(dir, 0o750); errors.Is(err, fs.ErrNotExist) {
			return c.dialError(err) // not dialled: the directory could be planted in the meantime
		} else if err != nil {
			return err
		}
	}
	conn, err := net.DialTimeout("unix", c.Path, timeout)
	if err != nil {
		return c.dialError(err)
	}
	defer conn.Close()
	if !req.Follow && (req.Command != CmdStart && req.Command != CmdStop && req.Command != CmdRestart && req.Command != CmdReload || req.NoWait) {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	req.Version = Version
	if err := writeMessage(conn, req); err != nil {
		return fmt.Errorf("sending to %s: %w", c.Path, err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	for {
		var reply Reply
		if err := readMessage(r, &reply); err != nil {
			return fmt.Errorf("reading from %s: %w", c.Path, err)
		}
		if err := checkVersion(reply.Version, "uno at "+c.Path); err != nil {
			return err
		}
		if err := fn(reply); err != nil {
			return err
		}
		// Everything but a logs stream is one reply; a stream ends with Done or an error.
		if req.Command != CmdLogs || reply.Done || reply.Error != "" {
			return nil
		}
	}
}

func (c *Client) dialError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no uno is listening on %s (is uno running, with its control socket on? --socket or UNO_SOCKET choose another)", c.Path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("permission denied on %s: uno's control socket is for root and uno's own user (--socket-group grants a group read-only access)", c.Path)
	}
	return fmt.Errorf("connecting to %s: %w", c.Path, err)
}

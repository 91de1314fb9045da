package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/proc"
	"github.com/uno-init/uno/internal/safedir"
	"github.com/uno-init/uno/internal/ulog"
)

// Backend answers requests. Its methods are called from the server's goroutines, one per
// connection, concurrently.
type Backend interface {
	// Status describes the named services, or all when names is empty; an unknown name is an
	// error naming it.
	Status(names []string) ([]ServiceStatus, error)
	// Ready reports whether every essential service is ready, and if not, why not.
	Ready() (bool, string)
	// Health reports whether no essential service is failing or restarting, and if not, why.
	Health() (bool, string)
	// Act carries out start, stop, restart, signal or reload, and returns a one-line account.
	// Unless req.NoWait, it returns when the action is done or ctx ends.
	Act(ctx context.Context, req Request) (string, error)
	// Logs returns up to n last lines of a service's output.
	Logs(name string, n int) ([][]byte, error)
	// Follow delivers a service's new output lines until cancel is called.
	Follow(name string) (lines <-chan []byte, cancel func(), err error)
	// Metrics is the Prometheus text exposition of uno's metrics.
	Metrics() []byte
}

// LogFiles is what a Backend whose services may have log files answers too.
type LogFiles interface {
	// LogFileTail returns up to n last lines of a service's current log file.
	LogFileTail(name string, n int) ([][]byte, error)
	// ReopenLogs reopens the log files of the named services, or all, and says how many.
	ReopenLogs(names []string) (string, error)
}

// readOnly are the commands a member of the socket's group (--socket-group) may send.
var readOnly = []string{CmdStatus, CmdReady, CmdHealth, CmdMetrics}

// requestTimeout bounds reading a request and an action: a client that connects and says
// nothing must not hold a goroutine for ever.
const (
	requestTimeout = 10 * time.Second
	actionTimeout  = 5 * time.Minute
)

// ErrInUse is a socket path another uno answers on (a second uno in the same container, started
// by docker exec): that one keeps it.
var ErrInUse = errors.New("another uno is already listening")

// Server serves the control socket.
type Server struct {
	Path    string
	backend Backend
	log     *ulog.Logger
	ln      *net.UnixListener
	group   int // -1: no group access
	uid     int

	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// Listen creates the socket at path: mode 0600 in a 0700 directory, or 0660 and 0750 with group
// (a gid, or -1) given read-only access; a directory that already exists keeps its mode, but the
// per-user fallback directory is used only if safedir.Check trusts it. A live socket of another
// uno is not taken over.
func Listen(path string, group int, b Backend, log *ulog.Logger) (*Server, error) {
	dir := filepath.Dir(path)
	dirMode, sockMode := os.FileMode(0o700), os.FileMode(0o600)
	if group >= 0 {
		dirMode, sockMode = 0o750, 0o660
	}
	// The directory's mode is set only when uno creates it: a socket path in an existing
	// directory (/tmp, say) must not change who may use that directory.
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		// Another's mkdir may win the race: then the directory is not uno's to change.
		if err := os.Mkdir(dir, dirMode); err == nil {
			if err := os.Chmod(dir, dirMode); err != nil { // the umask may have taken bits away
				return nil, err
			}
			if group >= 0 {
				if err := os.Chown(dir, -1, group); err != nil {
					return nil, err
				}
			}
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	// The per-user fallback lies where other users may create files (/tmp): one of them may have
	// made the directory, or a link by its name, to take the socket's place.
	if dir == userRuntimeDir() {
		if err := safedir.Check(dir, dirMode); err != nil {
			return nil, err
		}
	}
	if fi, err := os.Lstat(path); err == nil {
		// Only a socket is uno's to replace: --socket naming a file by mistake must not delete it.
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		conn, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			conn.Close()
			return nil, fmt.Errorf("%w on %s", ErrInUse, path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			// Not plainly dead (a live uno with a full backlog answers EAGAIN): leave it.
			return nil, fmt.Errorf("%s exists and cannot be checked: %w", path, err)
		}
		// A socket left by an uno that died: nobody answers on it.
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	ln, err := listenAtomically(path, group, sockMode)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Path: path, backend: b, log: log, ln: ln, group: group, uid: os.Getuid(), ctx: ctx, cancel: cancel}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// listenAtomically listens on a socket that appears at path only once it is listening, with its
// final owner and mode: a client that finds the path never meets a refused connection, nor a
// socket with the umask's mode. The socket is made under a name of its own in the same directory
// and linked to path, which fails, rather than replace, if path exists meanwhile.
func listenAtomically(path string, group int, mode os.FileMode) (*net.UnixListener, error) {
	temp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%d", os.Getpid()))
	_ = os.Remove(temp) // a leftover of an uno with this pid that died before linking
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: temp, Net: "unix"})
	if err != nil {
		// The temporary name does not fit where path does (sun_path holds 107 bytes): bind
		// path itself; clients may then meet it a moment before it listens.
		temp = path
		if ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"}); err != nil {
			return nil, err
		}
	}
	ln.SetUnlinkOnClose(false) // the name that counts is path, removed by Close
	fail := func(err error) (*net.UnixListener, error) {
		ln.Close()
		_ = os.Remove(temp)
		return nil, err
	}
	if group >= 0 {
		if err := os.Chown(temp, -1, group); err != nil {
			return fail(err)
		}
	}
	if err := os.Chmod(temp, mode); err != nil {
		return fail(err)
	}
	if temp == path {
		return ln, nil
	}
	defer os.Remove(temp)
	if err := os.Link(temp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%w on %s", ErrInUse, path)
		}
		return fail(err)
	}
	return ln, nil
}

// Close stops accepting, ends follow streams and removes the socket.
func (s *Server) Close() {
	s.cancel()
	s.ln.Close()
	_ = os.Remove(s.Path)
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: back off rather than spin, and keep serving.
			s.log.Warn("control socket: accept failed", "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		go s.handle(conn)
	}
}

func (s *Server) handle(conn *net.UnixConn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(requestTimeout))
	w := bufio.NewWriter(quiet(conn))
	var writeErr error
	reply := func(r Reply) {
		if writeErr != nil {
			return
		}
		r.Version = Version
		if writeErr = writeMessage(w, r); writeErr == nil {
			writeErr = w.Flush()
		}
	}
	fail := func(format string, args ...any) { reply(Reply{Error: fmt.Sprintf(format, args...)}) }

	full, readAllowed, who := s.peer(conn)
	if !readAllowed {
		// The request is read first, though refused whatever it says: a client still writing it
		// when the connection closes gets a broken pipe instead of this answer.
		_, _ = readLine(bufio.NewReaderSize(io.LimitReader(conn, MaxMessage+1), 4096))
		fail("permission denied: %s may not use uno's control socket (root and uid %d may)", who, s.uid)
		return
	}
	var req Request
	// A request longer than a message is cut off at one byte more, so that a client that
	// sends a megabyte without a newline is answered at once, not after the deadline.
	if err := readMessage(bufio.NewReaderSize(io.LimitReader(conn, MaxMessage+1), 4096), &req); err != nil {
		fail("bad request: %v", err)
		// Closing with unread input would reset the connection and lose the reply: end our
		// side, then let the client finish sending (bounded by the deadline) before closing.
		_ = conn.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(conn, 4*MaxMessage))
		return
	}
	if err := checkVersion(req.Version, "the client"); err != nil {
		fail("%v", err)
		return
	}
	if !full && !slices.Contains(readOnly, req.Command) {
		fail("permission denied: %s may only ask for status, ready and health", who)
		return
	}
	switch req.Command {
	case CmdStatus:
		services, err := s.backend.Status(req.Names)
		if err != nil {
			fail("%v", err)
			return
		}
		reply(Reply{OK: true, Services: services})
	case CmdReady, CmdHealth:
		probe := s.backend.Ready
		if req.Command == CmdHealth {
			probe = s.backend.Health
		}
		ok, why := probe()
		reply(Reply{OK: ok, Message: why})
	case CmdStart, CmdStop, CmdRestart, CmdSignal, CmdReload, CmdRun:
		_ = conn.SetDeadline(time.Now().Add(actionTimeout))
		ctx, cancel := context.WithTimeout(s.ctx, actionTimeout)
		defer cancel()
		msg, err := s.backend.Act(ctx, req)
		if err != nil {
			fail("%v", err)
			return
		}
		reply(Reply{OK: true, Message: msg})
	case CmdMetrics:
		reply(Reply{OK: true, Metrics: string(s.backend.Metrics())})
	case CmdLogs:
		s.logs(conn, req, reply, fail, func() error { return writeErr })
	default:
		fail("unknown command %q", req.Command)
	}
}

// followWriteTimeout drops a follower that stopped reading: its handler must not be held for ever.
const followWriteTimeout = 10 * time.Second

func (s *Server) logs(conn *net.UnixConn, req Request, reply func(Reply), fail func(string, ...any), failed func() error) {
	if req.Reopen || req.Files {
		s.logFiles(req, reply, fail)
		return
	}
	if len(req.Names) != 1 {
		fail("logs takes exactly one service name")
		return
	}
	name := req.Names[0]
	// Subscribe before reading the tail, so that no line falls between the two (a line may be
	// shown twice instead, which a follower tolerates better than a gap).
	var lines <-chan []byte
	if req.Follow {
		var cancel func()
		var err error
		if lines, cancel, err = s.backend.Follow(name); err != nil {
			fail("%v", err)
			return
		}
		defer cancel()
	}
	tail, err := s.backend.Logs(name, req.Lines)
	if err != nil {
		fail("%v", err)
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Now().Add(followWriteTimeout))
	for _, l := range tail {
		reply(Reply{OK: true, Line: string(l)})
	}
	if req.Follow {
		// A follower that went away is noticed by the read below returning (it sends nothing
		// after its request); one that stays but stops reading, by a write timing out.
		gone := make(chan struct{})
		go func() {
			_, _ = conn.Read(make([]byte, 1))
			close(gone)
		}()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					reply(Reply{OK: true, Done: true})
					return
				}
				_ = conn.SetWriteDeadline(time.Now().Add(followWriteTimeout))
				reply(Reply{OK: true, Line: string(l)})
				if failed() != nil {
					return
				}
			case <-gone:
				return
			case <-s.ctx.Done():
				reply(Reply{OK: true, Done: true})
				return
			}
		}
	}
	reply(Reply{OK: true, Done: true})
}

// logFiles answers logs --reopen and logs --files.
func (s *Server) logFiles(req Request, reply func(Reply), fail func(string, ...any)) {
	files, ok := s.backend.(LogFiles)
	if !ok {
		fail("this uno writes no log files")
		return
	}
	if req.Reopen {
		msg, err := files.ReopenLogs(req.Names)
		if err != nil {
			fail("%v", err)
			return
		}
		reply(Reply{OK: true, Message: msg, Done: true})
		return
	}
	if len(req.Names) != 1 || req.Follow {
		fail("logs --files takes exactly one service name, and does not follow")
		return
	}
	lines, err := files.LogFileTail(req.Names[0], req.Lines)
	if err != nil {
		fail("%v", err)
		return
	}
	for _, l := range lines {
		reply(Reply{OK: true, Line: string(l)})
	}
	reply(Reply{OK: true, Done: true})
}

// peer decides what the connecting process may do from its credentials (SO_PEERCRED): root and
// uno's own uid everything, members of the socket group (by primary or supplementary group)
// the read-only commands.
func (s *Server) peer(conn *net.UnixConn) (full, read bool, who string) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return false, false, "an unknown peer"
	}
	var cred *unix.Ucred
	var credErr error
	_ = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if credErr != nil || cred == nil {
		return false, false, "an unknown peer"
	}
	who = "uid " + strconv.Itoa(int(cred.Uid))
	if cred.Uid == 0 || int(cred.Uid) == s.uid {
		return true, true, who
	}
	if s.group >= 0 && (int(cred.Gid) == s.group || hasGroup(int(cred.Pid), s.group)) {
		return false, true, who
	}
	return false, false, who
}

// hasGroup reports whether process pid has gid among its supplementary groups. It says no when
// /proc is another PID namespace's: pid, as SO_PEERCRED gives it in uno's, is someone else there.
func hasGroup(pid, gid int) bool {
	if !proc.Own() {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if groups, ok := strings.CutPrefix(line, "Groups:"); ok {
			return slices.Contains(strings.Fields(groups), strconv.Itoa(gid))
		}
	}
	return false
}

// LogListenError reports a socket that could not be opened: quietly when another uno has it (the
// usual case of a second uno in a container), as a warning otherwise.
func LogListenError(log *ulog.Logger, path string, err error) {
	if errors.Is(err, ErrInUse) {
		log.Info("control socket left to the uno already listening on it", "path", path)
		return
	}
	log.Warn("control socket not available; uno ctl will not reach this uno", "path", path, "err", err)
}

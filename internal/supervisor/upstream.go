package supervisor

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// This file passes uno's own readiness up to whatever started it with NOTIFY_SOCKET (systemd
// Type=notify, podman run --sdnotify=container, systemd-run): READY=1 once every essential
// service is ready, STATUS= as the summary changes, STOPPING=1 when uno stops, and WATCHDOG=1
// from the supervisor's goroutine when the manager asked for it (WATCHDOG_USEC), so that a
// supervisor that hangs stops the pings.

// Upstream is the manager uno reports to.
type Upstream struct {
	// Socket is NOTIFY_SOCKET: a path, or "@name" for an abstract socket.
	Socket string
	// Watchdog is WATCHDOG_USEC, when it was meant for uno (WATCHDOG_PID unset or uno's pid).
	Watchdog time.Duration
}

// TakeUpstream reads NOTIFY_SOCKET and the watchdog variables from uno's environment and removes
// them, so that services do not talk to uno's manager behind its back (a service's READY=1
// there would make the container ready before its other services). ok is false without one.
func TakeUpstream() (u Upstream, ok bool) {
	socket := os.Getenv("NOTIFY_SOCKET")
	if socket == "" {
		return Upstream{}, false
	}
	u.Socket = socket
	if usec, err := strconv.ParseUint(os.Getenv("WATCHDOG_USEC"), 10, 63); err == nil && usec > 0 {
		if pid := os.Getenv("WATCHDOG_PID"); pid == "" || pid == strconv.Itoa(os.Getpid()) {
			u.Watchdog = time.Duration(usec) * time.Microsecond
		}
	}
	for _, v := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		_ = os.Unsetenv(v)
	}
	return u, true
}

// upstream is the open socket to the manager.
type upstream struct {
	fd     int
	addr   *unix.SockaddrUnix
	status string // the last STATUS= sent
	ready  bool   // READY=1 sent
}

type upstreamPing struct{}

// minUpstreamPing bounds the pings' period from below: WATCHDOG_USEC=1 asked for one every
// 500ns, and uno spun a core sending them.
const minUpstreamPing = 10 * time.Millisecond

// pingEvery is the period of the pings to the manager's watchdog: half of what it asked.
func (u Upstream) pingEvery() time.Duration { return max(u.Watchdog/2, minUpstreamPing) }

// openUpstream opens the socket to the manager, if uno has one.
func (sv *Supervisor) openUpstream() {
	u := sv.opts.Upstream
	if u.Socket == "" {
		return
	}
	if !strings.HasPrefix(u.Socket, "@") && !strings.HasPrefix(u.Socket, "/") {
		sv.log.Warn("NOTIFY_SOCKET is neither a path nor @abstract; ignored", "socket", u.Socket)
		return
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		sv.log.Warn("NOTIFY_SOCKET ignored", "err", err)
		return
	}
	sv.up = &upstream{fd: fd, addr: &unix.SockaddrUnix{Name: u.Socket}}
	if u.Watchdog > 0 {
		if u.Watchdog/2 < minUpstreamPing {
			sv.log.Warn("WATCHDOG_USEC asks for pings below 10ms; pinging every 10ms", "watchdog_usec", u.Watchdog.Microseconds())
		}
		sv.log.Info("pinging the manager's watchdog", "every", u.pingEvery())
		time.AfterFunc(u.pingEvery(), func() { sv.events <- upstreamPing{} })
	}
}

// sendUpstream sends one message; it never blocks (a manager that does not read loses it).
func (sv *Supervisor) sendUpstream(msg string) {
	if sv.up == nil {
		return
	}
	err := unix.Sendto(sv.up.fd, []byte(msg), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, sv.up.addr)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		sv.log.Debug("cannot send to NOTIFY_SOCKET", "err", err)
	}
}

// reportUpstream tells the manager what changed in snap: READY=1 the first time uno is ready,
// STATUS= whenever the summary changes.
func (sv *Supervisor) reportUpstream(snap *snapshot) {
	if sv.up == nil || sv.stopping {
		return
	}
	status := snap.readyWhy
	if !snap.healthy {
		status = snap.healthWhy
	}
	var msg string
	if snap.ready && !sv.up.ready {
		sv.up.ready = true
		msg = "READY=1\n"
	}
	if status != sv.up.status {
		sv.up.status = status
		msg += "STATUS=" + oneLine(status) + "\n"
	}
	if msg != "" {
		sv.sendUpstream(msg)
	}
}

// stoppingUpstream tells the manager uno is stopping.
func (sv *Supervisor) stoppingUpstream(reason string) {
	sv.sendUpstream("STOPPING=1\nSTATUS=" + oneLine("stopping: "+reason) + "\n")
}

// pingUpstream sends WATCHDOG=1 and arms the next ping; it runs on the supervisor's goroutine.
func (sv *Supervisor) pingUpstream() {
	sv.sendUpstream("WATCHDOG=1\n")
	time.AfterFunc(sv.opts.Upstream.pingEvery(), func() { sv.events <- upstreamPing{} })
}

func (sv *Supervisor) closeUpstream() {
	if sv.up != nil {
		unix.Close(sv.up.fd)
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

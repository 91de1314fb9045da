package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Readiness passed up: uno started with NOTIFY_SOCKET (as systemd Type=notify or podman
// --sdnotify=container start it) sends READY=1 once every essential service is ready, STATUS=
// as things change, and STOPPING=1 when it stops; the services do not see the socket.

// notifyListener is a manager's notify socket; its datagrams arrive on the channel.
func notifyListener(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	msgs := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return path, msgs
}

// nextMessage waits for the next datagram.
func nextMessage(t *testing.T, msgs <-chan string) string {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(deadline):
		t.Fatalf("no notify message within %v", deadline)
	}
	return ""
}

func TestNotifyUpstream(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		path, msgs := notifyListener(t)
		p, marks := startServices(t, startOpts{mode: m, env: []string{"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=200000"}}, `
[services.db]
command = ["sh", "-c", "echo \"db sees [$NOTIFY_SOCKET] [$WATCHDOG_USEC]\" >> \"$MARKS\"; exec sleep 1000"]
ready = { file = "${MARKS}.ready", interval = "20ms" }

[services.app]
command = ["sleep", "1000"]
depends_on = ["db"]
`, "--no-socket")
		// Before db is ready: STATUS lines only, and the watchdog pings.
		var seen []string
		sawWatchdog := false
		for !sawWatchdog || !strings.Contains(strings.Join(seen, "|"), "not ready: ") {
			msg := nextMessage(t, msgs)
			if strings.Contains(msg, "READY=1") {
				t.Fatalf("READY=1 before db was ready: %q", seen)
			}
			if msg == "WATCHDOG=1\n" {
				sawWatchdog = true
			} else {
				seen = append(seen, msg)
			}
		}
		if err := os.WriteFile(marks+".ready", nil, 0o644); err != nil {
			t.Fatal(err)
		}
		var ready string
		for ready == "" {
			if msg := nextMessage(t, msgs); strings.Contains(msg, "READY=1") {
				ready = msg
			}
		}
		if !strings.Contains(ready, "STATUS=ready: 2 services") {
			t.Errorf("READY=1 came as %q", ready)
		}
		waitMark(t, marks, "db_sees_[]_[]")
		p.signal(syscall.SIGTERM)
		var stopping string
		for stopping == "" {
			msg := nextMessage(t, msgs)
			if strings.Contains(msg, "READY=1") {
				t.Errorf("READY=1 twice: %q", msg)
			}
			if strings.Contains(msg, "STOPPING=1") {
				stopping = msg
			}
		}
		if !strings.Contains(stopping, "STATUS=stopping: SIGTERM") {
			t.Errorf("STOPPING=1 came as %q", stopping)
		}
		p.expectExit(0)
	})
}

// A manager's WATCHDOG_USEC=1 (a typo, or a hostile manager) asked for a ping every 500ns: uno
// spun a whole core sending them, for ever. The pings are at most one per 10ms.
func TestNotifyUpstreamTinyWatchdog(t *testing.T) {
	path, msgs := notifyListener(t)
	began := time.Now()
	p, _ := startServices(t, startOpts{mode: asSubreaper, env: []string{"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=1"}}, `
[services.app]
command = ["sleep", "1000"]
`, "--no-socket")
	pings := 0
	var readyAt time.Time
	for readyAt.IsZero() || time.Since(readyAt) < 300*time.Millisecond {
		msg := nextMessage(t, msgs)
		if strings.Contains(msg, "READY=1") && readyAt.IsZero() {
			readyAt = time.Now()
		}
		if strings.Contains(msg, "WATCHDOG=1") {
			pings++
		}
	}
	// Every ping counted was sent since began, each at least 10ms after the one before.
	if most := int(time.Since(began)/(10*time.Millisecond)) + 1; pings > most {
		t.Errorf("%d pings in %v: more than one per 10ms", pings, time.Since(began))
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	if !strings.Contains(p.stderr.String(), "below 10ms") {
		t.Errorf("no warning about the watchdog's period:\n%s", p.stderr.String())
	}
}

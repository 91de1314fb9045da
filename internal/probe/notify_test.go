package probe

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMessageFrom: a message is credited to a run whose leader sent it, leads the sender's
// process group, or is among the sender's ancestors; to nothing when the sender is unknown.
func TestMessageFrom(t *testing.T) {
	m := Message{Pid: 40, Pgid: 30, Ancestors: []int{20, 10}}
	for leader, want := range map[int]bool{40: true, 30: true, 20: true, 10: true, 50: false, 0: false, -1: false} {
		if got := m.From(leader); got != want {
			t.Errorf("From(%d) = %v, want %v", leader, got, want)
		}
	}
	if (Message{Pgid: 30}).From(30) {
		t.Error("a message without a sender was credited")
	}
}

// TestNotifierTakesNoDescriptors: a descriptor sent along with a message (systemd-notify's
// BARRIER=1 does) does not stay open in uno.
func TestNotifierTakesNoDescriptors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	n, err := Listen(path, os.Getuid(), os.Getgid())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	got := make(chan Message, 1)
	go n.Messages(func(m Message) { got <- m })

	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	before := countFDs(t)
	if err := unix.Sendmsg(fd, []byte("BARRIER=1"), unix.UnixRights(p[1]), &unix.SockaddrUnix{Name: path}, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	select {
	case m := <-got:
		if m.Vars["BARRIER"] != "1" || m.Pid != os.Getpid() {
			t.Errorf("got %v from %d", m.Vars, m.Pid)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
	// The pipe's write end is closed everywhere: its read end sees the end (EAGAIN if not).
	if got := countFDs(t); got != before-1 {
		t.Errorf("%d descriptors open, want %d (the write end closed, nothing received kept)", got, before-1)
	}
	if k, err := unix.Read(p[0], make([]byte, 1)); k != 0 || err != nil {
		t.Errorf("read of the pipe: %d, %v; want end of file", k, err)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Package testkit holds what the black-box test packages share besides the binaries
// (internal/testbin): a buffer that a command's output goroutine and the test can use at once,
// pseudo-terminals, and the signal set-up and waits that make signal tests deterministic.
//
// It is imported only by tests.
package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// OpenPTY opens a new pseudo-terminal pair: the master the test types into and reads from, and
// the slave that becomes a process's controlling terminal. Both close when the test ends.
func OpenPTY(t testing.TB) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal("unlockpt:", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal("ptsname:", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// DefaultSignals undoes a SIGHUP or SIGINT ignored by whoever started the tests (nohup, a
// background job of a script, some CI runners), so the binaries the tests start get default
// dispositions, as under a container engine. Go leaves those two ignored when it finds them so
// (every other signal it handles itself, and a child gets the default); once handled here, a
// child starts with the default. uno keeps an inherited ignore on purpose, and tests of that set
// it up themselves. Call it from TestMain.
func DefaultSignals() {
	for _, sig := range []os.Signal{unix.SIGHUP, unix.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
}

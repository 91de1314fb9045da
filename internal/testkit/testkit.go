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
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

// AwaitSignalRegistered waits, a few seconds at most, until uno (pid) has registered sig.
//
// uno registers most signals only after it has started its program (signals.Notify keeps the
// start path short) and drops one sent before that, as documented. On a loaded machine that can
// outlast the program's own start, so a test that sends a signal as soon as the program is up
// waits here first. os/signal's registration thread keeps every signal blocked in its own mask
// until it is registered, so the wait ends when no thread of pid blocks sig (SigBlk in /proc). A
// signal that uno never registers waits the few seconds out.
func AwaitSignalRegistered(pid int, sig syscall.Signal) {
	for end := time.Now().Add(5 * time.Second); blocksSignal(pid, sig) && time.Now().Before(end); {
		time.Sleep(2 * time.Millisecond)
	}
}

// blocksSignal reports whether a thread of pid has sig blocked.
func blocksSignal(pid int, sig syscall.Signal) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(data), "\nSigBlk:\t")
		if !ok {
			continue
		}
		line, _, _ := strings.Cut(rest, "\n")
		mask, err := strconv.ParseUint(line, 16, 64)
		if err == nil && mask&(1<<(sig-1)) != 0 {
			return true
		}
	}
	return false
}

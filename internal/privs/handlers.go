package privs

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A signal the Go runtime's handler took before the shim's first init gave every signal its
// default action (signals.RestoreDefaults) may still be in that handler on another thread: for
// TERM, INT and HUP the handler ends the process by sending the signal again to its own thread.
// If the shim's thread execs meanwhile, the kernel ends that thread, and the signal with it (a
// SIGTERM 2 ms into a shim under two CPU hogs, TestShimNeverSwallowsASignal). So the exec waits
// until no other thread is in a handler. None can enter one once the defaults are in place: the
// kernel acts on those itself.

// handlerBound bounds the wait: a deadline against a hang, never the expected time (a handler
// runs for microseconds, or for as long as a loaded machine keeps its thread off a CPU).
const handlerBound = time.Second

// inHandler are signals the runtime never blocks on its threads (it unblocks them at each
// thread's start): a thread with one of them blocked is in a signal handler, whose mask is
// every signal, or is being created. Two, since the runtime's dying handler unblocks the one it
// re-sends.
const inHandler = 1<<(syscall.SIGINT-1) | 1<<(syscall.SIGTERM-1)

// waitForHandlers returns once no thread of the process but the caller is in a signal handler,
// or after handlerBound.
func waitForHandlers() {
	self := strconv.Itoa(syscall.Gettid())
	deadline := time.Now().Add(handlerBound)
	for handlerRunning(self) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
}

// handlerRunning reports whether a thread other than self shows inHandler blocked.
func handlerRunning(self string) bool {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false // no /proc: nothing to wait by (uno says /proc is needed for the shim)
	}
	for _, t := range tasks {
		if t.Name() == self {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/status")
		if err != nil {
			continue // the thread ended
		}
		_, rest, ok := strings.Cut(string(b), "\nSigBlk:\t")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(rest[:min(16, len(rest))], 16, 64)
		if err == nil && mask&inHandler != 0 {
			return true
		}
	}
	return false
}

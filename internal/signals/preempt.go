package signals

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The Go runtime preempts its own threads with SIGURG (asynchronous preemption: during garbage
// collection, and for a goroutine that runs 10 ms without yielding), and os/signal hands those
// SIGURGs to uno like any other. uno forwards SIGURG only when async preemption is off, so that
// every SIGURG it receives was sent from outside and belongs to the program. The setting must be
// there from the runtime's first instruction: the Makefile links it in
// (-X=runtime.godebugDefault=asyncpreemptoff=1), since Go refuses `//go:debug asyncpreemptoff=1`
// and a `godebug` line in go.mod as unknown settings, and a running program cannot turn it on.
//
// A plain `go build` or `go install` lacks it. Such a uno does not catch SIGURG at all: the
// runtime keeps it, its default action (ignore) is what an outside SIGURG gets, and none of the
// runtime's own reaches the program. PreemptOff says which build this is.

// preemptOffLinked is "1" when the linker also set runtime.godebugDefault=asyncpreemptoff=1: the
// Makefile sets both (-X=github.com/uno-init/uno/internal/signals.preemptOffLinked=1). The
// runtime's own default cannot be read by a program (the linker refuses a reference to it).
var preemptOffLinked string

// PreemptOff reports whether the runtime's asynchronous preemption is off in this process, and
// so whether a SIGURG uno receives came from outside: set at link time, or by GODEBUG in uno's
// environment, whose last asyncpreemptoff setting wins over the linked default as in the runtime.
func PreemptOff() bool {
	return preemptOff(os.Getenv("GODEBUG"), preemptOffLinked == "1")
}

// preemptOff reads godebug as the runtime does at start (runtime1.go, parsegodebug): left to
// right, the value a decimal int32, off when not 0, and a value that does not parse skipped
// (the setting before it stays).
func preemptOff(godebug string, linked bool) bool {
	off := linked
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "asyncpreemptoff="); ok {
			if n, err := strconv.ParseInt(v, 10, 32); err == nil {
				off = n != 0
			}
		}
	}
	return off
}

// forwardable drops SIGURG from sigs when the runtime uses it for itself.
func forwardable(sigs []syscall.Signal) []syscall.Signal {
	if PreemptOff() {
		return sigs
	}
	out := sigs[:0]
	for _, sig := range sigs {
		if sig != syscall.SIGURG {
			out = append(out, sig)
		}
	}
	return out
}

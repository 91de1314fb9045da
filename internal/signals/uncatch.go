package signals

import (
	"slices"
	"syscall"
	"unsafe"
)

// A process that only execs another program (the privilege shim) must treat a signal as that
// program would before it installs a handler: by the kernel's default action. The Go runtime's
// handlers do not, in two ways, and both lose signals:
//
//   - Without os/signal the runtime drops most signals (USR1, USR2, ALRM, the real-time ones...)
//     that would kill the program.
//   - It ends the process on HUP, INT and TERM from its handler, by re-sending the signal to the
//     thread that took it. If another thread execs meanwhile, the kernel kills the handling thread
//     and the re-sent signal with it: the new program starts as if never signalled (a SIGTERM
//     about 1 ms after the shim's start, 2 tries in 1,500 under load, TestShimNeverSwallowsASignal).
//
// With the default action the kernel itself acts when the signal is sent (a fatal one ends every
// thread at once) or, if it comes during the exec, keeps it pending for the new program, whose
// handlers the exec resets to the default anyway.

// runtimeNeeds are the signals whose Go handler the shim keeps: SIGURG, the runtime's preemption
// signal, which the program ignores by default anyway (the Go handler drops it likewise).
//
// Not the faults: SEGV, BUS, FPE, ILL and TRAP sent with kill() got Go's handler, which prints a
// goroutine dump and exits 2 where the program would be killed by the signal (TestShimSignalLikeProgram:
// 13 of 40 tries). A real fault in the shim now kills it by that signal, without Go's traceback:
// uno reports the service killed by it. Not 33 either: it is the runtime's signal for
// syscall.AllThreadsSyscall (syscall.Setuid, Setgroups...), whose handler drops any other (2 of
// 10 tries); the shim changes credentials with raw, single-thread system calls and must keep
// to them (package privs). 32 the runtime never catches without cgo.
var runtimeNeeds = []syscall.Signal{syscall.SIGURG}

// RestoreDefaults gives every signal the runtime caught at its start its default action, except
// SIGURG (runtimeNeeds). Call it only in a process that calls no syscall.AllThreadsSyscall and
// need not survive a fault: the privilege shim. Ignored signals stay ignored. It must not be used with
// os/signal, whose registrations it silently undoes.
func RestoreDefaults() {
	dfl := kernelSigaction{handler: sigDfl}
	for sig := syscall.Signal(1); sig <= rtMax; sig++ {
		if sig == syscall.SIGKILL || sig == syscall.SIGSTOP || slices.Contains(runtimeNeeds, sig) {
			continue
		}
		if h := disposition(sig); h == sigDfl || h == sigIgn {
			continue
		}
		_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
}

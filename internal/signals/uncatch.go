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

// runtimeNeeds are the signals whose Go handler a Go program cannot do without: the faults that
// become panics (and SIGTRAP for debuggers), the runtime's preemption signal, and the signals
// glibc and the runtime use to run a system call on every thread.
var runtimeNeeds = []syscall.Signal{
	syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGTRAP,
	syscall.SIGURG, 32, 33,
}

// RestoreDefaults gives every signal the runtime caught at its start its default action, except
// those it needs (runtimeNeeds). Ignored signals stay ignored. It must not be used with
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

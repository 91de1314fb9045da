package signals

import (
	"os"
	"os/signal"
	"slices"
	"syscall"
	"unsafe"
)

// The rule (docs/compatibility.md, "Signals at start-up"): every catchable signal is caught
// before uno starts anything, so that none sent to uno once its program exists is lost, none
// ever kills uno, and one that arrives before the program exists waits in the channel and reaches
// the program as soon as it does. The only window left is the one no init can close: from exec
// until the runtime's handlers exist and CatchAll has registered the signal (see below).

// byHarm orders registration: until signal.Notify has a signal, the Go runtime kills uno on HUP,
// INT and TERM, crashes it on QUIT, ABRT and on a kill()ed ILL, TRAP, BUS, FPE, SEGV, STKFLT or
// SYS, kills it on PIPE from a write to a closed stdout or stderr, and drops every other one.
// Each registration is a round trip to the runtime's signal thread, so the order decides how long
// each stays dangerous.
var byHarm = []syscall.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGPIPE,
	syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGTRAP, syscall.SIGSYS,
	syscall.SIGSTKFLT,
}

// leftAsFound are the signals whose disposition the Go runtime does not take over at start-up
// when whoever started uno ignored them: HUP and INT (the runtime's rule for nohup) and the
// job-control signals CONT, TSTP, TTIN and TTOU (which it never touches before Notify). An
// ignore inherited on one of these is kept, by uno and by every program it starts, as tini and a
// shell keep it. For every other signal the runtime installs its handler before uno's code runs,
// and the inherited disposition can no longer be seen: a program gets the default for those.
var leftAsFound = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU,
}

// CatchAll registers c for every catchable signal, synchronously and the most harmful first, and
// returns the signals it caught. With keepIgnored, those of leftAsFound that uno's caller
// ignored are left ignored, for uno and its programs; without (dumb-init, which resets every
// signal for its program), they are caught too, and programs start with their default action.
// c should be buffered generously: os/signal drops a signal when its channel is full.
//
// It costs a few hundred microseconds of start-up (one hand-off to the runtime's signal thread
// per signal, see Begin); that is the price of losing none.
func CatchAll(c chan<- os.Signal, keepIgnored bool) []syscall.Signal {
	caught := catchOrder(true)
	notify(c, caught)
	if !keepIgnored {
		caught = append(caught, catchIgnored(c)...)
	}
	return caught
}

// catchOrder lists every catchable signal, the most harmful first; with keepIgnored, without
// those of leftAsFound that uno's caller ignored; and without SIGURG in a build whose runtime
// sends itself SIGURGs (see PreemptOff).
func catchOrder(keepIgnored bool) []syscall.Signal {
	skip := func(sig syscall.Signal) bool { return keepIgnored && InheritedIgnore(sig) }
	var caught []syscall.Signal
	for _, sig := range byHarm {
		if !skip(sig) {
			caught = append(caught, sig)
		}
	}
	for _, sig := range Catchable() {
		if !slices.Contains(caught, sig) && !skip(sig) {
			caught = append(caught, sig)
		}
	}
	return forwardable(caught)
}

// catchIgnored registers c for the signals of leftAsFound that uno's caller ignored, and returns
// them.
func catchIgnored(c chan<- os.Signal) []syscall.Signal {
	var extra []syscall.Signal
	for _, sig := range leftAsFound {
		if InheritedIgnore(sig) {
			extra = append(extra, sig)
		}
	}
	notify(c, extra)
	return extra
}

func notify(c chan<- os.Signal, sigs []syscall.Signal) {
	if len(sigs) == 0 {
		return
	}
	args := make([]os.Signal, len(sigs))
	for i, sig := range sigs {
		args[i] = sig
	}
	signal.Notify(c, args...)
}

// InheritedIgnore reports whether sig is one of leftAsFound and is ignored: uno's caller ignored
// it, and uno keeps it so.
func InheritedIgnore(sig syscall.Signal) bool {
	return slices.Contains(leftAsFound, sig) && disposition(sig) == sigIgn
}

const (
	sigDfl = 0
	sigIgn = 1
)

// kernelSigaction is the kernel's struct sigaction; only its first field, the handler, is read
// or set here, and it comes first on every architecture.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// disposition is sig's handler as the kernel has it: sigDfl, sigIgn, or a handler's address.
func disposition(sig syscall.Signal) uintptr {
	var old kernelSigaction
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	if errno != 0 {
		return sigDfl
	}
	return old.handler
}

// DiscardForSelf makes the kernel discard sigs sent to uno, while the programs uno starts still
// begin with the default action for them. Call it only after CatchAll caught sigs.
//
// uno needs this for SIGTTIN and SIGTTOU once its program owns the terminal: they are about uno
// itself being in the background, and a handled SIGTTOU makes a write to the terminal (with
// `stty tostop`) restart forever. signal.Ignore would pass the ignore on to every child (the
// runtime resets only the signals it handles when it forks), as tini does not; so the kernel's
// disposition is set directly, behind the runtime's back: the runtime still counts the signal
// as handled, and a forked child still gets the default. Nothing in uno registers these signals
// again, which would undo it.
func DiscardForSelf(sigs ...syscall.Signal) error {
	for _, sig := range sigs {
		act := kernelSigaction{handler: sigIgn}
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
		if errno != 0 {
			return os.NewSyscallError("rt_sigaction "+Name(sig), errno)
		}
	}
	return nil
}

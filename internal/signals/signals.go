// Package signals names Linux signals and decides which of them uno can catch and pass on.
//
// It owns the mapping between names and numbers ("TERM", "SIGTERM", "15", "RTMIN+2"), the
// rewrite rules of -r FROM:TO, and catching every signal at start-up (CatchAll) with the
// dispositions uno's programs inherit. It does not send anything or decide where a signal goes.
package signals

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The real-time range as glibc numbers it: the kernel's 32 and 33 are taken by NPTL and 34 by
// the Go runtime (sigPerThreadSyscall), so SIGRTMIN is 34 for C programs and RTMIN+1 is 35.
const (
	rtMin = 34
	rtMax = 64
)

var byName = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "ILL": syscall.SIGILL,
	"TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT, "IOT": syscall.SIGIOT, "BUS": syscall.SIGBUS,
	"FPE": syscall.SIGFPE, "KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV,
	"USR2": syscall.SIGUSR2, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM,
	"STKFLT": syscall.SIGSTKFLT, "CHLD": syscall.SIGCHLD, "CLD": syscall.SIGCHLD, "CONT": syscall.SIGCONT,
	"STOP": syscall.SIGSTOP, "TSTP": syscall.SIGTSTP, "TTIN": syscall.SIGTTIN, "TTOU": syscall.SIGTTOU,
	"URG": syscall.SIGURG, "XCPU": syscall.SIGXCPU, "XFSZ": syscall.SIGXFSZ, "VTALRM": syscall.SIGVTALRM,
	"PROF": syscall.SIGPROF, "WINCH": syscall.SIGWINCH, "IO": syscall.SIGIO, "POLL": syscall.SIGIO,
	"PWR": syscall.SIGPWR, "SYS": syscall.SIGSYS,
}

// canonical names, for printing; aliases (IOT, CLD, POLL) parse but never print.
var names [rtMax + 1]string

func init() {
	for name, sig := range byName {
		switch name {
		case "IOT", "CLD", "POLL":
			continue
		}
		names[sig] = "SIG" + name
	}
}

// Parse reads a signal given by number ("15"), by name with or without the SIG prefix and in any
// case ("TERM", "sigterm"), or as a real-time offset ("RTMIN+2", "SIGRTMAX-1").
func Parse(s string) (syscall.Signal, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "" {
		return 0, fmt.Errorf("empty signal")
	}
	if n, err := strconv.Atoi(t); err == nil {
		if n < 1 || n > rtMax {
			return 0, fmt.Errorf("signal %s out of range 1-%d", s, rtMax)
		}
		return syscall.Signal(n), nil
	}
	t = strings.TrimPrefix(t, "SIG")
	if sig, ok := byName[t]; ok {
		return sig, nil
	}
	if rest, ok := strings.CutPrefix(t, "RTMIN"); ok {
		return realtime(s, rest, rtMin, '+')
	}
	if rest, ok := strings.CutPrefix(t, "RTMAX"); ok {
		return realtime(s, rest, rtMax, '-')
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// realtime reads the "+N" after RTMIN or the "-N" after RTMAX.
func realtime(s, offset string, base int, sign byte) (syscall.Signal, error) {
	n := base
	if offset != "" {
		off, err := strconv.Atoi(offset[1:])
		if offset[0] != sign || err != nil || off < 0 {
			return 0, fmt.Errorf("unknown signal %q", s)
		}
		if sign == '+' {
			n += off
		} else {
			n -= off
		}
	}
	if n < rtMin || n > rtMax {
		return 0, fmt.Errorf("signal %s out of range", s)
	}
	return syscall.Signal(n), nil
}

// Name is the conventional name of sig: "SIGTERM", "SIGRTMIN+1", or "signal 33".
func Name(sig syscall.Signal) string {
	switch {
	case sig > 0 && int(sig) < len(names) && names[sig] != "":
		return names[sig]
	case sig == rtMin:
		return "SIGRTMIN"
	case sig > rtMin && sig < rtMax:
		return "SIGRTMIN+" + strconv.Itoa(int(sig-rtMin))
	case sig == rtMax:
		return "SIGRTMAX"
	}
	return "signal " + strconv.Itoa(int(sig))
}

// Catchable lists every signal uno installs a handler for and may pass on: 1-31 without KILL and
// STOP (uncatchable), CHLD (uno's own business) and PROF (the Go runtime keeps it), and the
// real-time signals 35-64. 32-34 are reserved by libc and the Go runtime.
func Catchable() []syscall.Signal {
	var out []syscall.Signal
	for n := 1; n <= rtMax; n++ {
		sig := syscall.Signal(n)
		switch {
		case sig == syscall.SIGKILL, sig == syscall.SIGSTOP, sig == syscall.SIGCHLD, sig == syscall.SIGPROF:
			continue
		case n >= 32 && n <= rtMin:
			continue
		}
		out = append(out, sig)
	}
	return out
}

// CutGrace are the signals that, once uno is stopping (services) or sweeping what its program
// left (one program), cut the grace short and kill what is left: a second `docker stop`, a
// second Ctrl-C, or a SIGQUIT. The same in every mode.
var CutGrace = []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT}

// Rewrites maps a received signal to the one to pass on; a mapping to 0 drops the signal.
type Rewrites map[syscall.Signal]syscall.Signal

// Apply returns what to send for sig: its rewrite, or sig itself.
func (r Rewrites) Apply(sig syscall.Signal) syscall.Signal {
	if to, ok := r[sig]; ok {
		return to
	}
	return sig
}

// ParseRewrite reads one FROM:TO rule. Both sides are names or numbers; TO may be 0 to drop FROM.
func ParseRewrite(spec string) (from, to syscall.Signal, err error) {
	f, t, ok := strings.Cut(spec, ":")
	if !ok {
		return 0, 0, fmt.Errorf("rewrite %q: want FROM:TO", spec)
	}
	if from, err = Parse(f); err != nil {
		return 0, 0, fmt.Errorf("rewrite %q: %w", spec, err)
	}
	if !slices.Contains(Catchable(), from) {
		return 0, 0, fmt.Errorf("rewrite %q: %s cannot be caught", spec, Name(from))
	}
	if strings.TrimSpace(t) == "0" {
		return from, 0, nil
	}
	if to, err = Parse(t); err != nil {
		return 0, 0, fmt.Errorf("rewrite %q: %w", spec, err)
	}
	return from, to, nil
}

// Package program runs one program as init: it starts it, passes on the signals uno receives,
// lets the reaper collect every zombie meanwhile, sweeps the leftovers when the program ends, and
// turns the way the program ended into uno's exit status.
//
// The personalities (tini, dumb-init, catatonit) are configurations of this one loop; it does not
// parse flags or read the environment.
package program

import (
	"errors"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/boot"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/spawn"
	"github.com/uno-init/uno/internal/sweep"
	"github.com/uno-init/uno/internal/ulog"
)

// Config is how to run the program. The zero value of each field is uno's own behaviour unless
// its comment says otherwise.
type Config struct {
	Argv []string

	// Pgroup forwards signals to the program's whole process group instead of the program.
	Pgroup bool
	// Rewrites changes or drops (to 0) signals before they are forwarded.
	Rewrites signals.Rewrites
	// NoJobControl drops SIGTSTP, SIGTTIN and SIGTTOU instead of forwarding them (catatonit).
	NoJobControl bool
	// IgnoreTerminalStops makes uno ignore SIGTTIN and SIGTTOU for itself, terminal or not, as
	// tini does (it neither forwards them nor stops); the program still gets their default.
	IgnoreTerminalStops bool
	// ResetSignals starts the program with no signal blocked and every signal uno could catch at
	// its default action, whatever the caller blocked or ignored (dumb-init).
	ResetSignals bool

	// Setsid starts the program in a session of its own and forwards to its process group, with
	// the terminal handed over to it (dumb-init's default mode).
	Setsid bool
	// SuspendOnJobControl stops uno itself after forwarding SIGTSTP, SIGTTIN or SIGTTOU, so that
	// a shell above sees the whole job stop (dumb-init).
	SuspendOnJobControl bool
	// NoIsolate leaves the program in uno's process group (dumb-init --single-child).
	NoIsolate bool

	// Grace is how long leftovers get between SIGTERM and SIGKILL once the program has exited.
	// Zero means no sweep: uno exits at once, as tini and catatonit do.
	Grace time.Duration
	// TermGroupOnExit sends SIGTERM (through Rewrites) to the program's process group when the
	// program exits, without waiting (dumb-init's setsid mode).
	TermGroupOnExit bool
	// Drain holds the first SIGTERM this long before it is forwarded, uno not ready meanwhile
	// (/readyz 503), so that an engine takes the container out of its endpoints first; a
	// second one goes at once.
	Drain time.Duration
	// Version is uno's, for uno_build_info.
	Version string

	// ExitZero lists exit statuses reported as 0 (-e).
	ExitZero []int
	// ExecFailureCode replaces the shell's 126/127 when the program cannot be started
	// (dumb-init: 2, catatonit: 1). Zero keeps 126/127.
	ExecFailureCode int

	// Subreaper registers uno as child subreaper when it is not PID 1.
	Subreaper bool
	// NotSubreaperWarning, if set, is logged when uno is neither PID 1 nor a subreaper (tini).
	NotSubreaperWarning string
	// Pdeathsig is sent to uno when its parent exits (-p); 0 for none.
	Pdeathsig syscall.Signal
	// LogOrphans logs every reaped orphan as a warning (-w); otherwise at debug level.
	LogOrphans bool

	// Socket is the control socket's path, "" for none; SocketGroup a gid given read-only
	// access, or -1. HTTPAddr, if set, serves /readyz, /healthz, /status and /metrics.
	Socket      string
	SocketGroup int
	HTTPAddr    string

	// Signals is where every signal uno caught arrives (signals.CatchAll), caught by the caller
	// first thing; nil makes Run and Pause catch them.
	Signals <-chan os.Signal

	Log *ulog.Logger
}

// jobControl are the signals the kernel sends for terminal job control.
var jobControl = []syscall.Signal{syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU}

// Run runs the program to its end and returns uno's exit status.
func Run(cfg Config) int {
	log := cfg.Log
	if cfg.Pdeathsig != 0 {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(cfg.Pdeathsig), 0, 0, 0); err != nil {
			log.Warn("cannot set parent-death signal", "signal", signals.Name(cfg.Pdeathsig), "err", err)
		}
	}
	// SIGCHLD is registered by the reaper before the program starts, and every other signal was
	// caught by the caller before uno did anything else (Config.Signals).
	in := boot.Start(cfg.bootOptions())
	r, pid1 := in.Reaper, in.PID1
	sigs := cfg.signals()
	terminal := spawn.ForegroundTerminal()
	// In setsid mode uno hands its terminal over to the program's new session. The kernel answers
	// a session leader giving up its terminal with a SIGHUP and a SIGCONT that are not meant
	// for the program: caught, since every signal already is, and dropped once each.
	var ignoreOnce map[syscall.Signal]bool
	handedOver := cfg.Setsid && terminal && releaseTerminal(log)
	if handedOver {
		ignoreOnce = map[syscall.Signal]bool{syscall.SIGHUP: true, syscall.SIGCONT: true}
	}
	discarded := discardTerminalStops(cfg, terminal)

	spec := spawn.Spec{Argv: cfg.Argv, EmptyMask: cfg.ResetSignals}
	if cfg.TermGroupOnExit {
		// dumb-init's way: what the program leaves in its group is asked to go with it.
		spec.OnGroupExit = reaper.GroupExit{Signal: cfg.Rewrites.Apply(syscall.SIGTERM)}
	}
	switch {
	case cfg.Setsid:
		spec.Setsid = true
		spec.Setctty = handedOver
	case cfg.NoIsolate:
	default:
		spec.Pgroup = true
		spec.Foreground = terminal
	}
	pid, exited, err := spawn.Start(r, spec)
	if err != nil {
		log.Error(err.Error())
		var ee *spawn.ExecError
		if errors.As(err, &ee) {
			if cfg.ExecFailureCode != 0 {
				return cfg.ExecFailureCode
			}
			return ee.Code
		}
		return 1
	}
	// The program's exit is seen through its pidfd too, not only through SIGCHLD, which a busy
	// signal queue could hold up.
	r.Watch(pid)
	log.Info("started program", "pid", pid, "argv", cfg.Argv)
	// Once the program runs, uno holds no directory: it never keeps a mount busy (dumb-init
	// does the same). Every path uno still needs was made absolute before.
	if err := os.Chdir("/"); err != nil {
		log.Debug("cannot change directory to /", "err", err)
	}
	status := newSingle(cfg.Argv, r)
	status.version = cfg.Version
	status.started(pid)
	stopControl := boot.Control{Socket: cfg.Socket, SocketGroup: cfg.SocketGroup, HTTPAddr: cfg.HTTPAddr,
		Delay: socketDelay, Log: log}.Serve(status)

	toGroup := cfg.Pgroup || cfg.Setsid
	var exit reaper.Exit
	var drained <-chan time.Time
	for running := true; running; {
		select {
		case <-drained:
			drained = nil
			log.Info("drain over; forwarding the stop signal")
			status.forwarded(syscall.SIGTERM)
			forward(cfg, log, r, pid, toGroup, syscall.SIGTERM)
		case s := <-sigs:
			sig := s.(syscall.Signal)
			if sig == syscall.SIGTERM && cfg.Drain > 0 {
				if status.startDrain() {
					log.Info("draining: not ready; the program gets SIGTERM after the drain", "drain", cfg.Drain)
					drained = time.After(cfg.Drain)
					continue
				}
				if drained != nil {
					log.Info("second SIGTERM: drain skipped")
					drained = nil
				}
			}
			if ignoreOnce[sig] {
				delete(ignoreOnce, sig)
				log.Debug("ignored signal caused by giving up the terminal", "signal", signals.Name(sig))
				continue
			}
			if slices.Contains(discarded, sig) {
				// Caught in the moment before uno discarded it for itself: it was about uno.
				continue
			}
			status.forwarded(sig)
			forward(cfg, log, r, pid, toGroup, sig)
		case exit = <-exited:
			running = false
		}
	}
	code := exit.Code()
	log.Info("program exited", "pid", pid, "status", exit.String())
	status.exited(exit)
	defer stopControl()

	if cfg.Grace > 0 {
		// SIGTERM, SIGINT or SIGQUIT meanwhile (a second docker stop) skips the rest of the grace.
		sw := &sweep.Sweeper{Reaper: r, PID1: pid1, Log: log}
		sw.SweepUnlessHurried(cfg.Grace, sigs, signals.CutGrace)
	}
	// No signal.Stop: uno exits next, and un-registering ~60 signals costs as much as
	// registering them did (a hand-off to the runtime's signal thread each).
	if slices.Contains(cfg.ExitZero, code) {
		log.Debug("exit status mapped to 0", "status", code)
		return 0
	}
	return code
}

// bootOptions is how this run takes orphans.
func (cfg Config) bootOptions() boot.Options {
	return boot.Options{Subreaper: cfg.Subreaper, NotSubreaperWarning: cfg.NotSubreaperWarning,
		LogOrphans: cfg.LogOrphans, Log: cfg.Log}
}

// discardTerminalStops makes uno discard SIGTTIN and SIGTTOU for itself when its program gets
// the terminal's foreground: from then on they are about uno's own place in the background, and
// a handled SIGTTOU would make uno's writes to the terminal restart forever (with `stty tostop`).
// The program still starts with their default action, as under tini. It returns what it
// discarded.
func discardTerminalStops(cfg Config, terminal bool) []syscall.Signal {
	if !cfg.IgnoreTerminalStops && (!terminal || cfg.Setsid) {
		return nil
	}
	stops := []syscall.Signal{syscall.SIGTTIN, syscall.SIGTTOU}
	if err := signals.DiscardForSelf(stops...); err != nil {
		cfg.Log.Warn("cannot ignore terminal stop signals", "err", err)
		return nil
	}
	return stops
}

// signals is where the caught signals arrive: cfg.Signals, or, for a caller that did not catch
// them (tests), a channel caught for here.
func (cfg Config) signals() <-chan os.Signal {
	if cfg.Signals != nil {
		return cfg.Signals
	}
	c := make(chan os.Signal, 1024)
	signals.CatchAll(c, !cfg.ResetSignals)
	return c
}

// releaseTerminal gives up uno's controlling terminal so that the program's new session can
// take it. Only a session leader's terminal can be taken without stealing it from another session.
func releaseTerminal(log *ulog.Logger) bool {
	if sid, err := unix.Getsid(0); err != nil || sid != os.Getpid() {
		return false
	}
	if err := unix.IoctlSetInt(0, unix.TIOCNOTTY, 0); err != nil {
		log.Debug("cannot give up the controlling terminal", "err", err)
		return false
	}
	return true
}

// forward passes sig on to the program, pid, or with toGroup to its process group.
func forward(cfg Config, log *ulog.Logger, r *reaper.Reaper, pid int, toGroup bool, sig syscall.Signal) {
	isJobControl := slices.Contains(jobControl, sig)
	if isJobControl && cfg.NoJobControl {
		log.Debug("dropped job-control signal", "signal", signals.Name(sig))
		return
	}
	to := cfg.Rewrites.Apply(sig)
	if to == 0 {
		log.Debug("dropped signal", "signal", signals.Name(sig))
		return
	}
	target := pid // for the log: a group is written as its negative id, as kill(1) takes it
	if toGroup {
		target = -pid
	}
	if err := r.Signal(pid, toGroup, to); err != nil {
		log.Debug("cannot forward signal", "signal", signals.Name(to), "to", target, "err", err)
	} else {
		attrs := []any{"signal", signals.Name(to), "to", target}
		if to != sig {
			attrs = append(attrs, "rewritten_from", signals.Name(sig))
		}
		log.Info("forwarded signal", attrs...)
	}
	if isJobControl && cfg.SuspendOnJobControl {
		log.Debug("suspending uno with the program")
		_ = unix.Kill(os.Getpid(), syscall.SIGSTOP)
	}
}

// Pause runs no program: uno only reaps whatever is handed to it until one of stopOn arrives,
// then exits 0 (catatonit -P, a pod's pause container).
func Pause(cfg Config, stopOn ...syscall.Signal) int {
	log := cfg.Log
	boot.Start(cfg.bootOptions())
	// Every catchable signal is caught, or its default action would kill uno; those that do not
	// end the pause have nobody to go to.
	sigs := cfg.signals()
	log.Debug("pausing until a stop signal", "signals", stopOn)
	for s := range sigs {
		sig := s.(syscall.Signal)
		if slices.Contains(stopOn, sig) {
			log.Info("pause ended", "signal", signals.Name(sig))
			break
		}
		log.Debug("ignored signal", "signal", signals.Name(sig))
	}
	return 0
}

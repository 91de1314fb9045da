package supervisor

import (
	"slices"
	"syscall"

	"github.com/uno-init/uno/internal/signals"
)

// This file routes the signals uno receives in services mode.

// stopOn are the signals that stop every service; once uno is stopping, any of
// signals.CutGrace cuts the grace short, as in single-program mode.
var stopOn = []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}

// signal handles a signal uno received.
func (sv *Supervisor) signal(sig syscall.Signal) {
	if sv.stopping && slices.Contains(signals.CutGrace, sig) {
		if !sv.hurried {
			sv.log.Warn("second stop signal: killing every service now", "signal", signals.Name(sig))
			sv.hurry()
		}
		return
	}
	if slices.Contains(stopOn, sig) {
		if sv.drain(sig) {
			return
		}
		sv.stopOnSignal(sig)
		return
	}
	if sig == syscall.SIGPIPE {
		// Almost always uno's own write to an output nobody reads any more: passing it on
		// would kill services for uno's trouble.
		sv.log.Debug("SIGPIPE not forwarded: uno's output is closed")
		return
	}
	if sv.main != nil {
		if sv.main.state.active() {
			sv.forward(sv.main, sig)
		}
		return
	}
	if sig == syscall.SIGHUP {
		if msg, err := sv.reload(false); err != nil {
			sv.log.Error("SIGHUP: " + err.Error())
		} else {
			sv.log.Info("SIGHUP: " + msg)
		}
		return
	}
	for _, s := range sv.services {
		if s.state.active() {
			sv.forward(s, sig)
		}
	}
}

// stopOnSignal stops the container for sig.
func (sv *Supervisor) stopOnSignal(sig syscall.Signal) {
	sv.log.Info("stopping on signal", "signal", signals.Name(sig))
	sv.stopBySignal = true
	if sv.main != nil {
		// The main program gets the signal uno got, as in single-program mode.
		sv.main.stopOverride = sig
	}
	sv.shutdown(0, signals.Name(sig))
}

func (sv *Supervisor) forward(s *service, sig syscall.Signal) {
	if err := sv.reaper.Signal(s.pid, false, sig); err != nil {
		sv.log.Debug("cannot forward signal", "service", s.name(), "signal", signals.Name(sig), "err", err)
		return
	}
	sv.forwarded[signals.Name(sig)]++
	// Debug, not info: engines pass on signals of their own (runc forwards its runtime's SIGURG),
	// and with several services each would make one line per service.
	sv.log.Debug("forwarded signal", "service", s.name(), "signal", signals.Name(sig), "pid", s.pid)
}

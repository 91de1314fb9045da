package supervisor

import (
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/signals"
)

// This file is the drain before a stop: on the first SIGTERM, with [uno] drain set, uno turns
// not ready at once (/readyz 503, uno ctl ready 1) and lets everything run for the drain, so
// that an engine takes the container out of its endpoints before anything stops; then the
// ordered stop begins with what is left of the grace. A second SIGTERM skips the rest.

type drainEvent struct{}

// drain begins the drain for sig, or, during one, skips the rest of it. It reports whether it
// took the signal.
func (sv *Supervisor) drain(sig syscall.Signal) bool {
	d := sv.opts.Config.Drain
	if sig != syscall.SIGTERM || d <= 0 || sv.stopping {
		return false
	}
	if !sv.drainStart.IsZero() {
		sv.log.Info("second SIGTERM: drain skipped")
		sv.drainTimer.Stop()
		return false // the caller stops now
	}
	sv.drainStart = time.Now()
	sv.drainTimer = time.AfterFunc(d, func() { sv.events <- drainEvent{} })
	sv.log.Info("draining: not ready; services stop after the drain", "signal", signals.Name(sig), "drain", d)
	return true
}

// drainOver begins the stop the drain held back.
func (sv *Supervisor) drainOver() {
	if sv.stopping {
		return
	}
	sv.log.Info("drain over")
	sv.stopOnSignal(syscall.SIGTERM)
}

// draining reports whether uno is draining: not ready, nothing stopped yet.
func (sv *Supervisor) draining() bool { return !sv.drainStart.IsZero() && !sv.stopping }

// graceLeft is the shutdown's budget: the grace, less the drain's time.
func (sv *Supervisor) graceLeft() time.Duration {
	grace := sv.opts.Config.Grace
	if !sv.drainStart.IsZero() {
		grace = max(grace-time.Since(sv.drainStart), 0)
	}
	return grace
}

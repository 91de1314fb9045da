package supervisor

import (
	"context"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/sweep"
)

// This file stops services: one at a time for an operator, all of them in reverse dependency
// order for the container, within one grace budget, and then what they left behind.

// shutdown begins the ordered stop of every service. code is uno's exit status unless the main
// program decides it (a stop by signal).
func (sv *Supervisor) shutdown(code int, reason string) {
	if sv.stopping {
		return
	}
	sv.stopping = true
	sv.exitCode = code
	grace := sv.opts.Config.Grace
	sv.graceDeadline = time.Now().Add(grace)
	sv.graceTimer = time.AfterFunc(grace, func() { sv.events <- graceEvent{} })
	sv.log.Info("stopping services", "reason", reason, "grace", grace)
	for _, s := range sv.services {
		sv.cancelRestart(s)
		if s.state == Waiting || s.state == Backoff {
			s.state = Stopped
		}
	}
	sv.stopNext()
}

// stopNext stops every running service none of whose dependents still runs: reverse
// dependency order, with independent services stopping in parallel.
func (sv *Supervisor) stopNext() {
	for _, s := range sv.services {
		if !sv.stopping && !sv.stopSet[s] {
			continue
		}
		if s.ended() {
			delete(sv.stopSet, s)
			continue
		}
		if s.state == Waiting || s.state == Backoff {
			sv.cancelRestart(s)
			s.state = Stopped
			continue
		}
		if s.state != Starting && s.state != Running {
			continue
		}
		blocked := false
		for _, d := range sv.dependents[s] {
			if d.state.active() {
				blocked = true
				break
			}
		}
		if !blocked {
			sv.stop(s, s.cfg.StopSignal)
		}
	}
}

// stop sends sig to s's process group and arms the kill after its stop timeout, which never
// reaches past the grace deadline.
func (sv *Supervisor) stop(s *service, sig syscall.Signal) {
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	s.state = Stopping
	s.stopSignalAt = time.Now()
	timeout := s.cfg.StopTimeout
	if sv.stopping {
		timeout = min(timeout, time.Until(sv.graceDeadline))
	}
	sv.log.Info("stopping service", "service", s.name(), "pid", s.pid, "signal", signals.Name(sig), "timeout", timeout.Round(time.Millisecond))
	if sv.hurried {
		sig = syscall.SIGKILL
	}
	_ = sv.reaper.Signal(s.pid, true, sig)
	// A stopped process cannot act on the signal until it runs again.
	_ = sv.reaper.Signal(s.pid, true, syscall.SIGCONT)
	run := s.run
	s.killAt = time.AfterFunc(max(timeout, 0), func() { sv.events <- killEvent{svc: s, run: run} })
}

// killLeftoversLater gives what a run left in its process group, sent SIGTERM as the run ended,
// the service's stop_timeout (no more than the grace left, when stopping) to go, then kills what
// is still there.
func (sv *Supervisor) killLeftoversLater(s *service, left *reaper.Leftovers) {
	timeout := s.cfg.StopTimeout
	if sv.stopping {
		timeout = min(timeout, time.Until(sv.graceDeadline))
	}
	name, log := s.name(), sv.log
	time.AfterFunc(max(timeout, 0), func() {
		if n := left.Kill(syscall.SIGKILL); n > 0 {
			log.Warn("killed what a service's run left behind; it outlived stop_timeout after SIGTERM",
				"service", name, "processes", n, "waited", timeout.Round(time.Millisecond))
		}
	})
}

// hurry kills every service now (a second SIGTERM, or the grace is over).
func (sv *Supervisor) hurry() {
	sv.hurried = true
	for _, s := range sv.services {
		if s.state.active() {
			s.state = Stopping
			_ = sv.reaper.Signal(s.pid, true, syscall.SIGKILL)
		}
	}
}

func (sv *Supervisor) allEnded() bool {
	for _, s := range sv.services {
		if !s.ended() {
			return false
		}
	}
	return true
}

// sweepLeftovers stops what the services left behind, with what remains of the grace.
func (sv *Supervisor) sweepLeftovers() {
	grace := time.Until(sv.graceDeadline)
	if sv.hurried || grace < 0 {
		grace = 0
	}
	sw := &sweep.Sweeper{Reaper: sv.reaper, PID1: sv.pid1, Log: sv.log}
	sw.SweepUnlessHurried(grace, sv.sigs, termination)
}

// flushOutput waits for the services' last lines to reach uno's output. A reader that stopped
// reading must not keep uno (and so the container) from ending: the wait is bounded.
func (sv *Supervisor) flushOutput() {
	ctx, cancel := context.WithTimeout(context.Background(), max(time.Until(sv.graceDeadline), time.Second))
	defer cancel()
	if err := sv.mux.Wait(ctx); err != nil {
		sv.log.Warn("output not fully written: the reader is not reading", "err", err)
	}
}

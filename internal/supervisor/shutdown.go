package supervisor

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/sweep"
)

// This file stops services: one at a time for an operator, all of them in reverse dependency
// order for the container, within one grace budget, and then what they left behind.

// exitMargin is how long past the grace uno may take to exit, whatever the services and their
// leftovers do: the SIGKILL of what is left, a bounded wait for it to be reaped, the final sweep
// and the last output all fit in it. docs/services.md promises it.
const exitMargin = 500 * time.Millisecond

// killWait bounds the wait for a SIGKILLed run to be reaped outside a shutdown: only a process
// stuck in the kernel takes longer, and a stop must always end.
const killWait = 5 * time.Second

// shutdown begins the ordered stop of every service. code is uno's exit status unless the main
// program decides it (a stop by signal).
func (sv *Supervisor) shutdown(code int, reason string) {
	if sv.stopping {
		return
	}
	sv.stopping = true
	sv.exitCode = code
	grace := sv.graceLeft()
	if sv.drainTimer != nil {
		sv.drainTimer.Stop()
	}
	sv.graceDeadline = time.Now().Add(grace)
	sv.graceTimer = time.AfterFunc(grace, func() { sv.events <- graceEvent{} })
	sv.log.Info("stopping services", "reason", reason, "grace", grace)
	sv.stoppingUpstream(reason)
	for _, s := range sv.services {
		sv.cancelRestart(s)
		if s.state == Waiting || s.state == Backoff || s.state == Scheduled {
			sv.transition(s, EvCancel, Stopped)
		}
	}
	sv.stopNext()
}

// untilExit is the time left before uno must exit (grace plus margin) less reserve, kept for
// the steps after the caller's; outside a shutdown it is unbounded.
func (sv *Supervisor) untilExit(reserve time.Duration) time.Duration {
	if !sv.stopping {
		return time.Duration(1<<63 - 1)
	}
	return max(time.Until(sv.graceDeadline.Add(exitMargin-reserve)), 0)
}

// stopNext stops every running service that no running service depends on, directly or
// through services that have already ended (a completed oneshot between a database and its
// app): the exact reverse of the transitive start order, with independent services stopping in
// parallel. It serves the shutdown and an operator's stop (stopSet) alike.
func (sv *Supervisor) stopNext() {
	for _, s := range sv.services {
		if !sv.stopping && !sv.stopSet[s] {
			continue
		}
		if s.ended() {
			delete(sv.stopSet, s)
			continue
		}
		if s.state == Waiting || s.state == Backoff || s.state == Scheduled {
			sv.cancelRestart(s)
			sv.transition(s, EvCancel, Stopped)
			continue
		}
		if s.state != Starting && s.state != Running {
			continue
		}
		if !sv.dependentsRunning(s) {
			sv.stop(s, s.stopSignal())
		}
	}
}

// dependentsRunning reports whether a service that depends on s, directly or not, may still run.
func (sv *Supervisor) dependentsRunning(s *service) bool {
	for _, d := range sv.withDependents([]*service{s}) {
		if d != s && d.state.active() {
			return true
		}
	}
	return false
}

// stop sends sig to s's process group and arms the kill after its stop timeout, which never
// reaches past the grace deadline.
func (sv *Supervisor) stop(s *service, sig syscall.Signal) {
	sv.stopHealth(s)
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	sv.transition(s, EvStop, Stopping)
	s.stopSignalAt = time.Now()
	timeout := s.cfg.StopTimeout
	if sv.stopping {
		timeout = min(timeout, time.Until(sv.graceDeadline))
	}
	sv.log.Info("stopping service", "service", s.name(), "pid", s.pid, "signal", signals.Name(sig), "timeout", timeout.Round(time.Millisecond))
	if sv.hurried {
		sv.kill(s, "stopping service in a hurry: killing it")
		return
	}
	// A stopped process cannot act on the signal until it runs again: SIGCONT follows.
	if s.cfg.KillMode == config.KillMixed {
		if !sv.signalMain(s, sig) || !sv.signalMain(s, syscall.SIGCONT) { // MAINPID=, notifyextra.go
			sv.signalLeader(s, sig)
			sv.signalLeader(s, syscall.SIGCONT)
		}
	} else {
		sv.signalGroup(s, sig)
		sv.signalGroup(s, syscall.SIGCONT)
	}
	run := s.run
	s.killAt = time.AfterFunc(max(timeout, 0), func() { sv.events <- killEvent{svc: s, run: run} })
}

// kill sends SIGKILL to s's run and waits a bounded time for it to be reaped (Killing): past
// that, uno gives up on it and leaves it to the final sweep, so that a stop always ends.
func (sv *Supervisor) kill(s *service, msg string, attrs ...any) {
	if s.killAt != nil {
		s.killAt.Stop()
	}
	sv.log.Warn(msg, append([]any{"service", s.name(), "pid", s.pid}, attrs...)...)
	sv.transition(s, EvKill, Killing)
	sv.signalGroup(s, syscall.SIGKILL)
	wait := min(killWait, sv.untilExit(exitMargin/2))
	run := s.run
	s.killAt = time.AfterFunc(wait, func() { sv.events <- giveUpEvent{svc: s, run: run} })
}

// giveUp stops waiting for a killed run that has not been reaped: the process is stuck in the
// kernel, or is not what it was. The reaper still collects it whenever it ends.
func (sv *Supervisor) giveUp(s *service) {
	sv.log.Error("service's process survived SIGKILL; leaving it to the final sweep", "service", s.name(), "pid", s.pid)
	s.killAt = nil
	s.lastEnd = time.Now()
	s.pid = 0
	s.stats.exited(exitReason(s)) // the run's end, as exited counts it: no exit will come
	if sv.jobStopped(s, EvGiveUp) {
		return
	}
	// A run killed for a failure of its own has failed as much as one that died of the SIGKILL:
	// the restart policy decides, as exited does, and an essential service or the main program
	// ends the container.
	if sv.failedOnItsOwn(s) {
		s.lastExit = nil // never reaped: no status of its own
		s.code = 128 + int(syscall.SIGKILL)
		if s.notReady || s.health.failed {
			s.code = 1
		}
		sv.afterRun(s, EvGiveUp, false)
		return
	}
	sv.transition(s, EvGiveUp, Stopped)
	sv.afterStop(s)
}

// signalGroup signals s's process group (and its leader, if it left the group), logging what
// cannot be sent: a signal that does not arrive is a stop that never ends.
func (sv *Supervisor) signalGroup(s *service, sig syscall.Signal) {
	if err := sv.reaper.Signal(s.pid, true, sig); err != nil && !errors.Is(err, reaper.ErrReaped) {
		sv.log.Warn("cannot signal service", "service", s.name(), "pid", s.pid, "signal", signals.Name(sig), "err", err)
	}
}

// signalLeader signals s's own process only (kill_mode = "mixed").
func (sv *Supervisor) signalLeader(s *service, sig syscall.Signal) {
	if err := sv.reaper.Signal(s.pid, false, sig); err != nil && !errors.Is(err, reaper.ErrReaped) {
		sv.log.Warn("cannot signal service", "service", s.name(), "pid", s.pid, "signal", signals.Name(sig), "err", err)
	}
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
		if s.state.active() && s.state != Killing {
			sv.kill(s, "killing service")
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

// sweepLeftovers stops what the services left behind, with what remains of the grace, and
// waits for what it kills no longer than the margin allows.
func (sv *Supervisor) sweepLeftovers() {
	grace := time.Until(sv.graceDeadline)
	if sv.hurried || grace < 0 {
		grace = 0
	}
	sw := &sweep.Sweeper{Reaper: sv.reaper, PID1: sv.pid1, Log: sv.log, KillWait: max(sv.untilExit(exitMargin/5), time.Millisecond)}
	sw.SweepUnlessHurried(grace, sv.sigs, signals.CutGrace)
}

// flushOutput waits for the services' last lines to reach uno's output. A reader that stopped
// reading must not keep uno (and so the container) from ending: the wait ends with the margin,
// less a little for uno's own last lines (Options.CloseLog).
func (sv *Supervisor) flushOutput() {
	ctx, cancel := context.WithTimeout(context.Background(), sv.untilExit(exitMargin/10))
	defer cancel()
	if err := sv.mux.Wait(ctx); err != nil {
		sv.log.Warn("output not fully written: the reader is not reading", "err", err)
	}
}

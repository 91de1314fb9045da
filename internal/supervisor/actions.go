package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/signals"
)

// This file carries out an operator's actions (uno ctl start, stop, restart, signal) on the
// supervisor's goroutine, and answers each once it is done.

// controlRequest is an action for the supervisor's goroutine. result receives exactly one value.
type controlRequest struct {
	req    control.Request
	ctx    context.Context
	result chan controlResult
}

type controlResult struct {
	msg string
	err error
}

// waiter is an action under way: done is asked after every event.
type waiter struct {
	cr   controlRequest
	done func() (finished bool, msg string, err error)
}

func (sv *Supervisor) checkWaiters() {
	sv.waiters = slices.DeleteFunc(sv.waiters, func(w *waiter) bool {
		if finished, msg, err := w.done(); finished {
			w.cr.result <- controlResult{msg, err}
			return true
		}
		if sv.stopping && sv.allEnded() {
			w.cr.result <- controlResult{err: errors.New("uno stopped before the action was done")}
			return true
		}
		if w.cr.ctx.Err() != nil {
			return true // the client is gone or gave up; Act reports it
		}
		return false
	})
}

// handleControl starts an action, and answers at once or when it is done.
func (sv *Supervisor) handleControl(cr controlRequest) {
	answer := func(msg string, err error) { cr.result <- controlResult{msg, err} }
	req := cr.req
	if req.Command == control.CmdReload {
		answer(sv.reload(req.DryRun))
		return
	}
	if len(req.Names) == 0 {
		answer("", fmt.Errorf("%s: name at least one service", req.Command))
		return
	}
	if sv.stopping {
		answer("", errors.New("uno is stopping the container"))
		return
	}
	var targets []*service
	for _, name := range req.Names {
		s := sv.byName[name]
		if s == nil || s.removed {
			answer("", unknownService(name, sv.snapshot.Load()))
			return
		}
		if s.cfg.Main && req.Command != control.CmdSignal {
			answer("", fmt.Errorf("%s is the main program: it is the container's own life; stop the container instead", name))
			return
		}
		targets = append(targets, s)
	}
	var done func() (bool, string, error)
	switch req.Command {
	case control.CmdSignal:
		sig, err := signals.Parse(req.Signal)
		if err != nil {
			answer("", err)
			return
		}
		for _, s := range targets {
			if !s.state.active() {
				answer("", fmt.Errorf("%s is not running (%s)", s.name(), s.state))
				return
			}
		}
		for _, s := range targets {
			sv.forward(s, sig)
		}
		answer(fmt.Sprintf("sent %s to %s", signals.Name(sig), names(targets)), nil)
		return
	case control.CmdRun:
		answer(sv.runNow(targets))
		return
	case control.CmdStop:
		// Stopping what the main program depends on would stop the main program too, and the
		// container would run on without it, its status lost: refuse, as for main itself.
		if m := sv.main; m != nil && !m.ended() && slices.Contains(sv.withDependents(targets), m) {
			answer("", fmt.Errorf("the main program depends on %s: stopping it would stop the main program; restart it (uno ctl restart), or stop the container instead", names(targets)))
			return
		}
		done = sv.operatorStop(targets)
	case control.CmdStart:
		done = sv.operatorStart(targets, false)
	case control.CmdRestart:
		done = sv.operatorStart(targets, true)
	default:
		answer("", fmt.Errorf("unknown command %q", req.Command))
		return
	}
	if req.NoWait {
		answer(req.Command+" under way: "+names(targets), nil)
		return
	}
	sv.waiters = append(sv.waiters, &waiter{cr: cr, done: done})
}

// operatorStop stops targets and, first, every running service that depends on them.
func (sv *Supervisor) operatorStop(targets []*service) func() (bool, string, error) {
	set := sv.withDependents(targets)
	// The answer names what this request stops, not what had already ended.
	var stopping []*service
	sv.stopExtraRuns(set)
	for _, s := range set {
		s.held = true
		s.restartPending = false
		sv.stopSet[s] = true
		if !s.ended() {
			stopping = append(stopping, s)
		}
	}
	sv.stopNext()
	return func() (bool, string, error) {
		for _, s := range set {
			if !s.ended() {
				return false, "", nil
			}
		}
		if len(stopping) == 0 {
			return true, "nothing to stop: " + names(targets) + " not running", nil
		}
		return true, "stopped " + names(stopping), nil
	}
}

// operatorStart starts targets and whatever they need; with restart, running targets are
// stopped first (their dependents keep running).
func (sv *Supervisor) operatorStart(targets []*service, restart bool) func() (bool, string, error) {
	// A target counts as started when a run later than the current one is running and ready,
	// or, for a start of a service already running or starting, when that run is.
	runs := map[*service]int{}
	current := map[*service]bool{}
	for _, s := range targets {
		runs[s] = s.run
		current[s] = !restart && s.state.active()
	}
	for _, s := range sv.withDependencies(targets) {
		named := slices.Contains(targets, s)
		s.held = false
		delete(sv.stopSet, s)
		switch {
		case s.state.active() && named && restart:
			s.restartPending = true
			if !s.state.stopping() {
				sv.stop(s, s.stopSignal())
			}
		case s.state.stopping():
			s.restartPending = true // an operator's stop under way: start again after it
			current[s] = false
		case s.state == Completed && !named:
			// A completed dependency is satisfied: it does not run again.
		case s.ended() || s.state == Backoff:
			sv.rearm(s)
		}
	}
	sv.startWaiting()
	verb := "started"
	if restart {
		verb = "restarted"
	}
	return func() (bool, string, error) {
		for _, s := range targets {
			switch s.state {
			case Scheduled:
				// A cron job is started when its schedule is.
			case Running, Completed:
				if !current[s] && s.run == runs[s] && s.cfg.Cron == nil {
					return false, "", nil // still the run from before the request
				}
			case Failed, Exited, Stopped:
				// Every target was made to wait or run by the request, so an end state now is
				// this request's outcome: a failed start, or a dependency that failed.
				return true, "", fmt.Errorf("%s did not start: %s (%s)", s.name(), s.state, s.lastDescription())
			default:
				return false, "", nil
			}
		}
		return true, verb + " " + names(targets), nil
	}
}

// rearm makes an ended service start again from scratch when its dependencies allow.
func (sv *Supervisor) rearm(s *service) {
	sv.cancelRestart(s)
	sv.transition(s, EvRearm, Waiting)
	s.restartPending = false
	s.notReady = false
	s.failures = nil
	s.delay = s.cfg.RestartDelay
}

// rearmPending rearms every service stopped for a restart whose dependencies are not waiting for
// one themselves: a reload restarts a changed service's dependents after it, not while it still
// runs with its old definition.
func (sv *Supervisor) rearmPending() {
	for _, s := range sv.services {
		if s.restartPending && s.state == Stopped && !sv.dependencyRestartPending(s) {
			sv.rearm(s)
		}
	}
}

// dependencyRestartPending reports whether something s depends on, directly or not, waits to
// be restarted.
func (sv *Supervisor) dependencyRestartPending(s *service) bool {
	for _, d := range sv.withDependencies([]*service{s}) {
		if d != s && d.restartPending {
			return true
		}
	}
	return false
}

func (sv *Supervisor) cancelRestart(s *service) {
	if s.restartAt != nil {
		s.restartAt.Stop()
		s.restartAt = nil
	}
}

func (sv *Supervisor) anyHeld() bool {
	return slices.ContainsFunc(sv.services, func(s *service) bool { return s.held })
}

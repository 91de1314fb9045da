package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/probe"
)

// This file runs a service's health check (its liveness check) once the service is ready, and
// acts on a run of failures: restart, stop, or only report. docs/services.md has the semantics'
// table (ready, healthy, alive).

// Health statuses, as uno ctl status shows them.
const (
	healthNone      = ""          // no health check, or the run is not ready yet
	healthStarting  = "starting"  // ready, no check has passed yet
	healthHealthy   = "healthy"   // the last check passed, or too few failed in a row
	healthUnhealthy = "unhealthy" // failures checks in a row failed
)

// healthState is the health of a service's current run. Only the supervisor's goroutine touches it.
type healthState struct {
	status string
	// failures counts the failed checks in a row that count (not those of the start period).
	failures  int
	lastError string
	// passed is set by the run's first passing check: the start period ends with it.
	passed  bool
	readyAt time.Time
	// failed is set when uno stops the run for its health: the run counts as a failure, and
	// exits with status 1 whatever its process's status.
	failed bool
	// gen counts the check loops started, so that a loop replaced by a reload is not heard.
	gen    int
	cancel context.CancelFunc
	// lastTick is the last watchdog deadline (Unix ns): a ping since then meets the next one.
	lastTick int64
	// suspended: the service said STOPPING=1 or RELOADING=1, and its watchdog waits (for READY=1
	// after a reload).
	suspended bool
	// warned: this run was told once that a message it sent is ignored; a flood of them
	// must not fill uno's log.
	warned bool
}

// healthEvent is one check's result.
type healthEvent struct {
	svc  *service
	run  int
	gen  int
	err  error
	took time.Duration
	// tick is a watchdog's deadline: the supervisor knows whether a WATCHDOG=1 came.
	tick bool
	// trigger is the service's WATCHDOG=trigger: unhealthy at once.
	trigger bool
}

// startHealth starts the health check loop of s's current run, which has just become ready.
func (sv *Supervisor) startHealth(s *service) {
	h := s.cfg.Health
	hs := &s.health
	hs.status, hs.failures, hs.lastError, hs.passed, hs.failed = healthStarting, 0, "", false, false
	hs.readyAt = time.Now()
	hs.gen++
	ctx, cancel := context.WithCancel(context.Background())
	hs.cancel = cancel
	watchdog := h.Kind == config.HealthWatchdog
	var check probe.Check
	if !watchdog {
		check = sv.check(s, h.Kind, h.Target, h.Argv)
	}
	run, gen := s.run, hs.gen
	go func() {
		// One check at a time: the next starts an interval after the last one ended, so that a
		// slow check never piles up behind itself.
		timer := time.NewTimer(h.Interval)
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			if watchdog {
				sv.events <- healthEvent{svc: s, run: run, gen: gen, tick: true}
				timer.Reset(h.Interval)
				continue
			}
			attempt, cancelAttempt := context.WithTimeout(ctx, h.Timeout)
			began := time.Now()
			err := check(attempt)
			took := time.Since(began)
			// By the clock: an http check's own deadline can end it a moment before ctx's.
			if err != nil && took >= h.Timeout {
				err = fmt.Errorf("no answer within the timeout (%v): %w", h.Timeout, err)
			}
			cancelAttempt()
			if ctx.Err() != nil {
				return
			}
			sv.events <- healthEvent{svc: s, run: run, gen: gen, err: err, took: took}
			timer.Reset(h.Interval)
		}
	}()
}

// stopHealth ends s's check loop; what it was doing is no longer heard.
func (sv *Supervisor) stopHealth(s *service) {
	if s.health.cancel != nil {
		s.health.cancel()
		s.health.cancel = nil
	}
}

// healthResult acts on one check's result.
func (sv *Supervisor) healthResult(ev healthEvent) {
	s := ev.svc
	hs := &s.health
	if ev.run != s.run || ev.gen != hs.gen || s.state != Running || s.cfg.Health == nil {
		return // an earlier run's, or a loop a reload replaced, or the run is being stopped
	}
	// A run that said STOPPING=1 is judged by its stop_timeout now (notifystop.go); its own
	// WATCHDOG=trigger is still heard.
	if s.selfStopAnnounced() && !ev.trigger {
		return
	}
	h := s.cfg.Health
	switch {
	case ev.tick:
		if hs.suspended {
			return
		}
		if s.watchdogExtended() { // EXTEND_TIMEOUT_USEC=: this deadline is pushed past
			hs.lastTick = time.Now().UnixNano()
			return
		}
		if s.pingedAt.Load() <= hs.lastTick {
			ev.err = fmt.Errorf("no WATCHDOG=1 within %v", h.Interval)
		}
		hs.lastTick = time.Now().UnixNano()
		s.stats.observeCheck(0, ev.err == nil)
	case ev.trigger:
		hs.passed, hs.failures = true, max(h.Failures-1, hs.failures)
		s.stats.observeCheck(0, false)
	default:
		s.stats.observeCheck(ev.took, ev.err == nil)
	}
	if ev.err == nil {
		if hs.status == healthUnhealthy {
			sv.log.Info("service healthy again", "service", s.name())
		}
		hs.status, hs.failures, hs.lastError, hs.passed = healthHealthy, 0, "", true
		return
	}
	hs.lastError = ev.err.Error()
	if !hs.passed && time.Since(hs.readyAt) < h.StartPeriod {
		return // shown (lastError), not counted
	}
	hs.failures++
	if hs.status == healthUnhealthy {
		return // on_failure = ignore: said once
	}
	sv.log.Warn("health check failed", "service", s.name(), "failures", hs.failures, "of", h.Failures, "err", ev.err)
	if hs.failures < h.Failures {
		return
	}
	hs.status = healthUnhealthy
	msg := "service unhealthy; stopping it"
	if h.OnFailure == config.OnFailureIgnore {
		msg = "service unhealthy; it runs on, not ready until a check passes"
	}
	sv.log.Error(msg, "service", s.name(), "failures", hs.failures, "on_failure", h.OnFailure, "last_error", hs.lastError)
	if h.OnFailure == config.OnFailureIgnore {
		return
	}
	hs.failed = true
	sv.stop(s, s.stopSignal())
}

// notifyEvent is a message on a service's notify socket, other than READY=1 (readiness.go).
type notifyEvent struct {
	svc *service
	msg probe.Message
}

// notifyMessage takes a WATCHDOG=1 from the current run at once, on the socket's goroutine, so
// that a supervisor busy with a flood does not miss a deadline, and hands every other message
// to the supervisor's goroutine in order: a service that floods its socket only waits for its
// own messages to be read (the socket's buffer fills), while uno goes on with its other events.
func (sv *Supervisor) notifyMessage(s *service, m probe.Message) {
	v := m.Vars
	if v["WATCHDOG"] == "1" && m.From(int(s.runPid.Load())) {
		s.pingedAt.Store(time.Now().UnixNano())
	}
	if len(v) == 1 && (v["READY"] != "" || v["WATCHDOG"] == "1") {
		return // readiness.go's, or done
	}
	sv.events <- notifyEvent{svc: s, msg: m}
}

// notified acts on a notify message from a service's current run (the sender is checked here,
// where the run's pid is known): WATCHDOG=1 feeds its watchdog, WATCHDOG=trigger makes it
// unhealthy at once, STATUS= is shown by uno ctl status, STOPPING=1 and RELOADING=1 hold the
// watchdog (READY=1 resumes it); MAINPID= and EXTEND_TIMEOUT_USEC= are notifyextra.go's.
func (sv *Supervisor) notified(ev notifyEvent) {
	s, v := ev.svc, ev.msg.Vars
	if !ev.msg.From(s.pid) { // 0 unless a run is under way
		sv.log.Debug("notify message from outside the service's run; ignored", "service", s.name())
		return
	}
	if st, ok := v["STATUS"]; ok {
		s.notifyStatus = st
	}
	hs := &s.health
	if v["STOPPING"] == "1" || v["RELOADING"] == "1" {
		hs.suspended = true
	}
	if v["STOPPING"] == "1" {
		sv.selfStopping(s) // notifystop.go
	}
	if v["READY"] == "1" && v["RELOADING"] != "1" {
		hs.suspended = false
	}
	if v["WATCHDOG"] == "trigger" {
		if s.cfg.Health == nil || s.state != Running {
			sv.warnOnce(s, "WATCHDOG=trigger without a health check, or not running; ignored (said once per run)")
		} else {
			sv.healthResult(healthEvent{svc: s, run: s.run, gen: hs.gen, trigger: true, err: errors.New("the service sent WATCHDOG=trigger")})
		}
	}
	if pid, ok := v["MAINPID"]; ok {
		sv.setMainPid(s, pid) // notifyextra.go
	}
	if usec, ok := v["EXTEND_TIMEOUT_USEC"]; ok {
		sv.extendTimeout(s, usec)
	}
}

// warnOnce logs msg about a message s's run sent, for the run's first such message only.
func (sv *Supervisor) warnOnce(s *service, msg string) {
	if !s.health.warned {
		s.health.warned = true
		sv.log.Warn(msg, "service", s.name())
	}
}

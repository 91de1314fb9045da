package supervisor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/uno-init/uno/internal/config"
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
}

// healthEvent is one check's result.
type healthEvent struct {
	svc  *service
	run  int
	gen  int
	err  error
	took time.Duration
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
	check := sv.check(s, h.Kind, h.Target, h.Argv)
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
			attempt, cancelAttempt := context.WithTimeout(ctx, h.Timeout)
			began := time.Now()
			err := check(attempt)
			took := time.Since(began)
			if err != nil && errors.Is(attempt.Err(), context.DeadlineExceeded) {
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
	h := s.cfg.Health
	s.stats.observeCheck(ev.took, ev.err == nil)
	if ev.err == nil {
		if hs.status == healthUnhealthy {
			sv.log.Info("service healthy again", "service", s.name())
		}
		hs.status, hs.failures, hs.lastError, hs.passed = healthHealthy, 0, "", true
		return
	}
	hs.lastError = ev.err.Error()
	if !hs.passed && time.Since(hs.readyAt) < h.StartPeriod {
		sv.log.Debug("health check failed within start_period; not counted", "service", s.name(), "err", ev.err)
		return
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
	if h.OnFailure == config.OnFailureIgnore {
		sv.log.Error("service unhealthy; on_failure = ignore: it runs on, not ready until a check passes", "service", s.name(), "failures", hs.failures)
		return
	}
	sv.log.Error("service unhealthy; stopping it", "service", s.name(), "failures", hs.failures, "on_failure", h.OnFailure, "last_error", hs.lastError)
	hs.failed = true
	sv.stop(s, s.stopSignal())
}

// healthFailedRun reports whether the run of s that just ended was stopped for its health and
// now goes to the restart policy (or, for on_failure = stop, to its end): not when uno stops,
// nor when an operator or a reload took it over meanwhile.
func (sv *Supervisor) healthFailedRun(s *service) bool {
	return s.health.failed && !sv.stopping && !s.removed && !s.restartPending && !s.held
}

// reloadHealth applies a reload that changed only s's health check: the loop starts again with
// the new settings and a clean count; the service itself runs on.
func (sv *Supervisor) reloadHealth(s *service, old *config.Service) {
	if sameHealth(old.Health, s.cfg.Health) {
		return
	}
	sv.log.Info("health check changed by the reload", "service", s.name())
	sv.stopHealth(s)
	if s.state != Running || s.health.failed {
		return // a run being stopped for its health is restarted with the new check
	}
	if s.cfg.Health == nil {
		s.health.status, s.health.failures, s.health.lastError = healthNone, 0, ""
		s.health.gen++
		return
	}
	sv.startHealth(s)
}

func sameHealth(a, b *config.HealthCheck) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Line, y.Line = 0, 0
	return reflect.DeepEqual(x, y)
}

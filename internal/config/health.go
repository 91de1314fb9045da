// Decoding a service's health table: the liveness check that runs once the service is ready,
// and what a run of failures does.

package config

import (
	"slices"
	"time"
)

// OnFailure is what a service's failing health check does.
type OnFailure string

const (
	// OnFailureRestart stops the run and restarts it under the restart policy and its backoff;
	// the unhealthy run counts as a failure for restart_limit.
	OnFailureRestart OnFailure = "restart"
	// OnFailureStop stops the run for good: the service fails (an essential one stops the
	// container).
	OnFailureStop OnFailure = "stop"
	// OnFailureIgnore only reports it: the service is not ready and not healthy meanwhile.
	OnFailureIgnore OnFailure = "ignore"
)

// HealthWatchdog is a health check that is the service's own WATCHDOG=1 on its notify socket,
// due every Interval (systemd's WatchdogSec).
const HealthWatchdog ReadyKind = "watchdog"

// UsesNotify reports whether the service gets a notify socket: for its readiness or its watchdog.
func (s *Service) UsesNotify() bool {
	return s.Ready != nil && s.Ready.Kind == ReadyNotify || s.Health != nil && s.Health.Kind == HealthWatchdog
}

// HealthCheck is a service's liveness check.
type HealthCheck struct {
	// Kind is http, tcp or exec, with Target or Argv as for ReadyCheck, or watchdog.
	Kind   ReadyKind
	Target string
	Argv   []string
	Line   int
	// Interval is the time between the end of one check and the start of the next; for a
	// watchdog, the period within which each WATCHDOG=1 is due.
	Interval time.Duration
	// Timeout bounds one check; a check that takes longer failed.
	Timeout time.Duration
	// Failures in a row make the service unhealthy.
	Failures int
	// StartPeriod after the run became ready: failures in it are shown but not counted.
	StartPeriod time.Duration
	OnFailure   OnFailure
}

// Health defaults.
const (
	DefaultHealthInterval = 10 * time.Second
	DefaultHealthTimeout  = 2 * time.Second
	DefaultHealthFailures = 3
	// MinHealthPeriod bounds interval, timeout and watchdog from below: with a period of 1ns
	// the check loop (or the watchdog's ticks) kept a core busy for ever.
	MinHealthPeriod = 10 * time.Millisecond
)

var healthKinds = []string{string(ReadyHTTP), string(ReadyTCP), string(ReadyExec), string(HealthWatchdog)}

func (l *loader) health(file, key string, n *node, env *environment) *HealthCheck {
	t := l.table(file, key, n)
	if t == nil {
		return nil
	}
	l.known(file, key+".", t, append(slices.Clone(healthKinds), "interval", "timeout", "failures", "start_period", "on_failure")...)
	h := &HealthCheck{Interval: DefaultHealthInterval, Timeout: DefaultHealthTimeout, Failures: DefaultHealthFailures, OnFailure: OnFailureRestart}
	var ok bool
	if h.Kind, h.Target, h.Argv, h.Line, ok = l.checkKind(file, key, n, t, healthKinds, env); !ok {
		return nil
	}
	if h.Kind == HealthWatchdog {
		// Its period is watchdog's value; a missed deadline is a failure at once, as for
		// systemd, unless failures says more.
		h.Interval, h.Failures = 0, 1
		l.positive(file, key, t, "watchdog", &h.Interval)
		if t.get("interval") != nil || t.get("timeout") != nil {
			l.errorf(file, h.Line, key+".watchdog", "interval and timeout do not apply to a watchdog")
		}
	} else {
		l.positive(file, key, t, "interval", &h.Interval)
		l.positive(file, key, t, "timeout", &h.Timeout)
	}
	if h.Kind == HealthWatchdog {
		l.notBusy(file, key, t, "watchdog", h.Interval)
	} else {
		l.notBusy(file, key, t, "interval", h.Interval)
		l.notBusy(file, key, t, "timeout", h.Timeout)
	}
	if v := t.get("start_period"); v != nil {
		h.StartPeriod = l.duration(file, key+".start_period", v, 0)
	}
	if v := t.get("failures"); v != nil {
		h.Failures = l.integer(file, key+".failures", v, h.Failures)
		if h.Failures == 0 {
			l.errorf(file, v.line, key+".failures", "must be at least 1")
		}
	}
	if v := t.get("on_failure"); v != nil {
		h.OnFailure = OnFailure(l.oneOf(file, key+".on_failure", v, string(OnFailureRestart), string(OnFailureStop), string(OnFailureIgnore)))
	}
	return h
}

// notBusy refuses a period, given as t's name, shorter than MinHealthPeriod.
func (l *loader) notBusy(file, key string, t *table, name string, d time.Duration) {
	if v := t.get(name); v != nil && d > 0 && d < MinHealthPeriod {
		l.errorf(file, v.line, key+"."+name, "must be at least %v, got %v (a shorter check is a busy loop)", MinHealthPeriod, d)
	}
}

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

// HealthCheck is a service's liveness check.
type HealthCheck struct {
	// Kind is http, tcp or exec, with Target or Argv as for ReadyCheck.
	Kind   ReadyKind
	Target string
	Argv   []string
	Line   int
	// Interval is the time between the end of one check and the start of the next.
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
)

var healthKinds = []string{string(ReadyHTTP), string(ReadyTCP), string(ReadyExec)}

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
	for _, d := range []struct {
		name     string
		dst      *time.Duration
		positive bool
	}{{"interval", &h.Interval, true}, {"timeout", &h.Timeout, true}, {"start_period", &h.StartPeriod, false}} {
		if v := t.get(d.name); v != nil {
			*d.dst = l.duration(file, key+"."+d.name, v, *d.dst)
			if d.positive && *d.dst == 0 {
				l.errorf(file, v.line, key+"."+d.name, "must be more than 0")
			}
		}
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

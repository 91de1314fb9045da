package supervisor

import (
	"runtime"
	"time"

	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/metrics"
)

// This file is uno's Prometheus metrics: what each service's record counts (serviceStats), the
// copy of it each snapshot carries, and the one table (series) that renders a snapshot as the
// exposition /metrics and uno ctl metrics serve. A new series is a row of that table, reading
// the snapshot; what it needs from the supervisor's goroutine goes into the snapshot in publish.

// Exit reasons, the values of uno_service_exits_total's reason label.
const (
	exitExited      = "exited"       // exited 0 on its own
	exitFailed      = "failed"       // exited non-zero or was killed, on its own
	exitStopped     = "stopped"      // uno stopped it (a shutdown, an operator, a reload)
	exitNotReady    = "not_ready"    // stopped because its readiness check timed out
	exitUnhealthy   = "unhealthy"    // stopped because its health check failed
	exitStartFailed = "start_failed" // could not start
)

var exitReasons = []string{exitExited, exitFailed, exitStopped, exitNotReady, exitUnhealthy, exitStartFailed}

// checkBounds are uno_health_check_duration_seconds's buckets.
var checkBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// serviceStats is what a service's record counts over all its runs.
type serviceStats struct {
	exits         map[string]uint64
	checkFailures uint64
	checkDuration metrics.Histogram
}

func (st *serviceStats) exited(reason string) {
	if st.exits == nil {
		st.exits = map[string]uint64{}
	}
	st.exits[reason]++
}

func (st *serviceStats) observeCheck(took time.Duration, passed bool) {
	if st.checkDuration.Counts == nil {
		st.checkDuration = metrics.NewHistogram(checkBounds)
	}
	st.checkDuration.Observe(took.Seconds())
	if !passed {
		st.checkFailures++
	}
}

// exitReason names how s's run that just ended ended.
func exitReason(s *service) string {
	switch {
	case s.notReady:
		return exitNotReady
	case s.health.failed:
		return exitUnhealthy
	case s.state.stopping():
		return exitStopped
	case s.code == 0:
		return exitExited
	}
	return exitFailed
}

// serviceMetrics is one service's figures in a snapshot.
type serviceMetrics struct {
	name, state    string
	up, healthy    bool
	hasHealth      bool
	restarts       int
	lastExit       bool
	lastExitCode   int
	startedAt      time.Time
	exits          map[string]uint64
	checkFailures  uint64
	checkDuration  metrics.Histogram
	stdout, stderr logmux.Count
}

// serviceMetrics is s's figures now, for publish.
func (s *service) metrics() serviceMetrics {
	m := serviceMetrics{
		name: s.name(), state: string(s.state), up: s.state.active(),
		healthy:  s.health.status != healthUnhealthy,
		restarts: s.restarts, lastExit: s.lastExit != nil || !s.lastEnd.IsZero(), lastExitCode: s.code,
		startedAt: s.startedAt, checkFailures: s.stats.checkFailures,
		hasHealth: s.cfg.Health != nil || s.stats.checkDuration.Counts != nil,
	}
	m.exits = cloneCounts(s.stats.exits)
	if m.hasHealth {
		if s.stats.checkDuration.Counts == nil {
			s.stats.checkDuration = metrics.NewHistogram(checkBounds)
		}
		m.checkDuration = s.stats.checkDuration.Clone()
	}
	return m
}

// series renders a snapshot. Each row is one family; services are in start order.
var series = []struct {
	name, typ, help string
	write           func(w *metrics.Writer, name string, snap *snapshot)
}{
	{"uno_build_info", "gauge", "uno's version and the Go release it was built with; always 1.", func(w *metrics.Writer, name string, snap *snapshot) {
		w.Sample(name, 1, "version", snap.version, "goversion", runtime.Version())
	}},
	{"uno_service_state", "gauge", "1 for the state each service is in, 0 for the others.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			for _, st := range allStates {
				w.Sample(name, metrics.Bool(m.state == string(st)), "service", m.name, "state", string(st))
			}
		}
	}},
	{"uno_service_up", "gauge", "1 while a process of the service runs (starting, running, stopping, killing).", eachService(func(m serviceMetrics) float64 { return metrics.Bool(m.up) })},
	{"uno_service_ready", "gauge", "1 while the service is ready: running, readiness check passed, not unhealthy (or a completed oneshot).", func(w *metrics.Writer, name string, snap *snapshot) {
		for i, m := range snap.metrics {
			w.Sample(name, metrics.Bool(snap.services[i].Ready), "service", m.name)
		}
	}},
	{"uno_service_healthy", "gauge", "0 while the service's health check has failed its failures in a row, else 1.", eachService(func(m serviceMetrics) float64 { return metrics.Bool(m.healthy) })},
	{"uno_service_restarts_total", "counter", "Restarts uno made of the service under its restart policy.", eachService(func(m serviceMetrics) float64 { return float64(m.restarts) })},
	{"uno_service_exits_total", "counter", "Ends of the service's runs, by reason: exited (0), failed (non-zero or killed), stopped (by uno), not_ready, unhealthy, start_failed.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			for _, r := range exitReasons {
				w.Sample(name, float64(m.exits[r]), "service", m.name, "reason", r)
			}
		}
	}},
	{"uno_service_last_exit_code", "gauge", "The exit status of the service's last run (128+n for signal n); absent before its first end.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			if m.lastExit {
				w.Sample(name, float64(m.lastExitCode), "service", m.name)
			}
		}
	}},
	{"uno_service_start_time_seconds", "gauge", "When the service's current or last run started, in seconds since the epoch; absent before its first start.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			if !m.startedAt.IsZero() {
				w.Sample(name, float64(m.startedAt.UnixNano())/1e9, "service", m.name)
			}
		}
	}},
	{"uno_health_check_failures_total", "counter", "Health checks of the service that failed, start_period's included.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			if m.hasHealth {
				w.Sample(name, float64(m.checkFailures), "service", m.name)
			}
		}
	}},
	{"uno_health_check_duration_seconds", "histogram", "How long the service's health checks took.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			if m.hasHealth {
				w.Histogram(name, m.checkDuration, "service", m.name)
			}
		}
	}},
	{"uno_log_lines_total", "counter", "Output lines the service wrote, by stream (a last line without its newline counts).", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, c := range snap.logs {
			w.Sample(name, float64(c.Lines), "service", c.Name, "stream", c.Stream.String())
		}
	}},
	{"uno_log_bytes_total", "counter", "Output bytes the service wrote, by stream.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, c := range snap.logs {
			w.Sample(name, float64(c.Bytes), "service", c.Name, "stream", c.Stream.String())
		}
	}},
	{"uno_reaped_orphans_total", "counter", "Processes uno reaped that it had not started: orphans re-parented to it.", func(w *metrics.Writer, name string, snap *snapshot) {
		w.Sample(name, float64(snap.orphans))
	}},
	{"uno_signals_forwarded_total", "counter", "Signals uno passed on to services, by signal.", func(w *metrics.Writer, name string, snap *snapshot) {
		for _, sig := range sortedKeys(snap.forwarded) {
			w.Sample(name, float64(snap.forwarded[sig]), "signal", sig)
		}
	}},
	{"uno_process_resident_memory_bytes", "gauge", "uno's own resident memory.", func(w *metrics.Writer, name string, snap *snapshot) {
		if rss, ok := metrics.ResidentMemory(); ok {
			w.Sample(name, float64(rss))
		}
	}},
}

func eachService(value func(serviceMetrics) float64) func(*metrics.Writer, string, *snapshot) {
	return func(w *metrics.Writer, name string, snap *snapshot) {
		for _, m := range snap.metrics {
			w.Sample(name, value(m), "service", m.name)
		}
	}
}

var allStates = []State{Waiting, Starting, Running, Backoff, Stopping, Killing, Completed, Exited, Failed, Stopped}

// renderMetrics is the exposition of snap, with the figures read at the time of the request:
// output counts, orphans.
func (sv *Supervisor) renderMetrics(published *snapshot) []byte {
	snap := *published // the published one is shared by every reader
	snap.orphans = sv.reaper.Orphans()
	known := map[string]bool{}
	for _, m := range snap.metrics {
		known[m.name] = true
	}
	for _, c := range sv.mux.Counts() {
		if known[c.Name] {
			snap.logs = append(snap.logs, c)
		}
	}
	var w metrics.Writer
	for _, f := range series {
		w.Family(f.name, f.typ, f.help)
		f.write(&w, f.name, &snap)
	}
	return []byte(w.String())
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	metrics.SortStrings(keys)
	return keys
}

func cloneCounts(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

package supervisor

import (
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/metrics"
)

// This file counts, for uno's Prometheus metrics, what a service's record does not keep
// (serviceStats), and turns the supervisor's state into the metrics.Snapshot that package
// metrics renders (its series table is the one place a series is added).

// Exit reasons, the values of uno_service_exits_total's reason label (metrics.ExitReasons).
const (
	exitExited      = "exited"       // exited 0 on its own
	exitFailed      = "failed"       // exited non-zero or was killed, on its own
	exitStopped     = "stopped"      // uno stopped it (a shutdown, an operator, a reload)
	exitNotReady    = "not_ready"    // stopped because its readiness check timed out
	exitUnhealthy   = "unhealthy"    // stopped because its health check failed
	exitStartFailed = "start_failed" // could not start
)

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
		st.checkDuration = metrics.NewHistogram(metrics.CheckBounds)
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
	case s.selfStopKilled():
		return exitFailed // killed in a stop of its own (notifystop.go)
	case s.state.stopping():
		return exitStopped
	case s.code == 0:
		return exitExited
	}
	return exitFailed
}

var stateNames = func() []string {
	var out []string
	for _, st := range []State{Waiting, Starting, Running, Backoff, Stopping, Killing, Completed, Exited, Failed, Stopped, Scheduled} {
		out = append(out, string(st))
	}
	return out
}()

// metrics is s's figures now, for publish; ready is what the status says.
func (s *service) metrics(ready bool) metrics.Service {
	m := metrics.Service{
		Name: s.name(), State: string(s.state), Up: s.state.active(), Ready: ready,
		Healthy:  s.health.status != healthUnhealthy,
		Restarts: s.restarts, LastExit: s.lastExit != nil || !s.lastEnd.IsZero(), LastExitCode: s.code,
		CheckFailures: s.stats.checkFailures,
		HasHealth:     s.cfg.Health != nil || s.stats.checkDuration.Counts != nil,
		Exits:         cloneCounts(s.stats.exits),
	}
	if !s.startedAt.IsZero() {
		m.StartTime = float64(s.startedAt.UnixNano()) / 1e9
	}
	if m.HasHealth {
		if s.stats.checkDuration.Counts == nil {
			s.stats.checkDuration = metrics.NewHistogram(metrics.CheckBounds)
		}
		m.CheckDuration = s.stats.checkDuration.Clone()
	}
	return m
}

// renderMetrics is the exposition of a published snapshot, with the figures read at the time
// of the request: output counts, orphans.
func (sv *Supervisor) renderMetrics(published *snapshot) []byte {
	snap := published.metrics // a copy: the published one is shared by every reader
	snap.Orphans = sv.reaper.Orphans()
	for _, m := range snap.Services {
		if m.Name == config.MainName && sv.main != nil {
			continue // its output is uno's own, not counted
		}
		c := sv.mux.Counters(m.Name)
		for st := logmux.Stdout; st <= logmux.Stderr; st++ {
			snap.Logs = append(snap.Logs, metrics.Log{Service: m.Name, Stream: st.String(), Lines: c.Lines[st], Bytes: c.Bytes[st]})
		}
	}
	return metrics.Render(&snap)
}

func cloneCounts(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

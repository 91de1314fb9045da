package supervisor

import (
	"time"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/metrics"
)

// This file is a cron job's part of uno's Prometheus metrics: the outcomes its runs are counted
// by (uno_cron_runs_total's result label, metrics.CronResults) and its metrics.CronJob.

// Outcomes of a job's run: few and fixed, unlike the status's result, which says what happened.
const (
	cronSuccess = "success" // exited 0
	cronFailure = "failure" // exited non-zero, was killed on its own, or could not start
	cronTimeout = "timeout" // stopped for its timeout
	cronStopped = "stopped" // stopped by uno: a shutdown, an operator, a reload, a replace
)

func (j *cronJob) ended(outcome string) {
	if j.results == nil {
		j.results = map[string]uint64{}
	}
	j.results[outcome]++
}

// cronMetrics is s's record for /metrics, from its status st (cronStatus).
func cronMetrics(s *service, st *control.CronStatus) metrics.CronJob {
	m := metrics.CronJob{Name: s.name(), Skips: uint64(st.Skips), LastRun: epochSeconds(st.LastRunStart), NextRun: epochSeconds(st.NextRun)}
	if s.job != nil {
		m.Results = cloneCounts(s.job.results)
	}
	return m
}

// epochSeconds is t in seconds since the epoch; 0 for the zero time.
func epochSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

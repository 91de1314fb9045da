package supervisor

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
)

// This file runs cron jobs (type = "cron"): a job is a service that runs on a clock. Its runs go
// through start, stop and the reaper like any service's; between runs it is Scheduled. One timer
// (cronclock.go) sleeps until the next due job; cronplan.go says which occurrence is next.

// cronJob is the supervisor's record of a job's schedule and runs.
type cronJob struct {
	// parent is set on an extra run (concurrency = "allow"): the job it is a run of, whose
	// record counts it.
	parent *service
	plan   *jobPlan
	// planned is the definition the plan was made from: a reload that changed it while a run
	// went on plans again once that run ends.
	planned *config.CronSpec
	// ranOnStart says run_on_start was done: a rearm (reload, uno ctl start) does not repeat it.
	ranOnStart bool

	timeout  *time.Timer
	timedOut bool // this run was stopped for its timeout
	// replacing: this run is being stopped so that the due one starts (concurrency = "replace").
	replacing bool
	extra     int // extra runs going (concurrency = "allow")

	runs, failures, skips, timeouts int
	// results counts the ended runs by outcome (cronmetrics.go), for uno_cron_runs_total.
	results      map[string]uint64
	failedInARow int
	lastStart    time.Time
	lastDuration time.Duration
	lastResult   string
	lastCode     int
}

// cronScheduler is the one timer of every job.
type cronScheduler struct {
	clock wallClock
	wake  chan struct{}
	// armed is what the clock was last asked to wake at; valid says it still is.
	armed time.Time
	valid bool
}

// cronTimeoutEvent: a run lasted its timeout.
type cronTimeoutEvent struct {
	svc *service
	run int
}

// record is the job's own record: an extra run's parent's.
func (s *service) record() *cronJob {
	if s.job.parent != nil {
		return s.job.parent.job
	}
	return s.job
}

// initCron makes the timer, the first time a job is scheduled.
func (sv *Supervisor) initCron() {
	if sv.cron.clock != nil {
		return
	}
	sv.cron.wake = make(chan struct{}, 1)
	clock, err := newTimerClock(sv.cron.wake)
	if err != nil {
		sv.log.Warn("no timerfd: cron jobs use a plain timer, which sees the wall clock set only when it wakes", "err", err)
		clock = &fallbackClock{wake: sv.cron.wake}
	}
	sv.cron.clock = clock
}

// closeCron stops the timer as uno exits.
func (sv *Supervisor) closeCron() {
	if sv.cron.clock != nil {
		sv.cron.clock.Close()
	}
}

// scheduleJob starts a job's schedule once its dependencies hold.
func (sv *Supervisor) scheduleJob(s *service) {
	sv.initCron()
	if s.job == nil {
		s.job = &cronJob{}
	}
	spec := s.cfg.Cron
	// A schedule started anew owes no replacement: a replace cut short by an operator's stop
	// must not start a run when the next run ends.
	s.job.replacing = false
	s.job.plan = newPlan(spec, sv.cron.clock.Now(), randomJitter)
	s.job.planned = spec
	sv.transition(s, EvSchedule, Scheduled)
	sv.log.Info("cron job scheduled", "service", s.name(), "schedule", spec.Expr, "timezone", spec.Zone, "next", formatNext(s.job.plan.fireAt))
	if spec.RunOnStart && !s.job.ranOnStart {
		s.job.ranOnStart = true
		sv.fire(s, "run_on_start")
	}
}

func formatNext(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// armCron sets the one timer to the earliest due job (none while uno stops or drains: the
// drain is the stop's beginning, and a run started in it would be cut short). Called before
// every wait of the supervisor's loop; it touches the timer only when that time changed.
func (sv *Supervisor) armCron() {
	if sv.cron.clock == nil {
		return
	}
	var at time.Time
	if !sv.stopping && !sv.draining() {
		for _, s := range sv.services {
			if s.job == nil || s.job.parent != nil || s.job.plan == nil || s.cfg.Cron == nil {
				continue
			}
			if s.state != Scheduled && !s.state.active() {
				continue
			}
			if f := s.job.plan.fireAt; !f.IsZero() && (at.IsZero() || f.Before(at)) {
				at = f
			}
		}
	}
	if sv.cron.valid && at.Equal(sv.cron.armed) && at.IsZero() == sv.cron.armed.IsZero() {
		return
	}
	sv.cron.clock.WakeAt(at)
	sv.cron.armed, sv.cron.valid = at, true
}

// cronWoke fires every job that is due.
func (sv *Supervisor) cronWoke() {
	sv.cron.valid = false // a wake-up for a clock set disarms the timer: arm it again
	if sv.stopping || sv.draining() {
		return
	}
	now := sv.cron.clock.Now()
	for _, s := range slices.Clone(sv.services) {
		if s.job == nil || s.job.parent != nil || s.job.plan == nil || s.cfg.Cron == nil {
			continue
		}
		if s.state != Scheduled && !s.state.active() {
			continue
		}
		occurrence, dropped, ok := s.job.plan.due(now)
		if !ok {
			continue
		}
		if dropped {
			sv.log.Warn("cron job: occurrences missed (the wall clock jumped forward, or uno was held up); ran once for them",
				"service", s.name(), "occurrence", occurrence.Format(time.RFC3339), "next", formatNext(s.job.plan.fireAt))
		}
		sv.fire(s, "schedule")
		if sv.stopping {
			return
		}
	}
}

// fire starts a run of s that is due, as its concurrency says when one still goes. It reports
// what it did, for uno ctl run.
func (sv *Supervisor) fire(s *service, reason string) (string, error) {
	if sv.stopping || sv.draining() {
		return "", errors.New("uno is stopping the container")
	}
	switch {
	case s.state == Scheduled && s.job.extra >= maxRunsAtOnce:
		return "", sv.tooManyRuns(s) // the job's own run ended, its extra runs go on
	case s.state == Scheduled:
		sv.startRun(s, reason)
		if !s.state.active() {
			return "", errors.New(s.name() + " could not start: " + s.lastDescription())
		}
		return "started a run of " + s.name() + " (pid " + strconv.Itoa(s.pid) + ")", nil
	case s.state.active():
		switch s.cfg.Cron.Concurrency {
		case config.Allow:
			if 1+s.job.extra >= maxRunsAtOnce {
				return "", sv.tooManyRuns(s)
			}
			return sv.startExtraRun(s, reason)
		case config.Replace:
			if !s.job.replacing {
				s.job.replacing = true
				sv.log.Warn("cron run still going when the next is due; replacing it", "service", s.name(), "pid", s.pid, "reason", reason)
				if !s.state.stopping() {
					sv.stop(s, s.stopSignal())
				}
			}
			return "stopping the run of " + s.name() + " going (pid " + strconv.Itoa(s.pid) + "); a new one starts once it ends", nil
		default:
			s.job.skips++
			sv.log.Warn("cron run skipped: the last one still goes (concurrency = forbid)", "service", s.name(), "pid", s.pid, "skips", s.job.skips)
			return "", nil
		}
	}
	return "", errors.New(s.name() + " is " + string(s.state))
}

const ctlRun = "uno ctl run"

// startRun starts one run of a job (or of an extra run) and arms its timeout.
func (sv *Supervisor) startRun(s *service, reason string) {
	rec := s.record()
	rec.runs++
	s.job.timedOut = false
	sv.start(s)
	if !s.state.active() {
		return // a failed start: afterRun has recorded it
	}
	rec.lastStart = s.startedAt
	sv.log.Debug("cron run started", "service", s.name(), "pid", s.pid, "reason", reason)
	if timeout := s.cfg.Cron.Timeout; timeout > 0 {
		run := s.run
		s.job.timeout = time.AfterFunc(timeout, func() { sv.events <- cronTimeoutEvent{svc: s, run: run} })
	}
}

// jobTimedOut stops a run that lasted its timeout: stop signal, stop_timeout, SIGKILL.
func (sv *Supervisor) jobTimedOut(ev cronTimeoutEvent) {
	s := ev.svc
	if ev.run != s.run || (s.state != Running && s.state != Starting) {
		return
	}
	s.job.timedOut = true
	sv.log.Warn("cron run timed out; stopping it", "service", s.name(), "pid", s.pid, "timeout", s.cfg.Cron.Timeout)
	sv.stop(s, s.stopSignal())
}

// recordRun counts a run's end in its job's record and logs it: result is the status's words,
// outcome one of the few fixed values of the metrics (cronSuccess...).
func (sv *Supervisor) recordRun(s *service, result, outcome string) {
	if s.job.timeout != nil {
		s.job.timeout.Stop()
		s.job.timeout = nil
	}
	rec := s.record()
	rec.lastResult, rec.lastCode = result, s.code
	rec.ended(outcome)
	failed := outcome == cronFailure || outcome == cronTimeout
	rec.lastDuration = 0
	attrs := []any{"service", s.name(), "result", result}
	if !s.startedAt.IsZero() {
		rec.lastDuration = time.Since(s.startedAt)
		attrs = append(attrs, "duration", rec.lastDuration.Round(time.Millisecond))
	}
	if failed {
		rec.failures++
		rec.failedInARow++
		attrs = append(attrs, "status", s.code, "failures_in_a_row", rec.failedInARow)
		sv.log.Warn("cron run failed", attrs...)
		return
	}
	rec.failedInARow = 0
	sv.log.Info("cron run done", attrs...)
}

// jobRunEnded follows a run that ended by itself, or could not start (afterRun, not stopping).
func (sv *Supervisor) jobRunEnded(s *service, ev Event, success bool) {
	result := s.lastDescription()
	if success {
		result = "success"
	}
	outcome := cronFailure
	if success {
		outcome = cronSuccess
	}
	sv.recordRun(s, result, outcome)
	if s.job.parent != nil {
		sv.endExtraRun(s, ev, success)
		return
	}
	if sv.failedTooOften(s) {
		sv.endForGood(s, ev, Failed)
		return
	}
	sv.transition(s, ev, Scheduled)
	sv.afterJobRun(s)
}

// jobStopped follows a run uno stopped, or gave up on (ev). It reports false when the ordinary
// stop path should carry on: uno stops, an operator stopped the job, a reload removed it.
func (sv *Supervisor) jobStopped(s *service, ev Event) bool {
	if s.job == nil || s.cfg.Cron == nil {
		return false
	}
	timedOut := s.job.timedOut
	s.job.timedOut = false
	if sv.stopping || s.removed || s.restartPending || sv.stopSet[s] {
		sv.recordRun(s, "stopped: "+s.lastDescription(), cronStopped)
		if s.job.parent != nil && !sv.stopping {
			sv.transition(s, ev, Stopped)
			sv.dropExtraRun(s)
			return true
		}
		return false
	}
	if timedOut {
		s.record().timeouts++
		sv.recordRun(s, "timed out: "+s.lastDescription(), cronTimeout)
		if s.code == 0 {
			s.code = 1
		}
	} else {
		sv.recordRun(s, "replaced: "+s.lastDescription(), cronStopped)
	}
	if s.job.parent != nil {
		sv.transition(s, ev, Stopped)
		sv.dropExtraRun(s)
		sv.checkFailedTooOften(s.job.parent, s.code)
		return true
	}
	if sv.failedTooOften(s) {
		final := Failed
		sv.transition(s, ev, final)
		sv.log.Error("essential cron job failed too many times in a row; stopping the container", "service", s.name(), "fail_after", s.cfg.Cron.FailAfter, "status", s.code)
		sv.shutdown(s.code, "essential cron job "+s.name()+" failed")
		return true
	}
	sv.transition(s, ev, Scheduled)
	sv.afterJobRun(s)
	return true
}

// afterJobRun carries on once a job's run is over: a new plan if a reload changed the job, and
// the run a replace waits for.
func (sv *Supervisor) afterJobRun(s *service) {
	if s.job.planned != s.cfg.Cron {
		s.job.plan = newPlan(s.cfg.Cron, sv.cron.clock.Now(), randomJitter)
		s.job.planned = s.cfg.Cron
		sv.log.Info("cron job scheduled with its new definition", "service", s.name(), "schedule", s.cfg.Cron.Expr, "next", formatNext(s.job.plan.fireAt))
	}
	if s.job.replacing {
		s.job.replacing = false
		sv.fire(s, "replace")
	}
}

// failedTooOften reports whether an essential job has failed fail_after times in a row.
func (sv *Supervisor) failedTooOften(s *service) bool {
	rec := s.record()
	n := s.cfg.Cron.FailAfter
	return s.cfg.Essential && n > 0 && rec.failedInARow >= n
}

// checkFailedTooOften stops the container when an extra run's failure was one too many.
func (sv *Supervisor) checkFailedTooOften(parent *service, code int) {
	if sv.stopping || !sv.failedTooOften(parent) {
		return
	}
	if code == 0 {
		code = 1
	}
	parent.code = code
	sv.log.Error("essential cron job failed too many times in a row; stopping the container", "service", parent.name(), "fail_after", parent.cfg.Cron.FailAfter, "status", code)
	sv.shutdown(code, "essential cron job "+parent.name()+" failed")
}

// letRunFinish, for a reload that changed a job while it runs, keeps the run going: it started
// under the old definition and ends under it; the new one applies from the next run.
func (sv *Supervisor) letRunFinish(s *service) bool {
	if s.job == nil || s.job.parent != nil || s.cfg.Cron == nil || s.job.planned == nil {
		return false
	}
	sv.log.Info("cron job changed while a run goes on: the run finishes, the new definition applies after it", "service", s.name(), "pid", s.pid)
	return true
}

// runNow carries out uno ctl run: a run of each job now, as its concurrency allows.
func (sv *Supervisor) runNow(targets []*service) (string, error) {
	for _, s := range targets {
		if s.cfg.Cron == nil {
			return "", errors.New(s.name() + " is not a cron job: use uno ctl start or restart")
		}
		if s.state != Scheduled && !s.state.active() {
			if s.state == Waiting {
				return "", errors.New(s.name() + " waits for its dependencies: its schedule has not started")
			}
			return "", errors.New(s.name() + " is " + string(s.state) + ": uno ctl start it first")
		}
		if s.state.active() && s.cfg.Cron.Concurrency == config.Forbid {
			return "", errors.New("a run of " + s.name() + " is going (pid " + strconv.Itoa(s.pid) + ") and its concurrency is forbid")
		}
	}
	var msgs []string
	for _, s := range targets {
		msg, err := sv.fire(s, ctlRun)
		if err != nil {
			return "", err
		}
		msgs = append(msgs, msg)
	}
	return strings.Join(msgs, "; "), nil
}

// cronStatus is a job's part of uno ctl status.
func (sv *Supervisor) cronStatus(s *service) *control.CronStatus {
	spec := s.cfg.Cron
	st := &control.CronStatus{Schedule: spec.Expr, Timezone: spec.Zone, Concurrency: string(spec.Concurrency)}
	j := s.job
	if j == nil {
		return st
	}
	if j.plan != nil && (s.state == Scheduled || s.state.active()) && !sv.stopping && !sv.draining() {
		st.NextRun = j.plan.fireAt
	}
	st.Runs, st.Failures, st.Skips, st.Timeouts = j.runs, j.failures, j.skips, j.timeouts
	st.ExtraRuns = j.extra
	st.LastRunStart = j.lastStart
	if j.lastResult != "" {
		st.LastRun = &control.CronRun{DurationSeconds: j.lastDuration.Seconds(), Result: j.lastResult, Code: j.lastCode}
	}
	return st
}

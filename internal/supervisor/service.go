package supervisor

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/probe"
	"github.com/uno-init/uno/internal/reaper"
)

// State is where a service is in its life; docs/services.md draws the machine.
type State string

const (
	// Waiting: not started yet, some dependency has not reached its condition.
	Waiting State = "waiting"
	// Starting: the process runs, its readiness check has not passed yet.
	Starting State = "starting"
	// Running: the process runs and is ready (at once for services without a check).
	Running State = "running"
	// Backoff: the process ended and will be started again after a delay.
	Backoff State = "backoff"
	// Stopping: uno sent the stop signal and waits for the process to exit.
	Stopping State = "stopping"
	// Killing: uno sent SIGKILL and waits, a bounded time, for the process to be reaped.
	Killing State = "killing"
	// Completed: a oneshot that exited 0.
	Completed State = "completed"
	// Exited: a simple service that exited 0 and is not restarted.
	Exited State = "exited"
	// Failed: ended for good without success (or could not start, or never will because a
	// dependency failed).
	Failed State = "failed"
	// Stopped: stopped by uno, or never started because uno was stopping.
	Stopped State = "stopped"
	// Scheduled: a cron job waiting for its next due time (cron.go).
	Scheduled State = "scheduled"
)

// active reports whether a process of the service may be running.
func (s State) active() bool {
	return s == Starting || s == Running || s == Stopping || s == Killing
}

// stopping reports whether uno is stopping the service's run.
func (s State) stopping() bool { return s == Stopping || s == Killing }

// service is the supervisor's record of one service. Only the supervisor's goroutine touches it.
type service struct {
	cfg   *config.Service
	state State

	// run counts starts, so that events from an earlier run (a late probe result, a stop
	// timer) are recognised and dropped.
	run       int
	pid       int
	startedAt time.Time
	ready     bool
	// notReady is set when the readiness check timed out: the run counts as a failure
	// whatever the process's status once it is stopped.
	notReady bool

	lastExit *reaper.Exit
	// code is the exit status uno reports for this service's last run: the shell's code, or
	// 126/127 when it could not start, or 1 when it never became ready.
	code int

	restarts int
	delay    time.Duration // next restart delay
	failures []time.Time   // within the restart window

	// held is set when an operator stopped the service: it stays stopped, and its dependents
	// wait, until it is started again.
	held bool
	// restartPending starts the service again once its stop completes (uno ctl restart, or a
	// reload that changed it); removed forgets it instead (a reload that removed it).
	restartPending bool
	removed        bool
	// lastEnd is when the last run ended.
	lastEnd time.Time

	// stopOverride, if set, replaces the configured stop signal (the main program gets the
	// signal uno was stopped with). The configuration itself is never changed: a reload
	// compares it.
	stopOverride syscall.Signal

	cancelProbe  context.CancelFunc
	notifier     *probe.Notifier
	restartAt    *time.Timer
	killAt       *time.Timer // the SIGKILL at stop_timeout, then the give-up after it
	stopSignalAt time.Time

	// job is set for a cron job, and for each extra run of one (cron.go).
	job    *cronJob
	health healthState // health.go
	// unhealthyEnd is the failed check's error when the last run was stopped for its health.
	unhealthyEnd string
	// notifyStatus is the service's last STATUS= on its notify socket. runPid (the current
	// run's pid, 0 between runs) and pingedAt (its last WATCHDOG=1, Unix ns) are shared with
	// the socket's goroutine (health.go).
	notifyStatus string
	extra        notifyExtra // MAINPID=, EXTEND_TIMEOUT_USEC= (notifyextra.go)
	runPid       atomic.Int64
	pingedAt     atomic.Int64
	stats        serviceStats // metrics.go
}

func (s *service) name() string { return s.cfg.Name }

// stopSignal is the signal that asks s's run to stop.
func (s *service) stopSignal() syscall.Signal {
	if s.stopOverride != 0 {
		return s.stopOverride
	}
	return s.cfg.StopSignal
}

// satisfies reports whether s has reached cond for its dependents.
func (s *service) satisfies(cond config.Condition) bool {
	switch cond {
	case config.Started:
		return s.state == Starting || s.state == Running || s.state == Completed
	case config.Ready:
		return s.state == Running || s.state == Completed
	case config.Completed:
		return s.state == Completed
	}
	return false
}

// ended reports whether s will never run again unless asked to.
func (s *service) ended() bool {
	switch s.state {
	case Completed, Exited, Failed, Stopped:
		return true
	}
	return false
}

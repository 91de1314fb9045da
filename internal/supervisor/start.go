package supervisor

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/spawn"
)

// This file starts a service's runs and decides what follows each: readiness, completion, a
// restart with backoff, or the end of the service.

// startWaiting starts every waiting service whose dependencies have all reached their
// condition, and fails those whose dependencies never will.
func (sv *Supervisor) startWaiting() {
	if sv.stopping {
		return
	}
	for _, s := range sv.services {
		if s.state != Waiting {
			continue
		}
		ready := true
		for _, d := range s.cfg.DependsOn {
			dep := sv.byName[d.Name]
			if dep == nil || dep.removed {
				// A reload's plan never leaves one dangling; if it ever did, s waits rather
				// than take PID 1 down.
				sv.log.Error("bug: service waits for a service uno does not run", "service", s.name(), "dependency", d.Name)
				ready = false
				break
			}
			if dep.satisfies(d.Condition) {
				continue
			}
			ready = false
			if dep.ended() && !(dep.state == Stopped && !sv.stopping) {
				sv.log.Error("service cannot start: a dependency ended without reaching its condition",
					"service", s.name(), "dependency", dep.name(), "condition", d.Condition, "dependency_state", dep.state)
				s.code = dep.code
				if s.code == 0 {
					s.code = 1
				}
				sv.endForGood(s, EvDependencyFailed, Failed)
				if sv.stopping {
					return
				}
			}
			break
		}
		if ready && s.cfg.Cron != nil {
			sv.scheduleJob(s)
		} else if ready {
			sv.start(s)
			if sv.stopping {
				return
			}
		}
	}
}

// start starts one run of s.
func (sv *Supervisor) start(s *service) {
	s.run++
	s.notReady = false
	s.ready = false
	s.health = healthState{gen: s.health.gen}
	s.notifyStatus = ""
	spec := spawn.Spec{
		Argv:   s.cfg.Command,
		Env:    s.cfg.Env,
		Dir:    s.cfg.Dir,
		Pgroup: true,
		// What a run leaves in its process group goes with it, so that a restart does not meet
		// its predecessor's children (holding a port, say): SIGTERM as the run ends, SIGKILL
		// after stop_timeout (killLeftoversLater).
		OnGroupExit: reaper.GroupExit{Signal: syscall.SIGTERM, Continue: true, Hold: true},
	}
	if s.cfg.User != nil {
		spec.Credential = s.cfg.User.Credential()
	}
	if s.cfg.Dir != "" {
		// Checked here, not at load: a oneshot may create it. A failed chdir in the child
		// would otherwise be reported as the program not being found.
		if _, err := os.Stat(s.cfg.Dir); err != nil {
			sv.log.Error("service could not start: bad working_dir", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, EvStartFailed, false)
			return
		}
	}
	spec.Privileges = s.cfg.Privileges
	if len(s.cfg.Secrets) > 0 {
		// Read at each start, so that a rotated secret reaches the next run.
		extra, err := readSecrets(s.cfg.Secrets)
		if err != nil {
			sv.log.Error("service could not start", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, EvStartFailed, false)
			return
		}
		spec.Env = append(slices.Clip(spec.Env), extra...)
	}
	// The notify socket before the output pipes: a failure here then has nothing to close.
	if s.cfg.UsesNotify() {
		if err := sv.listenNotify(s); err != nil {
			sv.log.Error("cannot create the notify socket", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, EvStartFailed, false)
			return
		}
		spec.Env = append(slices.Clip(spec.Env), "NOTIFY_SOCKET="+s.notifier.Path)
		if h := s.cfg.Health; h != nil && h.Kind == config.HealthWatchdog {
			// No WATCHDOG_PID: the pid is not known before the fork, and sd_watchdog_enabled
			// takes a missing one as meant for the process that reads it.
			spec.Env = append(spec.Env, "WATCHDOG_USEC="+strconv.FormatInt(h.Interval.Microseconds(), 10))
		}
	}
	var closeAfterStart []*os.File
	var output *logmux.Run
	if s.cfg.Main {
		spec.Foreground = sv.terminal
		spec.Inherited = sv.inherited
	} else {
		files, run, err := sv.outputs(s)
		output = run
		if err != nil {
			sv.log.Error("cannot set up the service's output", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, EvStartFailed, false)
			return
		}
		spec.Stdio = [3]*os.File{files[0], files[1], files[2]}
		closeAfterStart = files
	}
	pid, exited, err := spawn.Start(sv.reaper, spec)
	for _, f := range closeAfterStart {
		f.Close()
	}
	if output != nil {
		// Its JSON lines carry the pid (0 if the start failed: they have none).
		output.Started(pid)
	}
	if err != nil {
		s.code = 1
		var ee *spawn.ExecError
		if errors.As(err, &ee) {
			s.code = ee.Code
		}
		attrs := []any{"service", s.name(), "err", err, "status", s.code}
		if u := s.cfg.User; u != nil {
			// Permission errors depend on who tried: say it.
			attrs = append(attrs, "user", u.Name, "uid", u.Uid)
		}
		sv.log.Error("service could not start", attrs...)
		s.lastEnd = time.Now()
		s.lastExit = nil
		sv.afterRun(s, EvStartFailed, false)
		return
	}
	s.pid, s.startedAt = pid, time.Now()
	s.pingedAt.Store(0)
	s.runPid.Store(int64(pid))
	sv.transition(s, EvStarted, Starting)
	sv.log.Info("service started", "service", s.name(), "pid", pid)
	run := s.run
	go func() { sv.events <- exitEvent{svc: s, run: run, exit: <-exited} }()

	switch {
	case s.cfg.Ready == nil:
		sv.becomeReady(s)
	case s.cfg.Ready.Kind == config.ReadyNotify:
		timer := time.AfterFunc(s.cfg.Ready.Timeout, func() {
			sv.events <- notReadyEvent{svc: s, run: run, err: errors.New("no READY=1 on the notify socket")}
		})
		s.cancelProbe = func() { timer.Stop() }
	default:
		sv.probe(s)
	}
}

// outputs returns the service's stdin (/dev/null) and the write ends of its output pipes.
func (sv *Supervisor) outputs(s *service) ([]*os.File, *logmux.Run, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	out := s.cfg.Output
	if out.Format == "" {
		// A Service built without the loader (tests, the Procfile of old) says only LogPrefix.
		out.Format = config.FormatPrefix
		if !s.cfg.LogPrefix {
			out.Format = config.FormatRaw
		}
	}
	run, err := sv.mux.Start(s.name(), out)
	if err != nil {
		devnull.Close()
		return nil, nil, err
	}
	return []*os.File{devnull, run.Stdout, run.Stderr}, run, nil
}

func (sv *Supervisor) becomeReady(s *service) {
	s.ready = true
	sv.transition(s, EvReady, Running)
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	if s.cfg.Ready != nil {
		sv.log.Info("service ready", "service", s.name(), "after", time.Since(s.startedAt).Round(time.Millisecond))
	}
	if s.cfg.Health != nil {
		sv.startHealth(s)
	}
	sv.startWaiting()
}

// exited handles the end of s's current run.
func (sv *Supervisor) exited(s *service, e reaper.Exit) {
	s.endSelfStop() // notifystop.go
	sv.stopHealth(s)
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	if s.killAt != nil {
		s.killAt.Stop()
		s.killAt = nil
	}
	if e.Leftovers != nil {
		sv.killLeftoversLater(s, e.Leftovers)
		e.Leftovers = nil
	}
	s.lastExit = &e
	s.lastEnd = time.Now()
	s.code = e.Code()
	if s.notReady || s.health.failed {
		s.code = 1
	}
	s.unhealthyEnd = ""
	if s.health.failed {
		s.unhealthyEnd = s.health.lastError
	}
	s.stats.exited(exitReason(s))
	attrs := []any{"service", s.name(), "pid", s.pid, "status", e.String()}
	if uptime := time.Since(s.startedAt); uptime > 0 {
		attrs = append(attrs, "uptime", uptime.Round(time.Millisecond))
	}
	s.pid = 0
	s.runPid.Store(0)
	if s.state.stopping() {
		sv.log.Info("service stopped", attrs...)
		if sv.jobStopped(s, EvExited) {
			return
		}
		if sv.failedOnItsOwn(s) {
			sv.afterRun(s, EvExited, false)
			return
		}
		sv.transition(s, EvExited, Stopped)
		sv.afterStop(s)
		return
	}
	sv.log.Info("service exited", attrs...)
	sv.afterRun(s, EvExited, s.code == 0)
}

// failedOnItsOwn reports whether the run of s that uno stopped or killed was ended for a failure
// of its own: it never became ready, its health failed (health.go), or it hung in a stop it
// announced (notifystop.go). Such a run goes to the restart policy (on_failure for health),
// and an essential service's to the container's end; not when uno stops, nor when an operator
// or a reload took the run over meanwhile (held, restartPending, removed).
func (sv *Supervisor) failedOnItsOwn(s *service) bool {
	return (s.notReady || s.health.failed || s.selfStopKilled()) &&
		!sv.stopping && !s.removed && !s.restartPending && !s.held
}

// afterStop carries on once a run uno stopped has ended (or was given up on).
func (sv *Supervisor) afterStop(s *service) {
	delete(sv.stopSet, s)
	switch {
	case sv.stopping:
		sv.stopNext()
	case s.removed:
		sv.forget(s)
		sv.stopNext() // a reload's other stops may have waited for this one
	case s.restartPending:
		// uno ctl restart, or a reload that changed the definition or a dependency's.
		sv.rearmPending()
		sv.stopNext()
		sv.startWaiting()
	default:
		sv.stopNext() // an operator's stop may have more services to go
	}
}

// afterRun decides what follows a run that ended (or could not start): completion, a restart,
// or the end of the service, which for an essential one is the end of the container.
func (sv *Supervisor) afterRun(s *service, ev Event, success bool) {
	if ev == EvStartFailed {
		s.stats.exited(exitStartFailed)
		s.unhealthyEnd = ""
	}
	if sv.stopping {
		sv.transition(s, ev, Stopped)
		sv.stopNext()
		return
	}
	if s.cfg.Cron != nil && s.job != nil {
		sv.jobRunEnded(s, ev, success)
		return
	}
	if s.cfg.Type == config.Oneshot && success {
		sv.transition(s, ev, Completed)
		sv.log.Info("service completed", "service", s.name())
		sv.startWaiting()
		return
	}
	restart := false
	switch s.cfg.Restart {
	case config.RestartAlways:
		restart = true
	case config.RestartOnFailure:
		restart = !success
	}
	if s.health.failed {
		// on_failure, not the restart policy, says whether an unhealthy run restarts.
		restart = s.cfg.Health.OnFailure == config.OnFailureRestart
	}
	if s.cfg.Main {
		restart = false
	}
	if restart && sv.withinRestartLimit(s) {
		sv.scheduleRestart(s, ev)
		return
	}
	if restart {
		sv.log.Error("service is restarting too often; giving up", "service", s.name(),
			"restarts", len(s.failures), "window", s.cfg.RestartWindow)
		success = false
		if s.code == 0 {
			s.code = 1 // a service that keeps exiting 0 under "always" has failed all the same
		}
	}
	if success {
		sv.endForGood(s, ev, Exited)
	} else {
		sv.endForGood(s, ev, Failed)
	}
}

// withinRestartLimit records one more restart of s and reports whether it is allowed.
func (sv *Supervisor) withinRestartLimit(s *service) bool {
	now := time.Now()
	if !s.startedAt.IsZero() && s.lastExit != nil && now.Sub(s.startedAt) >= s.cfg.RestartResetAfter {
		// It ran long enough: start again from the first delay and a clean record.
		s.failures = nil
		s.delay = s.cfg.RestartDelay
	}
	window := now.Add(-s.cfg.RestartWindow)
	s.failures = slices.DeleteFunc(s.failures, func(t time.Time) bool { return t.Before(window) })
	if s.cfg.RestartLimit > 0 && len(s.failures) >= s.cfg.RestartLimit {
		return false
	}
	s.failures = append(s.failures, now)
	return true
}

func (sv *Supervisor) scheduleRestart(s *service, ev Event) {
	delay := s.delay
	s.delay = min(s.delay*2, s.cfg.RestartDelayMax)
	s.restarts++
	sv.transition(s, ev, Backoff)
	s.startedAt = time.Time{}
	sv.log.Info("restarting service", "service", s.name(), "in", delay, "restarts", s.restarts)
	run := s.run
	s.restartAt = time.AfterFunc(delay, func() { sv.events <- restartEvent{svc: s, run: run} })
}

// endForGood puts s in its final state; an essential service takes the container with it.
func (sv *Supervisor) endForGood(s *service, ev Event, final State) {
	sv.transition(s, ev, final)
	switch {
	case s.cfg.Main:
		sv.log.Info("main program ended; stopping the services", "status", s.code)
		sv.shutdown(s.code, "main program ended")
	case s.cfg.Essential:
		sv.log.Error("essential service ended; stopping the container", "service", s.name(), "status", s.code, "state", final)
		sv.shutdown(s.code, "essential service "+s.name()+" ended")
	default:
		if final == Failed {
			sv.log.Warn("non-essential service failed; the others go on", "service", s.name(), "status", s.code)
		}
		// Dependents waiting for it fail in turn.
		sv.startWaiting()
	}
}

package supervisor

import (
	"time"
)

// This file gives a run that says STOPPING=1 on its notify socket, when uno did not ask it to
// stop, its stop_timeout to end, as systemd does (the service enters its stop and the stop
// timeout runs). A run that says it is stopping has its watchdog held (health.go), so without
// this a service that announced its stop and then hung would hang for ever, not ready, never
// restarted. Past the timeout uno kills its process group and the run counts as failed: the
// restart policy decides what follows. EXTEND_TIMEOUT_USEC= pushes the deadline.

// selfStopEvent is the stop_timeout of a run that said STOPPING=1.
type selfStopEvent struct {
	svc *service
	run int
}

// selfStopping acts on STOPPING=1 from s's current run: the first one arms the deadline.
func (sv *Supervisor) selfStopping(s *service) {
	if (s.state != Running && s.state != Starting) || s.cfg.Cron != nil {
		return // uno is stopping it already, with its own deadline; a job has its timeout
	}
	if s.extra.run != s.run {
		s.extra = notifyExtra{run: s.run}
	}
	if s.extra.selfStop != nil {
		return
	}
	timeout := s.cfg.StopTimeout
	sv.log.Info("service said it is stopping; it has stop_timeout to end", "service", s.name(), "pid", s.pid, "timeout", timeout)
	s.extra.selfStopBy = time.Now().Add(timeout)
	run := s.run
	s.extra.selfStop = time.AfterFunc(timeout, func() { sv.events <- selfStopEvent{svc: s, run: run} })
}

// selfStopTimedOut kills a run that said STOPPING=1 and is still there at its deadline.
func (sv *Supervisor) selfStopTimedOut(ev selfStopEvent) {
	s := ev.svc
	if ev.run != s.run || s.pid == 0 || (s.state != Running && s.state != Starting) || s.extra.run != s.run {
		return // ended, or uno stopped it meanwhile
	}
	if by := s.extra.selfStopBy; time.Now().Before(by) {
		// EXTEND_TIMEOUT_USEC= moved the deadline after this timer was set.
		run := s.run
		s.extra.selfStop = time.AfterFunc(time.Until(by), func() { sv.events <- selfStopEvent{svc: s, run: run} })
		return
	}
	s.extra.selfStopFailed = true
	sv.stopHealth(s)
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	sv.kill(s, "service said STOPPING=1 and did not end within stop_timeout; killing it", "stop_timeout", s.cfg.StopTimeout)
}

// extendSelfStop acts on EXTEND_TIMEOUT_USEC= during a stop the run announced: the deadline is
// pushed to by, never brought closer. It reports whether there was such a stop.
func (sv *Supervisor) extendSelfStop(s *service, by time.Time) bool {
	if s.extra.run != s.run || s.extra.selfStop == nil || (s.state != Running && s.state != Starting) {
		return false
	}
	if by.After(s.extra.selfStopBy) {
		if !s.extra.selfStopExtended { // said once: a service may extend again and again
			s.extra.selfStopExtended = true
			sv.log.Info("service extended its stop timeout", "service", s.name(), "by", time.Until(by).Round(time.Millisecond))
		}
		s.extra.selfStopBy = by
	}
	return true
}

// endSelfStop ends the deadline's timer of a stop the run that just ended announced.
func (s *service) endSelfStop() {
	if s.extra.run == s.run && s.extra.selfStop != nil {
		s.extra.selfStop.Stop()
	}
}

// selfStopKilled reports whether s's current run was killed at the deadline of a stop it
// announced.
func (s *service) selfStopKilled() bool {
	return s.extra.run == s.run && s.extra.selfStopFailed
}

// selfStopAnnounced reports whether s's current run said STOPPING=1 on its own: its health
// checks are not judged from then on (a service that stops serving as it stops is not
// unhealthy, and on_failure must not turn its own end into a restart); its deadline is.
func (s *service) selfStopAnnounced() bool {
	return s.extra.run == s.run && s.extra.selfStop != nil
}

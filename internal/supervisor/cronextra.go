package supervisor

// A cron job's extra runs (concurrency = "allow"): runs beside the job's own, each a service
// record of its own so that stops, the shutdown and the reaper treat it as any run, bounded by
// maxRunsAtOnce.

import (
	"errors"
	"slices"
	"strconv"
)

// tooManyRuns skips a due run of an allow job that has maxRunsAtOnce runs going.
func (sv *Supervisor) tooManyRuns(s *service) error {
	s.job.skips++
	sv.log.Warn("cron run skipped: too many runs going (concurrency = allow)", "service", s.name(), "most", maxRunsAtOnce, "skips", s.job.skips)
	return errors.New(strconv.Itoa(maxRunsAtOnce) + " runs of " + s.name() + " are going, the most uno starts at once: skipped")
}

// maxRunsAtOnce bounds a concurrency = "allow" job's runs going at once: runs that hang, due
// every second, would otherwise fill the container's pids.
const maxRunsAtOnce = 64

// startExtraRun starts a run beside the one going (concurrency = "allow"): a service record of
// its own, in sv.services so that stops, the shutdown and the reaper treat it as any run, but
// not in byName, the status or the reload's view.
func (sv *Supervisor) startExtraRun(s *service, reason string) (string, error) {
	extra := &service{cfg: s.cfg, state: Scheduled, job: &cronJob{parent: s}}
	sv.services = append(sv.services, extra)
	s.job.extra++
	sv.startRun(extra, reason)
	if !extra.state.active() {
		return "", errors.New(s.name() + " could not start: " + extra.lastDescription())
	}
	return "started an extra run of " + s.name() + " (pid " + strconv.Itoa(extra.pid) + ") beside pid " + strconv.Itoa(s.pid), nil
}

// endExtraRun ends an extra run that ended by itself.
func (sv *Supervisor) endExtraRun(s *service, ev Event, success bool) {
	if success {
		sv.transition(s, ev, Exited)
	} else {
		sv.transition(s, ev, Failed)
	}
	sv.dropExtraRun(s)
	if !success {
		sv.checkFailedTooOften(s.job.parent, s.code)
	}
}

func (sv *Supervisor) dropExtraRun(s *service) {
	sv.services = slices.DeleteFunc(sv.services, func(x *service) bool { return x == s })
	delete(sv.stopSet, s)
	s.job.parent.job.extra--
}

// stopExtraRuns has an operator's stop of jobs stop their extra runs too.
func (sv *Supervisor) stopExtraRuns(jobs []*service) {
	for _, s := range sv.services {
		if s.job != nil && s.job.parent != nil && slices.Contains(jobs, s.job.parent) {
			sv.stopSet[s] = true
		}
	}
}

package supervisor

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/proc"
	"github.com/uno-init/uno/internal/signals"
	"golang.org/x/sys/unix"
)

// This file acts on two notify messages of systemd's protocol: EXTEND_TIMEOUT_USEC=, which
// pushes the deadline the service is racing (readiness, stop, watchdog), and MAINPID=, which
// names the run's main process when it is not the one uno started. The run still ends when the
// process uno started ends: MAINPID= names whom the stop signal of kill_mode = "mixed" goes to,
// and what uno ctl status shows.

// notifyExtra is what these messages said, for run (an earlier run's is void).
type notifyExtra struct {
	run     int
	mainPid int
	refused string // the last MAINPID= refused, said once
	// killBy is the SIGKILL deadline of the current stop; watchdogBy the time before which the
	// watchdog's ticks are not judged.
	readyBy, killBy, watchdogBy time.Time
	// selfStop is the stop_timeout of a stop the run announced (STOPPING=1, notifystop.go),
	// due at selfStopBy; selfStopFailed says the run was killed at it.
	selfStop                         *time.Timer
	selfStopBy                       time.Time
	selfStopExtended, selfStopFailed bool
}

var errNoReady = errors.New("no READY=1 on the notify socket")

// mainPid is the MAINPID= of s's current run, 0 if none.
func (s *service) mainPid() int {
	if s.extra.run != s.run || s.pid == 0 {
		return 0
	}
	return s.extra.mainPid
}

// extendTimeout acts on EXTEND_TIMEOUT_USEC=: the deadline s is racing is now at least usec
// from now. systemd's rule: it only ever pushes a deadline, never brings it closer.
func (sv *Supervisor) extendTimeout(s *service, usec string) {
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n > uint64(1<<63-1)/1000 {
		sv.warnOnce(s, "EXTEND_TIMEOUT_USEC= is not a number of microseconds; ignored (said once per run)")
		return
	}
	if s.extra.run != s.run {
		s.extra = notifyExtra{run: s.run}
	}
	d := time.Duration(n) * time.Microsecond
	by := time.Now().Add(d)
	if sv.extendSelfStop(s, by) {
		return
	}
	run := s.run
	switch {
	case s.state == Starting && s.cfg.Ready != nil && s.cfg.Ready.Kind == config.ReadyNotify && s.cancelProbe != nil:
		// The readiness timer is replaced by one that ends no earlier than the old one would.
		if !by.After(s.startedAt.Add(s.cfg.Ready.Timeout)) || !by.After(s.extra.readyBy) {
			return
		}
		first := s.extra.readyBy.IsZero()
		s.extra.readyBy = by
		s.cancelProbe()
		timer := time.AfterFunc(d, func() {
			sv.events <- notReadyEvent{svc: s, run: run, err: errNoReady}
		})
		s.cancelProbe = func() { timer.Stop() }
		if first { // said once: a service may extend again and again
			sv.log.Info("service extended its readiness timeout", "service", s.name(), "by", d)
		}
	case s.state == Stopping && s.killAt != nil:
		if sv.stopping && by.After(sv.graceDeadline) {
			by = sv.graceDeadline // the grace bounds every stop: past it, uno kills everything
		}
		if !by.After(s.extra.killBy) || !by.After(s.stopSignalAt.Add(s.cfg.StopTimeout)) {
			return
		}
		first := s.extra.killBy.IsZero()
		s.extra.killBy = by
		s.killAt.Stop()
		s.killAt = time.AfterFunc(time.Until(by), func() { sv.events <- killEvent{svc: s, run: run} })
		if first {
			sv.log.Info("service extended its stop timeout", "service", s.name(), "by", time.Until(by).Round(time.Millisecond))
		}
	case s.state == Running && s.cfg.Health != nil && s.cfg.Health.Kind == config.HealthWatchdog:
		// Only past the next deadline does it change anything.
		next := time.Unix(0, max(s.health.lastTick, s.health.readyAt.UnixNano())).Add(s.cfg.Health.Interval)
		if !by.After(next) || !by.After(s.extra.watchdogBy) {
			return
		}
		if time.Now().After(s.extra.watchdogBy) { // said when an extension begins
			sv.log.Info("service extended its watchdog deadline", "service", s.name(), "by", d)
		}
		s.extra.watchdogBy = by
	}
}

// watchdogExtended reports whether a watchdog tick falls within the time EXTEND_TIMEOUT_USEC=
// gave: it is not judged.
func (s *service) watchdogExtended() bool {
	return s.extra.run == s.run && time.Now().Before(s.extra.watchdogBy)
}

// setMainPid acts on MAINPID=: taken only when pid is the run's process or one of its
// descendants, so that a service cannot point uno's signals at a process not its own.
func (sv *Supervisor) setMainPid(s *service, value string) {
	if s.extra.run != s.run {
		s.extra = notifyExtra{run: s.run}
	}
	pid, err := strconv.Atoi(value)
	if err != nil || pid <= 0 || !s.owns(pid) {
		// Said again only for another value: a flood of one refused message is one line.
		if value != s.extra.refused {
			s.extra.refused = value
			sv.log.Warn("MAINPID= is not a process of the service's run; ignored", "service", s.name(), "mainpid", value, "pid", s.pid)
		}
		return
	}
	if s.extra.mainPid != pid {
		sv.log.Info("service's main process", "service", s.name(), "pid", s.pid, "mainpid", pid)
	}
	s.extra.mainPid = pid
}

// owns reports whether pid is s's run's process, a member of its process group (asked of the
// kernel), or a descendant of it (by /proc, when it is uno's namespace's).
func (s *service) owns(pid int) bool {
	if s.pid <= 0 || pid == os.Getpid() || pid == 1 {
		return false
	}
	if pgid, err := unix.Getpgid(pid); pid == s.pid || err == nil && pgid == s.pid {
		return true
	}
	if !proc.Own() {
		return false
	}
	st, ok := proc.Read(pid)
	return ok && slices.Contains(proc.Ancestors(st, os.Getpid()), s.pid)
}

// signalMain sends sig to the run's MAINPID= process through a pidfd, checked again once
// held, so that a reused pid is never signalled; false if there is none, or it has exited
// (a zombie's pidfd is readable) or is no longer the run's: the caller signals the process it
// started instead.
func (sv *Supervisor) signalMain(s *service, sig syscall.Signal) bool {
	pid := s.mainPid()
	if pid == 0 || pid == s.pid {
		return false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	exited := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(exited, 0); err != nil || n > 0 || !s.owns(pid) {
		return false
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		sv.log.Warn("cannot signal service's main process", "service", s.name(), "mainpid", pid, "signal", signals.Name(sig), "err", err)
		return false
	}
	return true
}

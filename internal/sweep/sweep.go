// Package sweep stops what is left of uno's process tree once the program it ran is gone:
// daemons it double-forked, leftovers of a shell script. Everything is asked to stop (SIGTERM),
// given a grace period to finish, then killed, and reaped.
//
// As PID 1 "everything" is every process in the PID namespace; as a subreaper it is uno's own
// descendants, found through /proc and signalled through /proc, by /proc's numbers: those may not
// be uno's namespace's (a /proc left from the parent namespace), and a number that means a
// descendant in /proc can mean a stranger to kill(2). Sweep never waits: the reaper does, and
// reports when no child is left.
package sweep

import (
	"errors"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/proc"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/ulog"
)

// killWait is the default Sweeper.KillWait.
const killWait = 5 * time.Second

// Sweeper stops leftovers.
type Sweeper struct {
	Reaper *reaper.Reaper
	// PID1 selects kill(-1, sig), which reaches every process in the namespace but uno.
	PID1 bool
	Log  *ulog.Logger
	// KillWait bounds the wait for SIGKILLed processes to be reaped (default killWait): only a
	// process stuck in the kernel takes longer, and uno must not hang the container's stop on it.
	KillWait time.Duration
}

// Result says how a sweep ended.
type Result struct {
	Signalled int  // processes sent SIGTERM (as PID 1: 1 if any, kill(-1) does not count them)
	Killed    bool // SIGKILL was needed
	Remaining bool // children still unreaped when Sweep gave up
}

// Sweep terminates every remaining process: SIGTERM, then up to grace for them to exit, then
// SIGKILL. A value on hurry cuts the grace short. With nothing left it returns at once.
func (s *Sweeper) Sweep(grace time.Duration, hurry <-chan struct{}) Result {
	var res Result
	// Children that have just exited (a stopped service's last processes) may not be reaped
	// yet: reap them now rather than take them for leftovers.
	s.Reaper.Reap()
	empty := s.Reaper.Empty()
	select {
	case <-empty:
		return res
	default:
	}
	self := 0
	if !s.PID1 {
		var ok bool
		if self, ok = proc.Self(); !ok {
			// Nothing found in /proc can be told from a stranger: signal nothing.
			s.Log.Warn("leftover processes not stopped: /proc does not show uno (not mounted, or another PID namespace's)")
			res.Remaining = true
			return res
		}
		if self != os.Getpid() {
			s.Log.Debug("/proc is a parent PID namespace's: leftovers are found and signalled by its numbers", "pid", self)
		}
	}
	if grace > 0 {
		res.Signalled = s.signalAll(self, syscall.SIGTERM)
		// A stopped process would not act on SIGTERM until continued.
		s.signalAll(self, syscall.SIGCONT)
		s.Log.Info("stopping leftover processes", "signal", "SIGTERM", "grace", grace.Round(time.Millisecond).String())
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-empty:
			s.Log.Debug("leftover processes exited within grace")
			return res
		case <-timer.C:
			s.Log.Warn("leftover processes still running after grace", "grace", grace.String(), "signal", "SIGKILL")
		case <-hurry:
			s.Log.Info("asked to hurry: stopping leftover processes now", "signal", "SIGKILL")
		}
	}
	res.Killed = true
	s.signalAll(self, syscall.SIGKILL)
	wait := killWait
	if s.KillWait > 0 {
		wait = s.KillWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-empty:
	case <-timer.C:
		res.Remaining = true
		s.Log.Error("processes survived SIGKILL (stuck in the kernel?); exiting anyway", "waited", wait.String())
	}
	return res
}

// signalAll sends sig to every leftover process and returns how many it reached. self is uno's
// pid as /proc numbers it (subreaper only).
func (s *Sweeper) signalAll(self int, sig syscall.Signal) int {
	if s.PID1 {
		// kill(-1) from init reaches every process of the namespace except init itself.
		if err := unix.Kill(-1, sig); err != nil {
			return 0
		}
		return 1
	}
	n := 0
	for _, pid := range Descendants(self) {
		if signalIfDescendant(self, pid, sig) {
			n++
		}
	}
	return n
}

// signalIfDescendant signals pid, a /proc number, through its /proc directory, after checking
// with that held that it is still below self (proc.Hold): between reading /proc and the signal, a
// process can exit and its number go to a stranger. kill(2) and pidfd_open(2) would read the
// number in uno's own namespace, where it may be somebody else's.
func signalIfDescendant(self, pid int, sig syscall.Signal) bool {
	fd, ok := proc.Hold(pid, func(st proc.Stat) bool { return slices.Contains(proc.Ancestors(st, self), self) })
	if !ok {
		return false
	}
	defer unix.Close(fd)
	err := unix.PidfdSendSignal(fd, sig, nil, 0)
	if errors.Is(err, unix.ENOSYS) && self == os.Getpid() {
		return unix.Kill(pid, sig) == nil // kernels before 5.1, where the numbers agree
	}
	return err == nil
}

// Descendants lists the pids of every process below root, read from /proc.
func Descendants(root int) []int {
	children := make(map[int][]int)
	for _, st := range proc.All() {
		children[st.PPid] = append(children[st.PPid], st.Pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// SweepUnlessHurried runs Sweep while reading sigs: the first of hurryOn to arrive (a second
// docker stop, say) cuts the grace short; other signals have nobody left to go to.
func (s *Sweeper) SweepUnlessHurried(grace time.Duration, sigs <-chan os.Signal, hurryOn []syscall.Signal) Result {
	hurry := make(chan struct{})
	done := make(chan Result, 1)
	go func() { done <- s.Sweep(grace, hurry) }()
	for {
		select {
		case res := <-done:
			return res
		case sig := <-sigs:
			if slices.Contains(hurryOn, sig.(syscall.Signal)) && hurry != nil {
				close(hurry)
				hurry = nil
			} else {
				s.Log.Debug("ignored signal during the sweep", "signal", sig)
			}
		}
	}
}

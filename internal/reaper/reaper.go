// Package reaper owns every wait in uno. It reaps each child the kernel hands to the process, the
// programs uno started and the orphans re-parented to it alike, and gives each exit status to
// whoever registered for that pid.
//
// Nothing else in uno may call wait4 or waitid, and nothing may use os/exec's Wait: a second
// waiter steals statuses from the wait4(-1) loop here, and the loop steals from it. Processes are
// started through Start, which registers the pid before the reaper can see it exit.
//
// Since only the reaper knows whether a pid is still its child's, it is also the only way to
// signal a child uno started (Signal), and what is done to a group leader's process group when
// the leader exits (GroupExit) is done here, before the reap.
package reaper

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/proc"
	"github.com/uno-init/uno/internal/signals"
)

// Exit is how one child ended.
type Exit struct {
	Pid    int
	Status unix.WaitStatus
	// Leftovers is what a group leader started with GroupExit.Hold left in its group (nil: none).
	Leftovers *Leftovers
}

// Code is the exit status a shell would report: the exit code, or 128+n when signal n killed it.
func (e Exit) Code() int {
	if e.Status.Signaled() {
		return 128 + int(e.Status.Signal())
	}
	return e.Status.ExitStatus()
}

// String says how the child ended, for logs: "exit 3" or "killed by SIGTERM".
func (e Exit) String() string {
	if e.Status.Signaled() {
		return "killed by " + signals.Name(e.Status.Signal())
	}
	return "exit " + strconv.Itoa(e.Status.ExitStatus())
}

// TakeOrphans makes orphans come to this process: as PID 1 they do anyway, otherwise it
// registers as child subreaper. It reports whether the process is PID 1.
func TakeOrphans() (pid1 bool, err error) {
	if os.Getpid() == 1 {
		return true, nil
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return false, fmt.Errorf("not PID 1 and cannot become child subreaper; orphans will not be reaped: %w", err)
	}
	return false, nil
}

// Reaper reaps children. Create it with New before the first child starts.
//
// A registered child's pid is only ever signalled through Signal, under the same lock as its
// reaping, so that uno never signals a pid (or a process group id) that has been freed and
// may already belong to a stranger: pids are reused, quickly when something forks hard.
type Reaper struct {
	sigchld chan os.Signal

	// mu is held across every reaping wait, every Start (fork included) and every Signal.
	mu      sync.Mutex
	waiters map[int]*waiter
	// groupLeaders counts waiters with a GroupExit signal: while there are any, each exited
	// child is looked at (waitid WNOWAIT) before it is reaped.
	groupLeaders int
	// noPeek: the kernel refused waitid with __WALL (before Linux 4.7); group signals then go
	// out just after the reap, as they would from a reaper that could not peek.
	noPeek  bool
	empty   bool
	emptyCh chan struct{} // closed when empty becomes true; replaced when a child starts
	orphans uint64

	onOrphan func(Exit)
}

// waiter is a child started through Start, not reaped yet.
type waiter struct {
	exited      chan Exit
	onGroupExit GroupExit
}

// GroupExit says what becomes of the rest of a group leader's process group when the leader
// exits. It is done while the leader is a zombie, when the group's id cannot be anyone else's.
type GroupExit struct {
	// Signal goes to the processes left in the group; 0: none.
	Signal syscall.Signal
	// Continue sends SIGCONT after Signal: a stopped process acts on nothing until continued.
	Continue bool
	// Hold keeps those processes, through pidfds, in the leader's Exit.Leftovers, so that they
	// can be dealt with later without the risk of reaching whoever gets their pids next.
	Hold bool
}

// maxHeld bounds the leftovers held for one group; the final sweep deals with any more.
const maxHeld = 1024

// Leftovers are processes a group leader left in its group, held through pidfds (their /proc
// directories, which pidfd_send_signal takes as such).
type Leftovers struct{ fds []int }

// Kill sends sig to those of them still running, lets them go, and returns how many it reached.
func (l *Leftovers) Kill(sig syscall.Signal) int {
	n := 0
	for _, fd := range l.fds {
		if unix.PidfdSendSignal(fd, sig, nil, 0) == nil {
			n++
		}
	}
	l.Release()
	return n
}

// Release lets them go without a signal.
func (l *Leftovers) Release() {
	for _, fd := range l.fds {
		unix.Close(fd)
	}
	l.fds = nil
}

// act does g to the group that leader led, while leader is a zombie.
func (g GroupExit) act(leader int) *Leftovers {
	_ = unix.Kill(-leader, g.Signal)
	if g.Continue {
		_ = unix.Kill(-leader, syscall.SIGCONT)
	}
	if !g.Hold {
		return nil
	}
	return holdMembers(leader, groupMembers(leader))
}

// holdMembers holds those of pids, members of process group pgid when /proc was listed, that
// still are, and are alive, once held: a member may have exited since the listing and its
// number gone to a stranger, whom the SIGKILL at stop_timeout would then reach.
func holdMembers(pgid int, pids []int) *Leftovers {
	var held Leftovers
	member := func(st proc.Stat) bool { return st.Pgrp == pgid && st.State != 'Z' }
	for _, pid := range pids {
		if len(held.fds) == maxHeld {
			break
		}
		if fd, ok := proc.Hold(pid, member); ok {
			held.fds = append(held.fds, fd)
		}
	}
	if len(held.fds) == 0 {
		return nil
	}
	return &held
}

// groupMembers lists the live processes of process group pgid other than pgid itself. It finds
// nothing when /proc belongs to another PID namespace: those pids would not be uno's to use.
func groupMembers(pgid int) []int {
	if !proc.Own() {
		return nil
	}
	var members []int
	for _, st := range proc.All() {
		if st.Pgrp == pgid && st.Pid != pgid && st.State != 'Z' {
			members = append(members, st.Pid)
		}
	}
	return members
}

// ErrReaped is Signal's answer for a child that is not (or no longer) waiting to be reaped.
var ErrReaped = errors.New("process has already exited")

// New registers for SIGCHLD and starts reaping. onOrphan, if not nil, is called from the reaper's
// goroutine for every reaped process that nobody registered for.
func New(onOrphan func(Exit)) *Reaper {
	r := &Reaper{
		// One slot is enough: SIGCHLDs coalesce anyway, and every wake-up drains all zombies.
		sigchld:  make(chan os.Signal, 1),
		waiters:  make(map[int]*waiter),
		emptyCh:  make(chan struct{}),
		onOrphan: onOrphan,
	}
	signal.Notify(r.sigchld, syscall.SIGCHLD)
	// uno may have inherited children (a shell that ran "cmd & exec uno ..."): reap what already
	// exited and learn whether any exist.
	r.reap()
	go r.loop()
	return r
}

func (r *Reaper) loop() {
	for range r.sigchld {
		r.reap()
	}
}

// Reap drains every exited child now, as a SIGCHLD would.
func (r *Reaper) Reap() { r.reap() }

func (r *Reaper) reap() {
	for {
		w, e, more := r.reapOne()
		if !more {
			return
		}
		if e.Pid == 0 {
			continue // interrupted
		}
		if w != nil {
			w.exited <- e // buffered: never blocks the reaper
		} else if r.onOrphan != nil {
			r.onOrphan(e)
		}
	}
}

// reapOne reaps one exited child, if there is one. A child whose process group must be signalled
// gets that signal first, while it is a zombie: a zombie's pid, and so its group's id, cannot be
// handed to another process yet. It returns the child's waiter (nil for an orphan), its exit
// (Pid 0 after an interrupted wait), and whether to go on.
func (r *Reaper) reapOne() (w *waiter, e Exit, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid := -1
	var leftovers *Leftovers
	if r.groupLeaders > 0 && !r.noPeek {
		exited, err := peekExited()
		switch {
		case errors.Is(err, unix.EINTR):
			return nil, Exit{}, true
		case errors.Is(err, unix.EINVAL):
			r.noPeek = true // __WALL with waitid needs Linux 4.7
		case errors.Is(err, unix.ECHILD):
			r.markEmpty()
			return nil, Exit{}, false
		case err != nil || exited == 0:
			return nil, Exit{}, false // children exist, none has exited yet
		default:
			pid = exited
			if w := r.waiters[pid]; w != nil && w.onGroupExit.Signal != 0 {
				leftovers = w.onGroupExit.act(pid)
			}
		}
	}
	var ws unix.WaitStatus
	// __WALL: also children that announce their exit with a signal other than SIGCHLD.
	got, err := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
	if got != pid && leftovers != nil {
		leftovers.Release() // an interrupted wait: the next look at the child acts again
		leftovers = nil
	}
	switch {
	case errors.Is(err, unix.EINTR):
		return nil, Exit{}, true
	case errors.Is(err, unix.ECHILD):
		r.markEmpty()
		return nil, Exit{}, false
	case err != nil || got <= 0:
		return nil, Exit{}, false // 0: children exist, none has exited yet
	}
	e = Exit{Pid: got, Status: ws, Leftovers: leftovers}
	w, ok := r.waiters[got]
	if !ok {
		r.orphans++
		return nil, e, true
	}
	delete(r.waiters, got)
	if w.onGroupExit.Signal != 0 {
		r.groupLeaders--
		if pid != got {
			// Reaped without a look first (an old kernel): if the group still holds the child's
			// other processes its id is still theirs; if not, the signal may go astray, and
			// holding what it finds could hold a stranger's, so nothing is held.
			_ = unix.Kill(-got, w.onGroupExit.Signal)
		}
	}
	return w, e, true
}

// markEmpty records that no child is left. The caller holds mu, so no Start is under way.
func (r *Reaper) markEmpty() {
	if !r.empty {
		r.empty = true
		close(r.emptyCh)
	}
}

// peekExited returns the pid of a child that has exited, without reaping it (0: none yet).
func peekExited() (int, error) {
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil); err != nil {
		return 0, err
	}
	return siginfoPid(&info), nil
}

// siginfoPid reads si_pid, the first field of the union that follows si_signo, si_errno and
// si_code in siginfo_t; the union is aligned like a pointer. x/sys/unix leaves it unnamed.
func siginfoPid(info *unix.Siginfo) int {
	const ptr = unsafe.Sizeof(uintptr(0))
	const offset = (12 + ptr - 1) &^ (ptr - 1)
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(info), offset)))
}

// Start runs start, which must create exactly one child process and return its pid, and registers
// that pid so its exit is delivered on the returned channel (buffered, one value) rather than
// treated as an orphan. The registration happens before the reaper can observe the exit.
func (r *Reaper) Start(start func() (pid int, err error)) (pid int, exited <-chan Exit, err error) {
	return r.StartGroupLeader(GroupExit{}, start)
}

// StartGroupLeader is Start for a child that leads a process group of its own: when it exits,
// onExit is done to what is left in its group before the child is reaped, so that it cannot
// reach a group that merely reuses the number.
func (r *Reaper) StartGroupLeader(onExit GroupExit, start func() (pid int, err error)) (pid int, exited <-chan Exit, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err = start()
	if err != nil {
		return 0, nil, err
	}
	w := &waiter{exited: make(chan Exit, 1), onGroupExit: onExit}
	r.waiters[pid] = w
	if onExit.Signal != 0 {
		r.groupLeaders++
	}
	if r.empty {
		r.empty = false
		r.emptyCh = make(chan struct{})
	}
	return pid, w.exited, nil
}

// Signal sends sig to pid, a child started through Start, or with group to its process group,
// but only while that child is not reaped: until then neither its pid nor its group's id can
// belong to anyone else. Afterwards it sends nothing and returns ErrReaped.
//
// A leader that has left its process group (setsid, setpgid) gets the signal itself as well: a
// group signal alone would miss it, or fail with ESRCH once the group is empty, and a service
// that did that could never be stopped.
func (r *Reaper) Signal(pid int, group bool, sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.waiters[pid]; !ok || pid <= 0 {
		return ErrReaped
	}
	if !group {
		return unix.Kill(pid, sig)
	}
	err := unix.Kill(-pid, sig)
	if pgid, perr := unix.Getpgid(pid); perr == nil && pgid != pid {
		if lerr := unix.Kill(pid, sig); lerr != nil {
			return errors.Join(err, lerr)
		}
		if errors.Is(err, unix.ESRCH) {
			err = nil // the group is empty, the leader got it
		}
	}
	return err
}

// Empty returns a channel that is closed once uno has no child left at all: every process it
// started and every orphan handed to it has been reaped.
func (r *Reaper) Empty() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.emptyCh
}

// Orphans is how many processes were reaped that nobody had registered for.
func (r *Reaper) Orphans() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.orphans
}

// Watch makes the reaper collect pid as soon as it exits, through a pidfd in the runtime's
// poller, without waiting for its SIGCHLD to make its way through os/signal: that path shares a
// lock with signal registration and can lag by milliseconds while uno registers its signals at
// start. It is an optimisation only: without pidfds (Linux < 5.3) SIGCHLD still does the work.
func (r *Reaper) Watch(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	go func() {
		defer f.Close()
		rc, err := f.SyscallConn()
		if err != nil {
			return
		}
		// A pidfd turns readable when its process exits. The first call only starts the wait.
		waiting := false
		_ = rc.Read(func(uintptr) bool {
			if !waiting {
				waiting = true
				return false
			}
			return true
		})
		r.reap()
	}()
}

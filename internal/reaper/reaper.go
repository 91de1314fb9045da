// Package reaper owns every wait in uno. It reaps each child the kernel hands to the process, the
// programs uno started and the orphans re-parented to it alike, and gives each exit status to
// whoever registered for that pid.
//
// Nothing else in uno may call wait4 or waitid, and nothing may use os/exec's Wait: a second
// waiter steals statuses from the wait4(-1) loop here, and the loop steals from it. Processes are
// started through Start, which registers the pid before the reaper can see it exit.
package reaper

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/signals"
)

// Exit is how one child ended.
type Exit struct {
	Pid    int
	Status unix.WaitStatus
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
type Reaper struct {
	sigchld chan os.Signal

	mu      sync.Mutex
	waiters map[int]chan Exit
	// spawns counts Start calls; a wait4 that saw "no children" only means "empty" if no child was
	// started while it ran.
	spawns  uint64
	empty   bool
	emptyCh chan struct{} // closed when empty becomes true; replaced when a child starts
	orphans uint64

	onOrphan func(Exit)
}

// New registers for SIGCHLD and starts reaping. onOrphan, if not nil, is called from the reaper's
// goroutine for every reaped process that nobody registered for.
func New(onOrphan func(Exit)) *Reaper {
	r := &Reaper{
		// One slot is enough: SIGCHLDs coalesce anyway, and every wake-up drains all zombies.
		sigchld:  make(chan os.Signal, 1),
		waiters:  make(map[int]chan Exit),
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
		r.mu.Lock()
		spawns := r.spawns
		r.mu.Unlock()

		var ws unix.WaitStatus
		// __WALL: also children that announce their exit with a signal other than SIGCHLD.
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			r.mu.Lock()
			if r.spawns == spawns && !r.empty {
				r.empty = true
				close(r.emptyCh)
			}
			r.mu.Unlock()
			return
		case err != nil || pid <= 0:
			// 0: children exist, none has exited yet.
			return
		}
		r.deliver(Exit{Pid: pid, Status: ws})
	}
}

func (r *Reaper) deliver(e Exit) {
	r.mu.Lock()
	ch, ok := r.waiters[e.Pid]
	if ok {
		delete(r.waiters, e.Pid)
	} else {
		r.orphans++
	}
	r.mu.Unlock()
	if ok {
		ch <- e // buffered: never blocks the reaper
		return
	}
	if r.onOrphan != nil {
		r.onOrphan(e)
	}
}

// Start runs start, which must create exactly one child process and return its pid, and registers
// that pid so its exit is delivered on the returned channel (buffered, one value) rather than
// treated as an orphan. The registration happens before the reaper can observe the exit.
func (r *Reaper) Start(start func() (pid int, err error)) (pid int, exited <-chan Exit, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spawns++
	pid, err = start()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan Exit, 1)
	r.waiters[pid] = ch
	if r.empty {
		r.empty = false
		r.emptyCh = make(chan struct{})
	}
	return pid, ch, nil
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

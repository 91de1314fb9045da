package signals

import (
	"os"
	"os/signal"
	"syscall"
)

// Registering a signal with os/signal is a round trip to the runtime's signal thread (a goroutine
// locked to a thread of its own, which unblocks the signal there): two thread switches each,
// about 5 µs on an idle 2-CPU VM and up to milliseconds under load, one signal after the other.
// For the ~60 signals uno catches that is most of what uno adds to a Go program's start-up. Begin
// moves those round trips off the start path: called from a package init (internal/earlycatch),
// it registers them on a goroutine of their own while the rest of uno initializes and reads its
// command line, and Wait, before anything starts, waits for the last one. The rule is unchanged
// (every catchable signal is caught before the program or any service exists); only the
// registration starts sooner and runs beside uno's own start-up work instead of after it.

// Catching is a registration of every catchable signal that Begin started.
type Catching struct {
	// C receives every signal caught. It holds signalQueue signals; os/signal drops one when
	// it is full.
	C      chan os.Signal
	done   chan struct{}
	caught []syscall.Signal
	// child holds SIGCHLD registered, so that the reaper's own registration of it, the last
	// thing before the first fork, finds it enabled and costs no round trip. Nobody reads it:
	// os/signal skips a full channel.
	child chan os.Signal
}

// signalQueue is how many signals may wait before os/signal drops one: a burst before the program
// exists, or while uno is busy.
const signalQueue = 1024

var begun *Catching

// Begin starts registering every catchable signal (those of leftAsFound that uno's caller ignored
// left as they are) on a goroutine of its own, and remembers it for Begun. Call it once.
func Begin() *Catching {
	c := &Catching{C: make(chan os.Signal, signalQueue), done: make(chan struct{}), child: make(chan os.Signal, 1)}
	begun = c
	go func() {
		defer close(c.done)
		c.caught = catchOrder(true)
		notify(c.C, c.caught)
		signal.Notify(c.child, syscall.SIGCHLD)
	}()
	return c
}

// Begun is the registration Begin started, or nil.
func Begun() *Catching { return begun }

// Wait returns once every catchable signal is caught, and the signals caught. Without
// keepIgnored (dumb-init) it also catches, synchronously, those of leftAsFound that uno's caller
// ignored, as CatchAll does.
func (c *Catching) Wait(keepIgnored bool) []syscall.Signal {
	<-c.done
	if !keepIgnored {
		c.caught = append(c.caught, catchIgnored(c.C)...)
	}
	return c.caught
}

// Stop gives the signals back to their default handling, for a run of uno that starts nothing
// (uno check): Ctrl-C must end it as it ends any command. A signal caught before Stop was sent to
// this run all the same: it is sent again, to get what it would have got (signal.Stop returns
// only once every signal caught is in C), so a Ctrl-C in uno check's first milliseconds ends it.
func (c *Catching) Stop() {
	<-c.done
	signal.Stop(c.C)
	for {
		select {
		case sig := <-c.C:
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(syscall.Getpid(), s)
			}
		default:
			return
		}
	}
}

package supervisor

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// This file is the cron jobs' one timer: it sleeps until the next due job, and wakes early if
// the wall clock is set, so that a jump is seen at once and no job needs a ticker.

// wallClock is what the cron scheduler needs of time (tests give their own).
type wallClock interface {
	Now() time.Time
	// WakeAt arranges one wake-up (on the channel given to the clock) once the wall clock reads
	// t, or earlier when the wall clock is set; the zero time cancels it. It replaces the last.
	WakeAt(t time.Time)
	Close()
}

// timerClock is a timerfd on CLOCK_REALTIME armed at an absolute time with
// TFD_TIMER_CANCEL_ON_SET: the kernel wakes it when that time comes, however the clock got
// there, or when someone sets the clock (the read then fails with ECANCELED). One goroutine
// blocks reading it, in the runtime's poller: between runs nothing wakes.
type timerClock struct {
	fd *os.File
}

// newTimerClock makes the timer; wake gets one value (or finds one pending) per wake-up.
func newTimerClock(wake chan<- struct{}) (wallClock, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	c := &timerClock{fd: os.NewFile(uintptr(fd), "cron timer")}
	go func() {
		var buf [8]byte
		for {
			_, err := c.fd.Read(buf[:])
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if err != nil && !errors.Is(err, syscall.ECANCELED) {
				// Not expected of a timerfd; a pause keeps an error from spinning.
				time.Sleep(time.Second)
			}
			select {
			case wake <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}()
	return c, nil
}

func (c *timerClock) Now() time.Time { return time.Now() }

func (c *timerClock) WakeAt(t time.Time) {
	var spec unix.ItimerSpec
	if !t.IsZero() {
		// t may carry a monotonic reading (@every): the wall time to wake at is now plus the
		// time until t, measured as t says. At least 1 ns: all zeros would disarm the timer.
		at := time.Now().Add(time.Until(t))
		spec.Value = unix.NsecToTimespec(max(at.UnixNano(), 1))
	}
	raw, err := c.fd.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		err = unix.TimerfdSettime(int(fd), unix.TFD_TIMER_ABSTIME|unix.TFD_TIMER_CANCEL_ON_SET, &spec, nil)
	})
}

func (c *timerClock) Close() { c.fd.Close() }

// fallbackClock is a plain timer, for a system without timerfd: it sees a jump of the wall
// clock only when it next wakes.
type fallbackClock struct {
	wake  chan<- struct{}
	timer *time.Timer
}

func (c *fallbackClock) Now() time.Time { return time.Now() }

func (c *fallbackClock) WakeAt(t time.Time) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if t.IsZero() {
		return
	}
	c.timer = time.AfterFunc(time.Until(t), func() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	})
}

func (c *fallbackClock) Close() { c.WakeAt(time.Time{}) }

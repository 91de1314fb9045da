package signals

import (
	"os"
	"syscall"
)

// os/signal never blocks: a signal that finds its channel full is dropped. uno's loops are
// sometimes slow to read theirs (a reload per SIGHUP of a flood, a burst before the program
// exists), and a SIGTERM behind a full channel was lost (TestSignalFlood, 1 run in 40). Relay
// puts a goroutine that does nothing but read between os/signal and uno's loop, so the channel
// os/signal writes to is always being emptied, and keeps what the loop has not taken yet in a
// queue that cannot fill: each signal waits in it at most once, as the kernel keeps a standard
// signal pending at most once. A real-time signal, which the kernel queues, keeps its count.

// maxQueued bounds the count of one real-time signal waiting for uno's loop (the kernel's own
// bound, RLIMIT_SIGPENDING, is about as large on these machines).
const maxQueued = 1 << 16

// Relay returns a channel that receives, in the order they first arrived, the signals sent on
// in. It never drops a signal kind: a standard signal already waiting is not queued twice, and
// a real-time one is counted. The relay runs for the life of uno.
func Relay(in <-chan os.Signal) chan os.Signal {
	out := make(chan os.Signal)
	go relay(in, out)
	return out
}

type waiting struct {
	sig   os.Signal
	count int
}

func relay(in <-chan os.Signal, out chan<- os.Signal) {
	var queue []waiting
	add := func(sig os.Signal) {
		for i := range queue {
			if queue[i].sig == sig {
				if isRealtime(sig) && queue[i].count < maxQueued {
					queue[i].count++
				}
				return
			}
		}
		queue = append(queue, waiting{sig, 1})
	}
	for {
		if len(queue) == 0 {
			add(<-in)
			continue
		}
		select {
		case sig := <-in:
			add(sig)
		case out <- queue[0].sig:
			if queue[0].count--; queue[0].count == 0 {
				queue = queue[1:]
			}
		}
	}
}

// isRealtime reports whether sig is one of the real-time signals, which the kernel queues
// rather than merges.
func isRealtime(sig os.Signal) bool {
	s, ok := sig.(syscall.Signal)
	return ok && s >= sigRTMin
}

// sigRTMin is the first real-time signal as the kernel numbers them (glibc keeps 32-34).
const sigRTMin = syscall.Signal(32)

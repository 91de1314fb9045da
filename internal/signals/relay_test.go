package signals

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// A reader that takes nothing for a while must not make the relay's input fill (os/signal would
// then drop), nor lose any kind of signal: a flood of four standard signals and a real-time one,
// then SIGTERM, reach it as each standard signal once, the real-time one as often as it was sent,
// and SIGTERM.
func TestRelayNeverDropsAKind(t *testing.T) {
	in := make(chan os.Signal, 4) // far smaller than the flood: only a prompt relay keeps up
	out := Relay(in)
	flood := []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGHUP, syscall.Signal(40)}
	const n = 10_000
	for i := range n {
		select {
		case in <- flood[i%len(flood)]:
		case <-time.After(10 * time.Second):
			t.Fatalf("the relay stopped reading its input after %d signals", i)
		}
	}
	in <- syscall.SIGTERM
	got := map[os.Signal]int{}
	var last os.Signal
	for last != syscall.SIGTERM {
		select {
		case last = <-out:
			got[last]++
		case <-time.After(10 * time.Second):
			t.Fatalf("no SIGTERM from the relay; got %v", got)
		}
	}
	for _, sig := range flood[:4] {
		if got[sig] != 1 {
			t.Errorf("%v reached the reader %d times, want once (waiting signals merge as the kernel merges them)", sig, got[sig])
		}
	}
	if got[syscall.Signal(40)] != n/len(flood) {
		t.Errorf("real-time signal 40 reached the reader %d times, want %d", got[syscall.Signal(40)], n/len(flood))
	}
}

// Signals that come one at a time to a reader that keeps up reach it each time, in order.
func TestRelayKeepsOrderAndCount(t *testing.T) {
	in := make(chan os.Signal)
	out := Relay(in)
	seq := []os.Signal{syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1}
	for _, sig := range seq {
		in <- sig
		select {
		case got := <-out:
			if got != sig {
				t.Fatalf("got %v, want %v", got, sig)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v never reached the reader", sig)
		}
	}
}

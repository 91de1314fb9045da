package testkit

import (
	"fmt"
	"testing"
	"time"
)

// AwaitProgress calls poll until it reports done, and fails the test when the progress poll
// reports has not risen above its highest value for stall.
//
// A test's time bound is there to catch a hang, not to measure a speed: a fixed total budget over
// work whose length scales with the machine (thousands of forks, millions of lines) fails on a
// slow or busy machine although nothing is wrong. Here the budget is renewed by every step
// forward, so only work that stops moving fails. Progress must grow as the work moves (a count of
// what is done; the negated count of what remains): only a new highest value renews the budget,
// so that a value that merely flaps cannot hold a hung test forever.
func AwaitProgress(t testing.TB, what string, stall time.Duration, poll func() (progress int, done bool)) {
	t.Helper()
	if err := WaitProgress(stall, poll); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// WaitProgress is AwaitProgress for callers that add their own context to the failure: it
// returns an error instead of failing a test.
func WaitProgress(stall time.Duration, poll func() (progress int, done bool)) error {
	start := time.Now()
	best, done := poll()
	moved := start
	// Short first intervals keep quick waits quick; longer ones later keep a poll that scans
	// /proc from taking the CPU that the work being waited for needs.
	interval := time.Millisecond
	for !done {
		time.Sleep(interval)
		interval = min(2*interval, 50*time.Millisecond)
		var progress int
		progress, done = poll()
		now := time.Now()
		switch {
		case done:
		case progress > best:
			best, moved = progress, now
		case now.Sub(moved) > stall:
			return fmt.Errorf("no progress for %v (stuck at %d, %v in all)", stall, best, now.Sub(start).Round(time.Millisecond))
		}
	}
	return nil
}

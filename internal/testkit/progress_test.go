package testkit

import (
	"strings"
	"testing"
	"time"
)

func TestWaitProgressOutlastsStallWhileWorkMoves(t *testing.T) {
	// The work takes several stall periods in all, but moves within each.
	const stall = 30 * time.Millisecond
	start := time.Now()
	err := WaitProgress(stall, func() (int, bool) {
		elapsed := time.Since(start)
		return int(elapsed / (stall / 4)), elapsed > 5*stall
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitProgressFailsWhenWorkStops(t *testing.T) {
	const stall = 20 * time.Millisecond
	calls := 0
	err := WaitProgress(stall, func() (int, bool) {
		calls++
		return min(calls, 3), false // three steps, then nothing
	})
	if err == nil || !strings.Contains(err.Error(), "stuck at 3") {
		t.Fatalf("err = %v, want a stall at 3", err)
	}
}

func TestWaitProgressIgnoresFlapping(t *testing.T) {
	const stall = 20 * time.Millisecond
	calls := 0
	err := WaitProgress(stall, func() (int, bool) {
		calls++
		return calls % 2, false // moves, but never past 1
	})
	if err == nil {
		t.Fatal("a value going up and down forever counted as progress")
	}
}

package supervisor

import (
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/cron"
)

func planFor(t *testing.T, expr string, now time.Time, jitter func(time.Duration) time.Duration) *jobPlan {
	t.Helper()
	sched, err := cron.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	if jitter == nil {
		jitter = func(time.Duration) time.Duration { return 0 }
	}
	return newPlan(&config.CronSpec{Schedule: sched, Expr: expr, Location: time.UTC, Jitter: time.Second}, now, jitter)
}

// wall is a wall clock reading without a monotonic one, as after a jump of the clock.
func wall(h, m, s int) time.Time { return time.Date(2026, 6, 1, h, m, s, 0, time.UTC) }

// TestPlanClockJumps checks the rules of cronplan.go with a clock that jumps.
func TestPlanClockJumps(t *testing.T) {
	p := planFor(t, "0 * * * *", wall(10, 30, 0), nil)
	if !p.fireAt.Equal(wall(11, 0, 0)) {
		t.Fatalf("first occurrence %v", p.fireAt)
	}
	if _, _, ok := p.due(wall(10, 59, 59)); ok {
		t.Fatal("due before its time")
	}
	// On time: fires, next is the following hour.
	occ, dropped, ok := p.due(wall(11, 0, 0))
	if !ok || dropped || !occ.Equal(wall(11, 0, 0)) || !p.fireAt.Equal(wall(12, 0, 0)) {
		t.Fatalf("on time: %v %v %v next %v", occ, dropped, ok, p.fireAt)
	}
	// The clock jumps forward 5 hours: the 12:00 occurrence fires once, 13:00-16:00 are
	// dropped, the next is 17:00.
	occ, dropped, ok = p.due(wall(16, 20, 0))
	if !ok || !dropped || !occ.Equal(wall(12, 0, 0)) || !p.fireAt.Equal(wall(17, 0, 0)) {
		t.Fatalf("jump forward: %v %v %v next %v", occ, dropped, ok, p.fireAt)
	}
	if _, _, ok := p.due(wall(16, 20, 1)); ok {
		t.Fatal("a second run for the same jump")
	}
	// The clock jumps back 3 hours: nothing fires for 14:00 or 15:00 or 16:00 again; the
	// next is still 17:00.
	for _, now := range []time.Time{wall(13, 20, 0), wall(14, 0, 0), wall(15, 0, 0), wall(16, 59, 59)} {
		if occ, _, ok := p.due(now); ok {
			t.Fatalf("after a jump back, %v fired at %v", occ, now)
		}
	}
	if occ, _, ok := p.due(wall(17, 0, 0)); !ok || !occ.Equal(wall(17, 0, 0)) {
		t.Fatalf("17:00 after the jump back: %v %v", occ, ok)
	}
}

// TestPlanJumpBackNeverRepeats: an occurrence that fired never fires again, however far the
// clock goes back and forth.
func TestPlanJumpBackNeverRepeats(t *testing.T) {
	p := planFor(t, "*/10 * * * *", wall(9, 55, 0), nil)
	fired := map[time.Time]bool{}
	clock := []time.Time{wall(10, 0, 0), wall(10, 10, 0), wall(9, 0, 0), wall(10, 5, 0), wall(10, 10, 0),
		wall(10, 20, 0), wall(10, 15, 0), wall(10, 30, 0), wall(8, 0, 0), wall(10, 30, 0), wall(10, 40, 0)}
	for _, now := range clock {
		if occ, _, ok := p.due(now); ok {
			if fired[occ] {
				t.Fatalf("%v fired twice (clock %v)", occ, now)
			}
			fired[occ] = true
		}
	}
	for _, want := range []time.Time{wall(10, 0, 0), wall(10, 10, 0), wall(10, 20, 0), wall(10, 30, 0), wall(10, 40, 0)} {
		if !fired[want] {
			t.Errorf("%v never fired: %v", want, fired)
		}
	}
}

// TestPlanEveryKeepsMonotonic: @every counts from the last run in time.Now's monotonic reading,
// which its times keep (a wall clock jump cannot be faked in-process, so this checks the reading
// is kept: comparisons of times that carry one use it alone).
func TestPlanEveryKeepsMonotonic(t *testing.T) {
	now := time.Now()
	p := planFor(t, "@every 1m", now, nil)
	if p.fireAt.Round(0).Equal(p.fireAt) && p.fireAt == p.fireAt.Round(0) {
		t.Fatal("the next run lost its monotonic reading")
	}
	later := now.Add(59 * time.Second)
	if _, _, ok := p.due(later); ok {
		t.Fatal("due early")
	}
	if _, _, ok := p.due(now.Add(time.Minute)); !ok {
		t.Fatal("not due after a minute")
	}
	if got := p.fireAt.Sub(now); got != 2*time.Minute {
		t.Fatalf("next in %v, want 2m", got)
	}
}

// TestPlanJitter: each occurrence's run is delayed by the jitter it drew, never past it, and
// the next occurrence is counted from the occurrence, not from the delayed run.
func TestPlanJitter(t *testing.T) {
	draws := []time.Duration{300 * time.Millisecond, time.Second, 0}
	jitter := func(max time.Duration) time.Duration {
		d := draws[0]
		draws = draws[1:]
		if d > max {
			t.Fatalf("drew %v over %v", d, max)
		}
		return d
	}
	p := planFor(t, "* * * * * *", wall(10, 0, 0), jitter)
	if !p.next.Equal(wall(10, 0, 1)) || p.fireAt.Sub(p.next) != 300*time.Millisecond {
		t.Fatalf("next %v fire %v", p.next, p.fireAt)
	}
	if _, _, ok := p.due(wall(10, 0, 1)); ok {
		t.Fatal("fired before its jitter")
	}
	occ, _, ok := p.due(wall(10, 0, 1).Add(300 * time.Millisecond))
	if !ok || !occ.Equal(wall(10, 0, 1)) || !p.next.Equal(wall(10, 0, 2)) || p.fireAt.Sub(p.next) != time.Second {
		t.Fatalf("occ %v next %v fire %v", occ, p.next, p.fireAt)
	}
	for i := range 1000 {
		if d := randomJitter(time.Second); d < 0 || d > time.Second {
			t.Fatalf("draw %d: %v", i, d)
		}
	}
	if randomJitter(0) != 0 {
		t.Fatal("jitter without a bound")
	}
}

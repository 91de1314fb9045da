package supervisor

import (
	"math/rand/v2"
	"time"

	"github.com/uno-init/uno/internal/config"
)

// This file is a cron job's plan: which occurrence comes next and when it fires, and what a
// jump of the wall clock does to it. It reads no clock: the times are given, so that tests can
// jump them.
//
// The rules (docs/services.md, "Scheduled services"):
//   - An occurrence fires once the wall clock reaches it (plus its jitter).
//   - After one fires, the next is the first occurrence after it; if that is already past (the
//     clock jumped forward, or uno was held up), the occurrences up to now are dropped: a jump
//     forward runs at most one missed occurrence per job.
//   - The clock going back changes nothing: the next occurrence stays the one after the last
//     that fired, so no occurrence ever fires twice; the job waits for the clock to get there.
//   - @every counts real (monotonic) time from the last run: the wall clock does not move it.

// jobPlan is one job's position in its schedule.
type jobPlan struct {
	spec *config.CronSpec
	// next is the occurrence waiting to fire (zero: none ever); fireAt is next plus its jitter.
	next, fireAt time.Time
	// jitter returns a run's random delay, up to spec.Jitter.
	jitter func(max time.Duration) time.Duration
}

func randomJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}

// newPlan starts a plan at now: the first occurrence after it.
func newPlan(spec *config.CronSpec, now time.Time, jitter func(time.Duration) time.Duration) *jobPlan {
	p := &jobPlan{spec: spec, jitter: jitter}
	p.set(p.after(now))
	return p
}

// after is the first occurrence after t.
func (p *jobPlan) after(t time.Time) time.Time {
	if every := p.spec.Schedule.Every(); every != 0 {
		return t.Add(every) // keeps t's monotonic reading
	}
	return p.spec.Schedule.Next(t, p.spec.Location)
}

func (p *jobPlan) set(next time.Time) {
	p.next, p.fireAt = next, next
	if !next.IsZero() {
		p.fireAt = next.Add(p.jitter(p.spec.Jitter))
	}
}

// due reports whether an occurrence fires at now; if so it returns it, moves to the next one,
// and says whether occurrences were dropped because the next one was already past.
func (p *jobPlan) due(now time.Time) (occurrence time.Time, dropped, ok bool) {
	if p.next.IsZero() || now.Before(p.fireAt) {
		return time.Time{}, false, false
	}
	occurrence = p.next
	next := p.after(occurrence)
	if !next.IsZero() && !next.After(now) {
		next, dropped = p.after(now), true
	}
	p.set(next)
	return occurrence, dropped, true
}

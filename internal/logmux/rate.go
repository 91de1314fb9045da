package logmux

import (
	"sync"
	"time"
)

// limiter is a service's log_rate: a token bucket of burst lines, refilled at rate lines per
// per. It never waits: lines over the limit are counted, and the count is reported in one
// summary line once lines pass again (at most once a second) or the run ends.
type limiter struct {
	mu       sync.Mutex
	perLine  time.Duration // time to earn one line
	burst    float64
	tokens   float64
	last     time.Time
	dropped  uint64
	reported time.Time
}

// summaryEvery bounds how often a summary line is written while a service floods.
const summaryEvery = time.Second

func newLimiter(rate int, per time.Duration, burst int) *limiter {
	return &limiter{perLine: per / time.Duration(rate), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take admits up to n lines read now, returns how many, and counts the others as dropped; it
// also returns the count to report now, if one is due, which is then no longer pending.
func (l *limiter) take(n int) (admitted int, report uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if elapsed := now.Sub(l.last); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+float64(elapsed)/float64(l.perLine))
		l.last = now
	}
	admitted = min(n, int(l.tokens))
	l.tokens -= float64(admitted)
	l.dropped += uint64(n - admitted)
	if l.dropped > 0 && now.Sub(l.reported) >= summaryEvery {
		report, l.dropped, l.reported = l.dropped, 0, now
	}
	return admitted, report
}

// flush returns the count not yet reported, at the end of a run or when it is due.
func (l *limiter) flush(force bool) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.dropped == 0 || !force && now.Sub(l.reported) < summaryEvery {
		return 0
	}
	n := l.dropped
	l.dropped, l.reported = 0, now
	return n
}

// pending says whether a count waits to be reported, and when it may be.
func (l *limiter) pending() (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped > 0, l.reported.Add(summaryEvery)
}

package logmux

import (
	"sync"
	"time"
)

// limiter is a service's log_rate: a token bucket of burst lines, refilled at rate lines per
// per. It never waits: lines over the limit are counted, and the count is reported in one
// summary line once lines pass again (at most once a second) or the run ends. The bucket is the
// service's, shared by its two streams; the counts are each stream's, so that a summary is
// written by the reader of the stream whose lines were dropped, on that stream's destination
// (a count left for whichever reader ended last went to the other stream's, and was lost
// where that one was discarded).
type limiter struct {
	mu       sync.Mutex
	perLine  time.Duration // time to earn one line
	burst    float64
	tokens   float64
	last     time.Time
	dropped  [2]uint64    // by Stream
	reported [2]time.Time // by Stream
}

// summaryEvery bounds how often a summary line is written while a service floods.
const summaryEvery = time.Second

func newLimiter(rate int, per time.Duration, burst int) *limiter {
	return &limiter{perLine: per / time.Duration(rate), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take admits up to n lines read now, returns how many, and counts the others as dropped; it
// also returns the count to report now, if one is due, which is then no longer pending.
func (l *limiter) take(s Stream, n int) (admitted int, report uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if elapsed := now.Sub(l.last); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+float64(elapsed)/float64(l.perLine))
		l.last = now
	}
	admitted = min(n, int(l.tokens))
	l.tokens -= float64(admitted)
	l.dropped[s] += uint64(n - admitted)
	if l.dropped[s] > 0 && now.Sub(l.reported[s]) >= summaryEvery {
		report, l.dropped[s], l.reported[s] = l.dropped[s], 0, now
	}
	return admitted, report
}

// flush returns the count of s not yet reported, at the end of a run or when it is due.
func (l *limiter) flush(s Stream, force bool) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.dropped[s] == 0 || !force && now.Sub(l.reported[s]) < summaryEvery {
		return 0
	}
	n := l.dropped[s]
	l.dropped[s], l.reported[s] = 0, now
	return n
}

// pending says whether a count of s waits to be reported, and when it may be.
func (l *limiter) pending(s Stream) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped[s] > 0, l.reported[s].Add(summaryEvery)
}

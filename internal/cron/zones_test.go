package cron

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// This file checks Next against a brute-force reference in every installed time zone, around
// every offset change of chosen years up to 2100 and around the UTC new year (where Go's
// ZoneBounds is wrong, golang/go#81583), for expressions of both daylight saving rules of
// Next's doc comment. The reference reads only the zone's offset at each instant (t.Zone()),
// never ZoneBounds, and walks the window minute by minute (second by second for expressions
// with seconds).

// allZones asks for every zone of /usr/share/zoneinfo and ten years (about 11 minutes on this
// machine): UNO_CRON_ALL_ZONES=1. By default the zones of awkwardZones and four years; with
// -short or -race, three zones and one year.
var allZones = os.Getenv("UNO_CRON_ALL_ZONES") != ""

// light is a run that must stay cheap: -short, or -race (ten times slower).
func light() bool { return !allZones && (testing.Short() || raceEnabled) }

// zoneNames lists the zones of /usr/share/zoneinfo (without posix/ and right/ copies) with
// UNO_CRON_ALL_ZONES=1, else some whose rules are known to be awkward.
func zoneNames(t *testing.T) []string {
	t.Helper()
	if light() {
		return []string{"America/New_York", "Australia/Lord_Howe", "America/Santiago"}
	}
	if !allZones {
		return []string{"America/New_York", "Europe/Warsaw", "Europe/Dublin", "Australia/Sydney",
			"Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "America/Santiago",
			"America/Nuuk", "Africa/Casablanca", "Africa/Cairo", "Asia/Jerusalem", "America/Havana",
			"Asia/Tokyo", "UTC", "Pacific/Apia", "America/Scoresbysund", "Antarctica/Troll"}
	}
	const root = "/usr/share/zoneinfo"
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "posix" || rel == "right" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.ContainsAny(rel, ".") || !d.Type().IsRegular() {
			return nil
		}
		if b, err := os.ReadFile(p); err != nil || !strings.HasPrefix(string(b), "TZif") {
			return nil
		}
		names = append(names, rel)
		return nil
	})
	if err != nil || len(names) == 0 {
		t.Skipf("no zone data in %s: %v", root, err)
	}
	return names
}

// matchesCivil is the reference's match: whether the wall clock reading c (a UTC time) matches s.
func (s *Schedule) matchesCivil(c time.Time) bool {
	_, mo, d := c.Date()
	h, mi, se := c.Clock()
	if s.month&(1<<int(mo)) == 0 || s.hour&(1<<h) == 0 || s.min&(1<<mi) == 0 || s.sec&(1<<se) == 0 {
		return false
	}
	dom := s.dom&(1<<d) != 0
	dow := s.dow&(1<<int(c.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// offsetAt is loc's offset at instant t, in seconds.
func offsetAt(t time.Time, loc *time.Location) int {
	_, off := t.In(loc).Zone()
	return off
}

// reference lists the instants in [w0, w1) at which s fires in loc under Next's documented
// rules, by walking the window a step (a minute, or a second) at a time.
func reference(s *Schedule, loc *time.Location, w0, w1 time.Time, step time.Duration) []time.Time {
	fixed := !s.minStar && !s.hourStar
	// The offsets in use near the window: a civil time's instants are c - o for these o.
	offs := map[int]bool{}
	for t := w0.Add(-48 * time.Hour); t.Before(w1.Add(48 * time.Hour)); t = t.Add(10 * time.Minute) {
		offs[offsetAt(t, loc)] = true
	}
	civil := func(t time.Time) time.Time {
		return t.Add(time.Duration(offsetAt(t, loc)) * time.Second).UTC()
	}
	// first is the first instant whose wall clock reads c.
	first := func(c time.Time) (time.Time, bool) {
		var best time.Time
		for o := range offs {
			at := c.Add(-time.Duration(o) * time.Second)
			if offsetAt(at, loc) == o && (best.IsZero() || at.Before(best)) {
				best = at
			}
		}
		return best, !best.IsZero()
	}
	var out []time.Time
	prevCivil := civil(w0.Add(-step))
	prevOff := offsetAt(w0.Add(-step), loc)
	for t := w0; t.Before(w1); t = t.Add(step) {
		c, off := civil(t), offsetAt(t, loc)
		fires := false
		if s.matchesCivil(c) {
			if !fixed {
				fires = true
			} else if f, ok := first(c); ok && f.Equal(t) {
				fires = true
			}
		}
		if fixed && off > prevOff {
			// The clock skipped [prevCivil+step, c): a fixed job due in it runs now.
			for g := prevCivil.Add(step); g.Before(c); g = g.Add(step) {
				if s.matchesCivil(g) {
					fires = true
					break
				}
			}
		}
		if fires {
			out = append(out, t)
		}
		prevCivil, prevOff = c, off
	}
	return out
}

// watchdog panics, naming the call, if one Next call takes longer than limit: a hang in Next is
// uno's PID 1 hanging, and a test must say where instead of waiting for -timeout.
type watchdog struct {
	calls atomic.Int64
	what  atomic.Value // string
	stop  chan struct{}
}

func startWatchdog(limit time.Duration) *watchdog {
	w := &watchdog{stop: make(chan struct{})}
	w.what.Store("")
	go func() {
		last, since := int64(-1), time.Now()
		tick := time.NewTicker(limit / 10)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			if n := w.calls.Load(); n != last {
				last, since = n, time.Now()
			} else if time.Since(since) > limit {
				panic(fmt.Sprintf("Next has not returned in %v: %s", limit, w.what.Load()))
			}
		}
	}()
	return w
}

func (w *watchdog) next(s *Schedule, expr string, after time.Time, loc *time.Location) time.Time {
	w.what.Store(fmt.Sprintf("%q in %s after %v", expr, loc, after.UTC()))
	got := s.Next(after, loc)
	w.calls.Add(1)
	return got
}

// windows are the stretches of time checked in loc: a day and a bit either side of each offset
// change in the given years, and of the UTC new year.
func windows(loc *time.Location, years []int, half time.Duration) [][2]time.Time {
	var out [][2]time.Time
	for _, y := range years {
		t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		out = append(out, [2]time.Time{t.Add(-half), t.Add(half)})
		prev := offsetAt(t, loc)
		for ; t.Year() == y; t = t.Add(time.Hour) {
			if off := offsetAt(t, loc); off != prev {
				// The change is in (t-1h, t]: find its second.
				lo, hi := t.Add(-time.Hour), t
				for hi.Sub(lo) > time.Second {
					mid := lo.Add(hi.Sub(lo) / 2)
					if offsetAt(mid, loc) == prev {
						lo = mid
					} else {
						hi = mid
					}
				}
				out = append(out, [2]time.Time{hi.Add(-half), hi.Add(half)})
				prev = off
			}
		}
	}
	return out
}

var (
	// Minute expressions: wall-clock ones (a star in minute or hour) and fixed ones.
	zoneMinuteExprs = []string{
		"* * * * *", "*/7 * * * *", "30 * * * *", "0 * * * *", "15,45 * * * *", "0 */2 * * *",
		"* 2 * * *", "*/20 1 * * *", "0 0 * * *", "30 2 * * *", "0 2 * * *", "0 3 * * *",
		"15,45 2 * * *", "30 1 * * *", "45 1 * * *", "0 1 * * *", "30 0 * * *", "0 23 * * *",
		"59 23 31 12 *", "0 0 1 1 *", "0 0 1 1 */7", "0 0,12 * * *", "0 4 * * 0", "30 23 * * *",
	}
	// Second expressions, checked second by second over shorter windows.
	zoneSecondExprs = []string{"*/15 * * * * *", "0 0 * * * *", "30 59 1 * * *", "* 30 2 * * *", "0 0 0 * * *", "*/20 * 2 * * *"}
)

// TestNextAgreesWithReferenceInEveryZone is the property: in every zone, around every offset
// change of the years checked and around the UTC new year, Next's occurrences (each from the
// one before) are exactly the reference's, each strictly after the instant it was asked from;
// and Next from a random instant inside the window is the reference's first occurrence after it.
func TestNextAgreesWithReferenceInEveryZone(t *testing.T) {
	years := []int{2026, 2027, 2037, 2038, 2040, 2041, 2068, 2096, 2099, 2100}
	switch {
	case light():
		years = []int{2040}
	case !allZones:
		years = []int{2026, 2038, 2040, 2100}
	}
	type sched struct {
		expr string
		s    *Schedule
		step time.Duration
		half time.Duration
	}
	var scheds []sched
	for _, e := range zoneMinuteExprs {
		s, err := Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, sched{e, s, time.Minute, 30 * time.Hour})
	}
	for _, e := range zoneSecondExprs {
		s, err := Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, sched{e, s, time.Second, 3 * time.Hour})
	}
	wd := startWatchdog(10 * time.Second)
	defer close(wd.stop)
	rng := rand.New(rand.NewPCG(1, 2))
	checked, failures := 0, 0
	for _, name := range zoneNames(t) {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, sc := range scheds {
			for _, w := range windows(loc, years, sc.half) {
				if failures > 20 {
					t.Fatalf("too many failures")
				}
				if offsetAt(w[0], loc)%60 != 0 || offsetAt(w[1], loc)%60 != 0 {
					continue // the minute walk needs whole-minute offsets
				}
				want := reference(sc.s, loc, w[0], w[1], sc.step)
				var got []time.Time
				from := w[0].Add(-time.Second)
				for {
					next := wd.next(sc.s, sc.expr, from, loc)
					if !next.After(from) {
						t.Errorf("%q in %s: Next(%v) = %v, not after it", sc.expr, name, from.UTC(), next.UTC())
						failures++
						break
					}
					if !next.Before(w[1]) {
						break
					}
					got = append(got, next)
					from = next
				}
				checked++
				if !slices.EqualFunc(got, want, time.Time.Equal) {
					failures++
					t.Errorf("%q in %s over [%v, %v):\n got %s\nwant %s", sc.expr, name, w[0].UTC(), w[1].UTC(), fmtTimes(got, loc), fmtTimes(want, loc))
					continue
				}
				// From random instants, sub-second ones too, and from each side of the window's
				// middle (an offset change, for most windows) and of each occurrence.
				mid := w[0].Add(w[1].Sub(w[0]) / 2)
				probes := []time.Time{mid.Add(-time.Second), mid, mid.Add(time.Second), mid.Add(-time.Nanosecond), mid.Add(500 * time.Millisecond)}
				for _, o := range want[:min(len(want), 4)] {
					probes = append(probes, o.Add(-time.Second), o.Add(-time.Nanosecond), o.Add(999*time.Millisecond))
				}
				for range 3 {
					span := w[1].Sub(w[0])
					probes = append(probes, w[0].Add(time.Duration(rng.Int64N(int64(span)))))
				}
				for _, x := range probes {
					i, _ := slices.BinarySearchFunc(want, x, func(a, b time.Time) int { return a.Compare(b) })
					for i < len(want) && !want[i].After(x) {
						i++
					}
					if i == len(want) {
						continue
					}
					if next := wd.next(sc.s, sc.expr, x, loc); !next.Equal(want[i]) {
						failures++
						t.Errorf("%q in %s: Next(%v) = %v, want %v", sc.expr, name, x.UTC(), next.In(loc), want[i].In(loc))
					}
				}
			}
		}
	}
	t.Logf("%d windows checked", checked)
}

func fmtTimes(ts []time.Time, loc *time.Location) string {
	var b strings.Builder
	for i, t := range ts {
		if i == 20 {
			fmt.Fprintf(&b, " ... (%d in all)", len(ts))
			break
		}
		b.WriteString(" " + t.In(loc).Format("2006-01-02T15:04:05-07:00"))
	}
	return b.String()
}

// TestNextTerminatesEverywhere: from random instants of 2026-2100 in every zone, Next returns
// within a bound, strictly after its input, for every expression of the table (every accepted
// expression fires, so never the zero time).
func TestNextTerminatesEverywhere(t *testing.T) {
	wd := startWatchdog(10 * time.Second)
	defer close(wd.stop)
	rng := rand.New(rand.NewPCG(3, 4))
	lo := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	per := 200
	if allZones {
		per = 40
	}
	for _, name := range zoneNames(t) {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		for range per {
			expr := tableExprs[rng.IntN(len(tableExprs))]
			s, err := Parse(expr)
			if err != nil {
				continue // the table has some that must not parse
			}
			from := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).In(loc)
			if rng.IntN(4) == 0 {
				// Just before a UTC new year, the worst place for ZoneBounds.
				y := 2026 + rng.IntN(75)
				from = time.Date(y, 12, 31, rng.IntN(24), rng.IntN(60), 0, 0, time.UTC)
			}
			next := wd.next(s, expr, from, loc)
			if !next.After(from) {
				t.Errorf("%q in %s: Next(%v) = %v, not after it", expr, name, from.UTC(), next)
			}
		}
	}
}

// TestNextRareDayAcross2100: 29 February on one weekday (both day fields needed: a star in
// the day of week) can be 40 years apart, not 28, because 2100 is not a leap year: Sundays
// come in 2088 and then 2128. Next gave the zero time (never) after 2088.
func TestNextRareDayAcross2100(t *testing.T) {
	s, err := Parse("0 0 29 2 */7") // 29 February, if a Sunday
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2088, 3, 1, 0, 0, 0, 0, time.UTC)
	want := time.Date(2128, 2, 29, 0, 0, 0, 0, time.UTC)
	if got := s.Next(from, time.UTC); !got.Equal(want) {
		t.Errorf("29 February on a Sunday after %v: got %v, want %v", from, got, want)
	}
}

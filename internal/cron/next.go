package cron

import "time"

// searchYears bounds the search for the next occurrence: 29 February on a given weekday is the
// rarest thing an expression can ask for, and it comes within 28 years, except across a
// century that is not a leap year: 29 February is a Sunday in 2088 and next in 2128.
const searchYears = 40

// Next is the first time after after (truncated to the second) at which s fires in loc, or the
// zero time if it never does within searchYears.
//
// Daylight saving, as Debian's cron: a job whose minute and hour fields are both fixed runs once
// for a local time the clock skips (at the instant of the change) and once for a local time the
// clock repeats (the first time it comes); a job with a '*' in its minute or hour field follows
// the wall clock: nothing for a skipped time, both times for a repeated one.
func (s *Schedule) Next(after time.Time, loc *time.Location) time.Time {
	if s.every != 0 {
		return after.Truncate(time.Second).Add(s.every).In(loc)
	}
	fixed := !s.minStar && !s.hourStar
	limit := after.Year() + searchYears
	// from is the instant the search goes past; at is an instant in the span being searched.
	from := after.Truncate(time.Second)
	at := from
	// Each turn searches one span of constant UTC offset, then moves to the next span.
	for at.Year() <= limit {
		local := at.In(loc)
		start, end := local.ZoneBounds()
		if !end.IsZero() && !end.After(at) {
			// Go's ZoneBounds gives an end before the instant in the last UTC day of a leap
			// year that the zone's TZ rule serves (golang/go#81583: 2040-12-31 in New York),
			// and this loop never moved on. No offset changes on that day: end it at midnight.
			u := at.UTC()
			end = time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
		}
		_, offset := local.Zone()
		shift := time.Duration(offset) * time.Second
		// Civil (wall clock) times are handled as UTC times shifted by the offset.
		civil := from.Add(shift).UTC()
		for {
			c, ok := s.nextCivil(civil, limit)
			if !ok {
				return time.Time{}
			}
			next := c.Add(-shift)
			if !end.IsZero() && !next.Before(end) {
				// Not in this span. A fixed job whose time the change skips runs at the change.
				if fixed {
					_, nextOffset := end.In(loc).Zone()
					if nextOffset > offset && c.Before(end.Add(time.Duration(nextOffset)*time.Second).UTC()) {
						return end.In(loc)
					}
				}
				break
			}
			if fixed && s.repeated(c, start, offset, loc) {
				civil = c // it came before the clock went back
				continue
			}
			return next.In(loc)
		}
		if end.IsZero() {
			return time.Time{}
		}
		// The next span, searched from its first second on.
		from, at = end.Add(-time.Second), end
	}
	return time.Time{}
}

// repeated reports whether civil time c, in the span starting at start with the given offset,
// already came in the span before it (the clock went back at start).
func (s *Schedule) repeated(c, start time.Time, offset int, loc *time.Location) bool {
	if start.IsZero() {
		return false
	}
	before := start.Add(-time.Second).In(loc)
	_, prevOffset := before.Zone()
	if prevOffset <= offset {
		return false
	}
	prevStart, _ := before.ZoneBounds()
	at := c.Add(-time.Duration(prevOffset) * time.Second)
	return at.Before(start) && (prevStart.IsZero() || !at.Before(prevStart))
}

// nextCivil is the first civil time after c (a UTC time standing for a wall clock reading)
// that matches s's fields, or false if there is none up to the end of year limit.
func (s *Schedule) nextCivil(c time.Time, limit int) (time.Time, bool) {
	t := c.Add(time.Second)
	for t.Year() <= limit {
		y, mo, d := t.Date()
		h, mi, se := t.Clock()
		switch {
		case s.month&(1<<int(mo)) == 0:
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.dayMatches(t):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case s.hour&(1<<h) == 0:
			t = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
		case s.min&(1<<mi) == 0:
			t = time.Date(y, mo, d, h, mi+1, 0, 0, time.UTC)
		case s.sec&(1<<se) == 0:
			t = t.Add(time.Second)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

// dayMatches applies cron's day rule: both day fields must match when either is a star,
// either may when both are restricted.
func (s *Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<t.Day()) != 0
	dow := s.dow&(1<<int(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

package cron

// The normal form of an expression, for tests only (FuzzParse's round trip): the binary needs
// none of it.

import (
	"math/bits"
	"strconv"
	"strings"
)

// String is the expression in a normal form: Parse(s.String()) is the same schedule.
func (s *Schedule) String() string {
	if s.every != 0 {
		return "@every " + s.every.String()
	}
	var parts []string
	if s.seconds {
		parts = append(parts, format(s.sec, fSec, s.sec == full(fSec)))
	}
	// A star matters to the minute, hour and day fields only: a full month is written "*".
	parts = append(parts, format(s.min, fMin, s.minStar), format(s.hour, fHour, s.hourStar),
		format(s.dom, fDom, s.domStar), format(s.month, fMonth, s.month == full(fMonth)), format(s.dow, fDow, s.dowStar))
	return strings.Join(parts, " ")
}

// full is the set of every value of f.
func full(f field) uint64 { return (1<<(f.max+1) - 1) &^ (1<<f.min - 1) }

// format writes a set as ranges, or as "*" or "*/STEP" when it came from a star: the star
// matters to the day fields and to daylight saving.
func format(set uint64, f field, star bool) string {
	hi := f.max
	if f.max == 7 {
		hi = 6
	}
	if star {
		// A star's set is f.min, f.min+step, ...: find the step.
		step := 1
		if v := bits.TrailingZeros64(set >> (f.min + 1)); set>>(f.min+1) != 0 {
			step = v + 1
		} else {
			step = hi - f.min + 1
		}
		var series uint64
		for v := f.min; v <= hi; v += step {
			series |= 1 << v
		}
		switch {
		case series == set && step == 1:
			return "*"
		case series == set:
			return "*/" + strconv.Itoa(step)
		}
		// A star with a list after it ("*/10,1"): keep the star with a step that matches
		// only f.min, and write the whole set after it.
		return "*/" + strconv.Itoa(hi-f.min+1) + "," + ranges(set, f.min, hi)
	}
	return ranges(set, f.min, hi)
}

// ranges writes the values of set in [lo, hi] as a list of ranges: "1-3,7".
func ranges(set uint64, lo, hi int) string {
	var b strings.Builder
	for v := lo; v <= hi; v++ {
		if set&(1<<v) == 0 {
			continue
		}
		end := v
		for end+1 <= hi && set&(1<<(end+1)) != 0 {
			end++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v))
		if end > v {
			b.WriteString("-" + strconv.Itoa(end))
		}
		v = end
	}
	return b.String()
}

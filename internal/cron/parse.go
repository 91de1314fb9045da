// Package cron owns cron expressions: parsing them (five fields, an optional leading seconds
// field, names, macros, @every) and computing when they next fire in a time zone, daylight
// saving changes included, the way Debian's cron does.
//
// It is pure: it reads no clock, starts nothing and keeps no state between calls. The
// supervisor decides when to ask and what to do with the answer.
package cron

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed expression. The zero value is not valid; use Parse.
type Schedule struct {
	// Bit i of a field is set when value i matches.
	sec, min, hour, dom, month, dow uint64
	// domStar and dowStar say the day fields began with '*' (or '?'): cron then needs only the
	// other day field to match; when both are restricted, either may (Debian's cron, POSIX).
	domStar, dowStar bool
	// minStar and hourStar say the minute or hour field began with '*': such a job follows the
	// local wall clock through daylight saving changes; a job at fixed times runs once for a
	// skipped time and once for a repeated one (Debian's cron).
	minStar, hourStar bool
	// every, if set, is an @every interval: runs that far apart, whatever the wall clock says.
	every time.Duration
	// seconds says the expression had a seconds field.
	seconds bool
}

type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i's name
}

var (
	fSec   = field{name: "second", min: 0, max: 59}
	fMin   = field{name: "minute", min: 0, max: 59}
	fHour  = field{name: "hour", min: 0, max: 23}
	fDom   = field{name: "day of month", min: 1, max: 31}
	fMonth = field{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	// Day of week takes 0-7, 7 being Sunday as 0 is.
	fDow = field{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// MaxEvery bounds @every: a longer interval is a mistake, not a schedule.
const MaxEvery = 366 * 24 * time.Hour

// Parse parses a cron expression: "min hour dom month dow", "sec min hour dom month dow", a
// macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly) or "@every 90s".
func Parse(expr string) (*Schedule, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "@") {
		word, rest, _ := strings.Cut(expr, " ")
		word = strings.ToLower(word)
		rest = strings.TrimSpace(rest)
		if word == "@every" {
			d, err := time.ParseDuration(rest)
			switch {
			case rest == "":
				return nil, errors.New("@every needs a duration, as in @every 90s")
			case err != nil:
				return nil, fmt.Errorf("@every: %q is not a duration (90s, 5m, 1h30m)", rest)
			case d < time.Second:
				return nil, fmt.Errorf("@every %v: the interval must be at least 1s", d)
			case d > MaxEvery:
				return nil, fmt.Errorf("@every %v: the interval must be at most %v", d, MaxEvery)
			case d%time.Second != 0:
				return nil, fmt.Errorf("@every %v: the interval must be whole seconds", d)
			}
			return &Schedule{every: d}, nil
		}
		m, ok := macros[word]
		if !ok {
			if word == "@reboot" {
				return nil, errors.New("@reboot is not a schedule: use run_on_start = true")
			}
			return nil, fmt.Errorf("unknown macro %q (want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every DURATION)", word)
		}
		if rest != "" {
			return nil, fmt.Errorf("%s takes no fields, got %q", word, rest)
		}
		expr = m
	}
	fields := strings.Fields(expr)
	s := &Schedule{}
	switch len(fields) {
	case 5:
		s.sec = 1
	case 6:
		s.seconds = true
		var err error
		if s.sec, _, err = parseField(fields[0], fSec); err != nil {
			return nil, err
		}
		fields = fields[1:]
	default:
		return nil, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got %d", len(fields))
	}
	var err error
	if s.min, s.minStar, err = parseField(fields[0], fMin); err != nil {
		return nil, err
	}
	if s.hour, s.hourStar, err = parseField(fields[1], fHour); err != nil {
		return nil, err
	}
	if s.dom, s.domStar, err = parseField(fields[2], fDom); err != nil {
		return nil, err
	}
	if s.month, _, err = parseField(fields[3], fMonth); err != nil {
		return nil, err
	}
	if s.dow, s.dowStar, err = parseField(fields[4], fDow); err != nil {
		return nil, err
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1 // 7 is Sunday
	}
	if err := s.checkFires(); err != nil {
		return nil, err
	}
	return s, nil
}

// monthDays is the most days each month can have (February in a leap year).
var monthDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// checkFires refuses an expression whose days never come, such as "0 0 30 2 *": cron accepts it
// and never runs it, which is a mistake found at the worst time.
func (s *Schedule) checkFires() error {
	if !s.domStar && s.dowStar {
		for m := 1; m <= 12; m++ {
			if s.month&(1<<m) != 0 && s.dom&(1<<(monthDays[m]+1)-1) != 0 {
				return nil
			}
		}
		return fmt.Errorf("never fires: no month of the expression has such a day of the month")
	}
	return nil
}

// parseField parses one comma-separated field into a bit set; star reports a leading '*' or '?'.
func parseField(text string, f field) (set uint64, star bool, err error) {
	star = strings.HasPrefix(text, "*") || strings.HasPrefix(text, "?")
	for part := range strings.SplitSeq(text, ",") {
		bits, err := parseRange(part, f)
		if err != nil {
			return 0, false, fmt.Errorf("%s field %q: %w", f.name, text, err)
		}
		set |= bits
	}
	return set, star, nil
}

// parseRange parses "*", "?", "N", "N-M", each with an optional "/STEP", or "N/STEP" (N to the
// field's end).
func parseRange(part string, f field) (uint64, error) {
	rng, stepText, hasStep := strings.Cut(part, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("step %q is not a positive number", stepText)
		}
		// A step past the field's span matches only the start: allowed, as cron does.
		step = min(n, f.max-f.min+1)
	}
	var lo, hi int
	switch {
	case rng == "*" || rng == "?":
		lo, hi = f.min, f.max
		if f.max == 7 {
			hi = 6 // "*" is each day once
		}
	case rng == "":
		return 0, errors.New("empty value")
	default:
		loText, hiText, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = value(loText, f); err != nil {
			return 0, err
		}
		hi = lo
		if isRange {
			if hi, err = value(hiText, f); err != nil {
				return 0, err
			}
			if hi < lo {
				return 0, fmt.Errorf("range %q goes backwards", rng)
			}
		} else if hasStep {
			hi = f.max
			if f.max == 7 {
				hi = max(lo, 6) // each day once, as for "*"; "7/N" is Sunday alone
			}
		}
	}
	var set uint64
	for v := lo; v <= hi; v += step {
		set |= 1 << v
	}
	return set, nil
}

func value(text string, f field) (int, error) {
	for i, n := range f.names {
		// ASCII only: EqualFold would take "ſep" (U+017F) for "sep".
		if len(text) == len(n) && strings.ToLower(text) == n {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(text)
	if err != nil || strings.HasPrefix(text, "+") {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number or a name (%s)", text, strings.Join(f.names, ", "))
		}
		return 0, fmt.Errorf("%q is not a number", text)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// Every is the @every interval, or 0.
func (s *Schedule) Every() time.Duration { return s.every }

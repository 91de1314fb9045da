package cron

import (
	"testing"
	"time"
)

// Found in review: "7/N" in the day of week (7 is Sunday) gave an empty set, so the expression
// was accepted and never fired. Every accepted expression must fire within the search.
func TestDayOfWeekSevenWithStep(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // a Thursday
	for _, expr := range []string{"0 0 * * 7/1", "0 0 * * 7/2", "0 0 * * 7/7"} {
		s, err := Parse(expr)
		if err != nil {
			t.Errorf("Parse(%q): %v (7 is Sunday, as 0 is)", expr, err)
			continue
		}
		want := time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC) // the first Sunday
		if got := s.Next(from, time.UTC); !got.Equal(want) {
			t.Errorf("%q: next after %v = %v, want %v (Sunday)", expr, from, got, want)
		}
	}
}

// Found in review: names matched with Unicode case folding, so "ſep" (U+017F, long s) was
// September. Cron's names are ASCII; anything else is an error.
func TestNamesAreASCII(t *testing.T) {
	for _, expr := range []string{"0 0 1 ſep *", "0 0 * * ſun", "0 0 * * ſat"} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) accepted a non-ASCII name", expr)
		}
	}
	for _, expr := range []string{"0 0 1 SEP *", "0 0 * * Sun", "0 0 * jAn-DeC sAt"} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v (names are case-insensitive)", expr, err)
		}
	}
}

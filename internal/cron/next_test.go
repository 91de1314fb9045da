package cron

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not installed (tzdata): %v", name, err)
	}
	return loc
}

// TestDaylightSaving checks both changes of two zones against Debian's cron's rule: a job at a
// fixed time runs once for a skipped time (at the change) and once for a repeated one (the first
// time); a job with '*' in its minute or hour follows the wall clock.
func TestDaylightSaving(t *testing.T) {
	warsaw := mustZone(t, "Europe/Warsaw")
	newYork := mustZone(t, "America/New_York")
	cases := []struct {
		loc   *time.Location
		expr  string
		from  string // RFC 3339
		want  []string
		about string
	}{
		// Warsaw: 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
		{warsaw, "30 2 * * *", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}, "skipped fixed time: once, at the change"},
		{warsaw, "15,45 2 * * *", "2026-03-29T00:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:15:00+02:00"}, "two skipped fixed times: one run"},
		{warsaw, "30 * * * *", "2026-03-29T01:00:00+01:00",
			[]string{"2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00"}, "skipped hour, '*' hour: nothing for it"},
		{warsaw, "*/30 * * * *", "2026-03-29T01:00:00+01:00",
			[]string{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"}, "wall clock through the skip"},
		{warsaw, "30 2 * * *", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}, "repeated fixed time: once, the first time"},
		{warsaw, "30 * * * *", "2026-10-25T01:00:00+02:00",
			[]string{"2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"}, "repeated hour, '*' hour: both times"},
		{warsaw, "30 2 * * *", "2026-10-25T02:10:00+01:00",
			[]string{"2026-10-26T02:30:00+01:00"}, "from inside the repeat: the repeat is not run"},
		{warsaw, "0 3 * * *", "2026-03-29T00:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00"}, "the first time after the skip"},
		{warsaw, "0 0 * * *", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"}, "midnight across the change"},
		// New York: 2026-03-08 02:00 EST becomes 03:00 EDT; 2026-11-01 02:00 EDT becomes 01:00 EST.
		{newYork, "30 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}, "skipped fixed time: once, at the change"},
		{newYork, "0 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"}, "the skipped hour's first minute"},
		{newYork, "30 1 * * *", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}, "repeated fixed time: once"},
		{newYork, "*/20 1 * * *", "2026-11-01T00:50:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:20:00-04:00", "2026-11-01T01:40:00-04:00",
				"2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00", "2026-11-02T01:00:00-05:00"}, "'*' minute in a repeated hour: both times"},
		{newYork, "0 * * * *", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}, "hourly through the repeat"},
		{newYork, "0 12 * * *", "2026-03-07T13:00:00-05:00",
			[]string{"2026-03-08T12:00:00-04:00"}, "a day that has 23 hours"},
		// @every is an interval of real time: the wall clock's changes do not move it.
		{newYork, "@every 1h", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00"}, "@every ignores the zone"},
	}
	for _, c := range cases {
		s, err := Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		from, err := time.Parse(time.RFC3339, c.from)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for range c.want {
			from = s.Next(from, c.loc)
			got = append(got, from.Format(time.RFC3339))
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s in %s from %s (%s):\n got %v\nwant %v", c.expr, c.loc, c.from, c.about, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                               "want 5 fields",
		"* * * *":                        "want 5 fields",
		"* * * * * * *":                  "want 5 fields",
		"60 * * * *":                     "minute field \"60\": 60 is out of range 0-59",
		"* 24 * * *":                     "24 is out of range 0-23",
		"* * 0 * *":                      "0 is out of range 1-31",
		"* * * 13 *":                     "13 is out of range 1-12",
		"* * * * 8":                      "8 is out of range 0-7",
		"5-1 * * * *":                    "goes backwards",
		"*/0 * * * *":                    "not a positive number",
		"*/-1 * * * *":                   "not a positive number",
		"*/99999999999999999999 * * * *": "not a positive number",
		"* * * foo *":                    "not a number or a name",
		"a * * * *":                      "\"a\" is not a number",
		"1,,2 * * * *":                   "empty value",
		"+1 * * * *":                     "not a number",
		"0 0 30 2 *":                     "never fires",
		"0 0 31 apr,jun,sep,nov *":       "never fires",
		"@every":                         "needs a duration",
		"@every 500ms":                   "at least 1s",
		"@every 1.5s":                    "whole seconds",
		"@every 9000h":                   "at most",
		"@every soon":                    "not a duration",
		"@reboot":                        "run_on_start",
		"@weekly 1":                      "takes no fields",
		"@fortnightly":                   "unknown macro",
	}
	for expr, want := range cases {
		_, err := Parse(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", expr, err, want)
		}
	}
	// Both day fields restricted: either may match, so 30 February with a weekday fires.
	if _, err := Parse("0 0 30 2 mon"); err != nil {
		t.Errorf("0 0 30 2 mon: %v (fires on Mondays in February)", err)
	}
}

func TestNormalForm(t *testing.T) {
	cases := map[string]string{
		"0 0 * * 7":             "0 0 * * 0",
		"@daily":                "0 0 * * *",
		"*/15 9-17 * * MON-FRI": "*/15 9-17 * * 1-5",
		"0 0 1,2,3,5 * *":       "0 0 1-3,5 * *",
		"5/20 * * * *":          "5,25,45 * * * *",
		"*/100 * * * *":         "*/60 * * * *",
		"0 0 ? * *":             "0 0 * * *",
		"0 0 0-6 * *":           "error",
		"0 0 * * 0-6":           "0 0 * * 0-6",
		"@every 90s":            "@every 1m30s",
		"0 30 9 * * *":          "0 30 9 * * *",
		// A star with a list after it keeps its star (cron's day rule, daylight saving)
		// and its whole set: FuzzParse found "0 */10,1 1 1 0" written as "0 * 1 1 0".
		"0 */10,1 1 1 0": "0 */24,0-1,10,20 1 1 0",
		"*/20,7 * * * *": "*/60,0,7,20,40 * * * *",
		"0 0 *,5 * *":    "0 0 * * *",
	}
	for in, want := range cases {
		s, err := Parse(in)
		got := "error"
		if err == nil {
			got = s.String()
		}
		if got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
	}
}

// TestNeverEndingSearch: the search for a rare or impossible day ends, and says so.
func TestNeverEndingSearch(t *testing.T) {
	s, err := Parse("0 0 29 2 *")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC)
	if got, want := s.Next(from, time.UTC), time.Date(2104, 2, 29, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("29 February after 2097 (2100 is not a leap year): got %v, want %v", got, want)
	}
	// Friday 29 February (both fields restricted: either), and only that as an AND would need.
	s, _ = Parse("0 0 29 2 *")
	start := time.Now()
	for range 1000 {
		s.Next(from, time.UTC)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("1000 searches for 29 February took %v", d)
	}
}

func FuzzParse(f *testing.F) {
	for _, e := range tableExprs {
		f.Add(e)
	}
	f.Add("@every 1h30m")
	f.Add("*/5 1-3,7 L * mon#2")
	f.Add("0 */10,1 1 1 0")
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		newYork = time.UTC
	}
	from := time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		norm := s.String()
		again, err := Parse(norm)
		if err != nil {
			t.Fatalf("%q normalises to %q, which does not parse: %v", expr, norm, err)
		}
		if again.String() != norm {
			t.Fatalf("%q normalises to %q, then to %q", expr, norm, again.String())
		}
		a, b := from, from
		for range 3 {
			a, b = s.Next(a, newYork), again.Next(b, newYork)
			if !a.Equal(b) {
				t.Fatalf("%q and its normal form %q differ: %v and %v", expr, norm, a, b)
			}
			if a.IsZero() {
				t.Fatalf("%q never fires after %v, yet it parsed", expr, from)
			}
		}
	})
}

// TestNextPastGoZoneBoundsBug: Go's ZoneBounds gives an end before the instant in the last UTC
// day of a leap year served by a zone's TZ rule (golang/go#81583), and Next's search, which
// moves from one span to the next, looped on it for ever: FuzzParse found "0 0 1 1 */7" (1
// January on a Sunday) hanging on its third occurrence in New York, after 2040.
func TestNextPastGoZoneBoundsBug(t *testing.T) {
	cases := []struct {
		zone, expr string
		from, want time.Time
	}{
		{"America/New_York", "0 0 1 1 */7", time.Date(2040, 1, 1, 5, 0, 0, 0, time.UTC), time.Date(2045, 1, 1, 5, 0, 0, 0, time.UTC)},
		{"Europe/Warsaw", "0 * * * *", time.Date(2040, 12, 31, 12, 0, 0, 0, time.UTC), time.Date(2040, 12, 31, 13, 0, 0, 0, time.UTC)},
		{"Europe/Warsaw", "30 0 * * *", time.Date(2040, 12, 30, 23, 30, 0, 0, time.UTC), time.Date(2040, 12, 31, 23, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Skipf("no zone data: %v", err)
		}
		s, err := Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan time.Time, 1)
		go func() { got <- s.Next(c.from, loc) }()
		select {
		case g := <-got:
			if !g.Equal(c.want) {
				t.Errorf("%s in %s after %v: %v, want %v", c.expr, c.zone, c.from, g.UTC(), c.want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s in %s after %v: Next has not returned in 20 s", c.expr, c.zone, c.from)
		}
	}
}

package cron

import (
	"encoding/binary"
	"testing"
	"time"
)

// tzif is a TZif (version 2) file with one transition, in 2000, to a standard time of stdOff
// seconds, and footer as its TZ rule for every time after: a zone as tzdata could ship one.
func tzif(footer string, stdOff int32) []byte {
	var b []byte
	header := func(timecnt, typecnt, charcnt uint32) {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, n := range []uint32{0, 0, 0, timecnt, typecnt, charcnt} {
			b = binary.BigEndian.AppendUint32(b, n)
		}
	}
	types := func() {
		b = binary.BigEndian.AppendUint32(b, uint32(stdOff))
		b = append(b, 0, 0)         // not DST, designation 0
		b = append(b, "STD\x00"...) // designations
	}
	// Version 1 block: 32-bit times.
	header(1, 1, 4)
	b = binary.BigEndian.AppendUint32(b, 946684800)
	b = append(b, 0)
	types()
	// Version 2 block: 64-bit times.
	header(1, 1, 4)
	b = binary.BigEndian.AppendUint64(b, 946684800)
	b = append(b, 0)
	types()
	return append(b, "\n"+footer+"\n"...)
}

// TestNextWithUnusualTZRules: TZ rules tzdata may ship (tzfile(5)) and today's zones happen not
// to: DST all year, transitions at 24:00 and beyond or before midnight, a negative DST, a
// half-hour DST, Southern ones across the new year, a 2-hour jump. Next must end and agree with
// the reference, as for the installed zones.
func TestNextWithUnusualTZRules(t *testing.T) {
	rules := []struct {
		footer string
		std    int32
	}{
		// DST all year (tzfile(5)'s "EST5EDT,0/0,J365/25") only east of Greenwich: west of it
		// Go's own Zone() is wrong for the first hours of each UTC year (standard time from
		// 00:00 UTC until the rule's 00:00 local: a clock that goes back, then jumps), so the
		// reference, which believes Zone(), cannot judge Next there. Next keeps DST through
		// them (ZoneBounds' span), which is the rule's meaning.
		{"<+03>-3<+04>,0/0,J365/25", 3 * 3600},                  // the same east of Greenwich
		{"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -2 * 3600},          // America/Nuuk: before midnight
		{"<-04>4<-03>,M9.1.6/24,M4.1.6/24", -4 * 3600},          // America/Santiago: at 24:00
		{"IST-1GMT0,M10.5.0,M3.5.0/1", 3600},                    // Europe/Dublin: negative DST
		{"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 37800},         // Lord Howe: 30 minutes
		{"XST-2XDT-4,M3.5.0/2,M10.5.0/3", 2 * 3600},             // a 2-hour jump
		{"<+13>-13<+14>,M9.5.0/3,M4.1.0/4", 13 * 3600},          // far east, Southern
		{"<-11>11<-10>,M3.2.0/26,M11.1.0/-20", -11 * 3600},      // far west, hours past a day
		{"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 45900}, // Pacific/Chatham
		{"AAA3BBB,J60/2,J300/2", -3 * 3600},                     // Julian days
		{"CCC-5DDD,59/2,299/2", 5 * 3600},                       // zero-based days (count 29 February)
		{"EEE0FFF,M1.1.0/0,M12.5.6/24", 0},                      // DST most of the year, ends on a 31 December
	}
	years := []int{2028, 2100}
	switch {
	case allZones:
		years = []int{2026, 2028, 2040, 2099, 2100}
	case light():
		years = []int{2028}
	}
	wd := startWatchdog(10 * time.Second)
	defer close(wd.stop)
	for _, r := range rules {
		loc, err := time.LoadLocationFromTZData(r.footer, tzif(r.footer, r.std))
		if err != nil {
			t.Errorf("%s: %v", r.footer, err)
			continue
		}
		for _, expr := range zoneMinuteExprs {
			s, err := Parse(expr)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range windows(loc, years, 30*time.Hour) {
				want := reference(s, loc, w[0], w[1], time.Minute)
				var got []time.Time
				for from := w[0].Add(-time.Second); ; {
					next := wd.next(s, expr, from, loc)
					if !next.After(from) {
						t.Fatalf("%q in %s: Next(%v) = %v, not after it", expr, r.footer, from.UTC(), next.UTC())
					}
					if !next.Before(w[1]) {
						break
					}
					got = append(got, next)
					from = next
				}
				if !equalTimes(got, want) {
					t.Errorf("%q in %s over [%v, %v):\n got %s\nwant %s", expr, r.footer, w[0].UTC(), w[1].UTC(), fmtTimes(got, loc), fmtTimes(want, loc))
				}
			}
		}
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

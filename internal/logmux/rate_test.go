package logmux

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
)

var droppedRE = regexp.MustCompile(`^api \| uno: (\d+) lines dropped by log_rate$`)

// countRated splits output into the service's lines and the sum of the summaries.
func countRated(t *testing.T, out string) (lines, dropped, summaries int) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if m := droppedRE.FindStringSubmatch(l); m != nil {
			var n int
			fmt.Sscan(m[1], &n)
			dropped += n
			summaries++
			continue
		}
		if !strings.HasPrefix(l, "api | api ") {
			t.Fatalf("line %q", l)
		}
		lines++
	}
	return
}

// TestRateLimitCountsExactly: lines over log_rate are dropped, never waited for; every one is
// counted in a summary line, and the counters agree.
func TestRateLimitCountsExactly(t *testing.T) {
	var out syncBuffer
	m := New(&out, &out, Options{Names: []string{"api"}})
	o := config.Output{Format: config.FormatPrefix, Rate: 100, RatePer: time.Second, Burst: 50}
	const total = 20000
	start := time.Now()
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, total/2, 40))
	feedRun(t, m, "api", o, 1, Stderr, numberedLines("api", total/2, total/2, 40))
	waitIdle(t, m)
	elapsed := time.Since(start)
	lines, dropped, summaries := countRated(t, out.String())
	if lines+dropped != total {
		t.Errorf("%d lines written + %d dropped = %d, want %d", lines, dropped, lines+dropped, total)
	}
	// The burst, and what the rate earned while the test ran.
	if maxLines := 50 + int(elapsed.Seconds()*100) + 1; lines > maxLines || lines < 50 {
		t.Errorf("%d lines let through in %v, want 50 to %d", lines, elapsed, maxLines)
	}
	// One a second while lines are read, and one at the end of each of the four readers (the
	// two runs' stdout and stderr, the empty ones too) that finds a count pending.
	if summaries == 0 || summaries > int(elapsed/summaryEvery)+1+4 {
		t.Errorf("%d summaries in %v", summaries, elapsed)
	}
	c := m.Counters("api")
	if c.Dropped != uint64(dropped) || c.Lines[Stdout]+c.Lines[Stderr] != total {
		t.Errorf("counters %+v: want %d dropped, %d lines read", c, dropped, total)
	}
}

// TestRateSummaryComesWithoutANextLine: a flood that stops while the service runs on gets its
// summary within about a second, not at the next line or the exit.
func TestRateSummaryComesWithoutANextLine(t *testing.T) {
	var out syncBuffer
	m := New(&out, io.Discard, Options{Names: []string{"api"}})
	o := config.Output{Format: config.FormatPrefix, Rate: 10, RatePer: time.Minute, Burst: 5}
	run, err := m.Start("api", o)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(1)
	defer run.Stderr.Close()
	defer run.Stdout.Close()
	for i := range 3 {
		io.WriteString(run.Stdout, numberedLines("api", i*100, 100, 20))
		time.Sleep(10 * time.Millisecond)
	}
	pollUntil(t, "every dropped line counted", func() bool {
		lines, dropped, _ := countRated(t, out.String())
		return lines+dropped == 300
	})
	if lines, _, _ := countRated(t, out.String()); lines != 5 {
		t.Errorf("%d lines let through, want the burst of 5", lines)
	}
}

// TestRateLimitWithRawAndJSON: the summary takes the service's format.
func TestRateLimitWithRawAndJSON(t *testing.T) {
	for _, f := range []config.LogFormat{config.FormatRaw, config.FormatJSON} {
		var out syncBuffer
		m := New(&out, io.Discard, Options{})
		feedRun(t, m, "api", config.Output{Format: f, Rate: 1, RatePer: time.Hour, Burst: 2}, 3, Stdout, "a\nb\nc\nd\n")
		waitIdle(t, m)
		got := out.String()
		switch f {
		case config.FormatRaw:
			if got != "a\nb\nuno: 2 lines dropped by log_rate\n" {
				t.Errorf("raw: %q", got)
			}
		case config.FormatJSON:
			l := parseJSONLines(t, got)
			if len(l) != 3 || l[2].Msg != "uno: 2 lines dropped by log_rate" || l[2].Service != "api" {
				t.Errorf("json: %q", got)
			}
		}
	}
}

// TestErrorReportsAtMostOnceAMinute: a log file's errors are let through once a minute, and the
// next report says how many were held back.
func TestErrorReportsAtMostOnceAMinute(t *testing.T) {
	var r reportLimiter
	if n, ok := r.due(); !ok || n != 0 {
		t.Fatalf("first error: %d, %v; want reported", n, ok)
	}
	for range 100 {
		if _, ok := r.due(); ok {
			t.Fatal("a second report within the minute")
		}
	}
	r.last = r.last.Add(-reportEvery - time.Millisecond)
	if n, ok := r.due(); !ok || n != 100 {
		t.Errorf("after a minute: %d, %v; want reported with 100 held back", n, ok)
	}
	r.due()
	if n := r.resume(); n != 1 {
		t.Errorf("resume: %d held back, want 1", n)
	}
}

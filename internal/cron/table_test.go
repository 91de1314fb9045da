package cron

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	robfig "github.com/robfig/cron/v3"
)

var update = flag.Bool("update", false, "rewrite testdata/next5.txt from this package's results")

// tableStart is where the table's occurrences are counted from: a Tuesday, 13 seconds into a
// minute, in a leap year's February, so that day, leap and second handling all show.
var tableStart = time.Date(2028, 2, 27, 22, 58, 13, 0, time.UTC)

// tableExprs are the expressions of testdata/next5.txt.
var tableExprs = []string{
	"* * * * *", "*/5 * * * *", "0 * * * *", "0 0 * * *", "30 2 * * *", "0 */2 * * *", "15 14 1 * *",
	"0 22 * * 1-5", "23 0-20/2 * * *", "5 4 * * sun", "0 0,12 1 */2 *", "0 4 8-14 * *", "0 0 1,15 * 3",
	"0 0 29 2 *", "0 0 31 * *", "0 12 * * mon,wed,fri", "0 9-17 * * mon-fri", "*/15 9-17 * * 1-5",
	"0 0 1 jan *", "0 0 1 JAN-MAR *", "0 0 * feb sun", "59 23 31 12 *", "0 0 * * 7", "0 0 * * 0",
	"0 0 * * 6,7", "1-5 * * * *", "0-59/10 * * * *", "5/15 * * * *", "0 5/6 * * *", "0 0 10/5 * *",
	"0 0 * 2/3 *", "0 0 * * 1/2", "30 8 1-7 * mon", "0 0 13 * fri", "0 0 1-3,10-12 * *", "0 0 * * tue-thu",
	"45 23 * * sat", "0 6,18 * * *", "7 7 7 7 *", "0 0 28-31 * *", "0 12 15 mar,jun,sep,dec *",
	"*/7 * * * *", "*/13 */5 * * *", "0 0 */10 * *", "0 0 1 */4 *", "0 0 * * */3", "10,20,30 * * * *",
	"0 1 * * 2", "0 3 2 * 2", "0 0 1 1 1", "2-58/7 3 * * *", "0 0 1 * mon-fri", "0 23 * 11-12 *",
	"0 0 5 aug *", "0 0 * * 4", "33 3 * * 3", "0 0 2 2 *", "0 0 30 1,3 *", "0 0 31 jan,mar,may *",
	"1 1 1 1 *", "0 0 15 * sun", "*/30 * * * *", "0 */4 * * 6", "0 8 * * 1", "0 0 * 12 *",
	"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
	"* * * * * *", "*/10 * * * * *", "0 * * * * *", "30 */2 * * * *", "0 0 12 * * *", "15,45 * * * * *",
	"0 0 0 1 * *", "5-10 * * * * *", "0 30 9 * * mon-fri", "*/20 0 0 * * *", "59 59 23 * * *",
	"0 0 0 29 2 *", "1/20 * * * * *", "0 0 */6 * * sun", "0 15 10 15 * *", "0 0 0 * * 6",
	"3 3 3 3 3 *", "0 0 0 * * 1-5", "10-50/20 * * * * *", "0 */30 * * * *", "0 0 8-10 * * *",
	"0 0 1 * * *", "45 59 * * * *", "0 1,2,3 * * * *", "* 0 0 1 1 *", "0 0 0 31 12 *",
	"0 0 12 ? * *", "0 0 * * ?", "0 0 1 * ?", "0 0 * oct-dec fri", "0 0 22 * * sat,sun",
	"0 17 * * fri", "0 0 * * mon#", "0 0 L * *",
}

func TestNextTable(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "# The next 5 occurrences after %s (UTC), one expression a line.\n", tableStart.Format(time.RFC3339))
	fmt.Fprintf(&b, "# Written by go test -update ./internal/cron; checked against robfig/cron/v3 by TestNextTableAgainstRobfig.\n")
	valid := 0
	for _, expr := range tableExprs {
		s, err := Parse(expr)
		if err != nil {
			fmt.Fprintf(&b, "%s\terror: %v\n", expr, err)
			continue
		}
		valid++
		fmt.Fprintf(&b, "%s\t%s\n", expr, strings.Join(formatTimes(next5(s, tableStart)), " "))
	}
	if valid < 100 {
		t.Errorf("the table has %d valid expressions, want at least 100", valid)
	}
	const golden = "testdata/next5.txt"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(b.String(), "\n")
	for i, line := range strings.Split(string(want), "\n") {
		if i >= len(got) || got[i] != line {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, at(got, i), line)
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

func next5(s *Schedule, from time.Time) []time.Time {
	var out []time.Time
	for range 5 {
		from = s.Next(from, time.UTC)
		out = append(out, from)
	}
	return out
}

func formatTimes(ts []time.Time) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Format("2006-01-02T15:04:05"))
	}
	return out
}

// TestNextTableAgainstRobfig checks the golden table against an independent implementation,
// robfig/cron/v3 (a test dependency only; it is not in uno's binary). Where the two are known to
// differ, the difference is Debian's cron's behaviour, which uno follows, and is listed.
func TestNextTableAgainstRobfig(t *testing.T) {
	f, err := os.Open("testdata/next5.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := robfig.NewParser(robfig.SecondOptional | robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor)
	compared := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		expr, times, _ := strings.Cut(line, "\t")
		if strings.HasPrefix(times, "error:") {
			continue
		}
		if reason, ok := robfigDiffers[expr]; ok {
			t.Logf("%-22s not compared: %s", expr, reason)
			continue
		}
		rs, err := parser.Parse(expr)
		if err != nil {
			t.Errorf("%s: uno accepts it, robfig does not: %v", expr, err)
			continue
		}
		var theirs []time.Time
		from := tableStart
		for range 5 {
			from = rs.Next(from)
			theirs = append(theirs, from)
		}
		if got := strings.Join(formatTimes(theirs), " "); got != times {
			t.Errorf("%s:\n  uno    %s\n  robfig %s", expr, times, got)
		}
		compared++
	}
	if compared < 100 {
		t.Errorf("compared %d expressions with robfig, want at least 100", compared)
	}
}

// robfigDiffers lists the table's expressions on which robfig/cron departs from Debian's cron.
var robfigDiffers = map[string]string{
	// Debian's cron treats a day field that starts with '*' as unrestricted for the day rule
	// (both must match); robfig only does so without a step.
	"0 0 * * */3": "robfig: a stepped '*' day of week restricts, so the day fields are ORed",
	// 7 is Sunday for Debian's cron; robfig's day of week ends at 6.
	"0 0 * * 7":   "robfig: day of week 7 is out of range",
	"0 0 * * 6,7": "robfig: day of week 7 is out of range",
}

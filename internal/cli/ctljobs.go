package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
)

// printJobs adds a table of the cron jobs to uno ctl status: their schedule and record.
func printJobs(w io.Writer, services []control.ServiceStatus) {
	var jobs []control.ServiceStatus
	for _, s := range services {
		if s.Cron != nil {
			jobs = append(jobs, s)
		}
	}
	if len(jobs) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tNEXT RUN\tLAST START\tDURATION\tLAST RESULT\tRUNS\tFAILED\tSKIPPED\tTIMED OUT")
	for _, s := range jobs {
		c := s.Cron
		next, start, duration, result := "-", "-", "-", "-"
		if !c.NextRun.IsZero() {
			next = c.NextRun.Local().Format(time.DateTime)
		}
		if !c.LastRunStart.IsZero() {
			start = c.LastRunStart.Local().Format(time.DateTime)
		}
		if c.LastRun != nil {
			duration = (time.Duration(c.LastRun.DurationSeconds * float64(time.Second))).Round(time.Millisecond).String()
			result = c.LastRun.Result
		}
		runs := strconv.Itoa(c.Runs)
		if c.ExtraRuns > 0 {
			runs += " (+" + strconv.Itoa(c.ExtraRuns) + " going)"
		}
		fmt.Fprintln(tw, strings.Join([]string{s.Name, c.Schedule + " (" + c.Timezone + ")", next, start, duration, result, runs,
			strconv.Itoa(c.Failures), strconv.Itoa(c.Skips), strconv.Itoa(c.Timeouts)}, "\t"))
	}
	tw.Flush()
}

// cronNotes is a job's line in uno check: its schedule and its next 3 runs.
func cronNotes(c *config.CronSpec, now time.Time) string {
	var next []string
	for _, t := range c.NextRuns(now, 3) {
		next = append(next, t.Format("2006-01-02 15:04:05 MST"))
	}
	if len(next) == 0 {
		next = []string{"never"}
	}
	return "cron " + c.Describe() + ", next: " + strings.Join(next, ", ")
}

// Scheduled services (type = "cron"): their keys, decoded once from service() after the keys
// every service has; crontab files are read in crontab.go.

package config

import (
	"os"
	"strconv"
	"time"

	"github.com/uno-init/uno/internal/cron"
)

// Cron is a scheduled service: it runs on a clock, not once or forever.
const Cron Type = "cron"

// CronSpec is what makes a service a scheduled job.
type CronSpec struct {
	Schedule *cron.Schedule
	// Expr is the schedule as written, for messages; Line is where.
	Expr string
	Line int
	// Location is the time zone the schedule is read in; Zone its name ("UTC" by default).
	Location *time.Location
	Zone     string
	// Concurrency says what happens when a run is due while the last one still goes.
	Concurrency Concurrency
	// Timeout, if not 0, stops a run that lasts longer (stop signal, stop_timeout, SIGKILL).
	Timeout time.Duration
	// Jitter delays each run by a random time up to it, so that a fleet does not run at once.
	Jitter time.Duration
	// RunOnStart runs the job once as soon as its dependencies hold, then on schedule.
	RunOnStart bool
	// FailAfter, if not 0 (only with essential = true), is the number of failed runs in a row
	// after which the job ends, and the container with it.
	FailAfter int
}

// Concurrency is what a due run does while the last one still goes.
type Concurrency string

const (
	// Forbid skips the due run (counted as skipped).
	Forbid Concurrency = "forbid"
	// Allow starts it beside the one going.
	Allow Concurrency = "allow"
	// Replace stops the one going, then starts the due one.
	Replace Concurrency = "replace"
)

// cronKeys are the keys only a cron job takes.
var cronKeys = []string{"schedule", "timezone", "concurrency", "timeout", "jitter", "run_on_start", "fail_after"}

// cronJob decodes a cron job's keys into s.Cron, and refuses them on other services and the keys
// a job does not take (restart and ready: the schedule is the retry, a run is never "ready").
func (l *loader) cronJob(file, prefix string, t *table, s *Service) {
	key := func(k string) string { return prefix + k }
	if s.Type != Cron {
		for _, k := range cronKeys {
			if v := t.get(k); v != nil {
				l.cronError(file, v.line, key(k), "only a cron job takes "+k+": add type = \"cron\"")
			}
		}
		return
	}
	for _, k := range []string{"restart", "restart_delay", "restart_delay_max", "restart_reset_after", "restart_limit", "restart_window"} {
		if v := t.get(k); v != nil {
			l.cronError(file, v.line, key(k), "a cron job is not restarted: the schedule is the retry")
		}
	}
	if v := t.get("ready"); v != nil {
		l.cronError(file, v.line, key("ready"), "a cron job has no readiness check: each run starts and ends")
	}
	if v := t.get("health"); v != nil {
		// A failed check would stop the run, and the run would count neither as failed nor timed out.
		l.cronError(file, v.line, key("health"), "a cron job has no health check: a run that hangs is stopped by its timeout")
	}
	c := &CronSpec{Concurrency: Forbid, Zone: "UTC", Location: time.UTC}
	if v := t.get("schedule"); v != nil {
		if expr, ok := l.str(file, key("schedule"), v); ok {
			c.Expr, c.Line = expr, v.line
			sched, err := cron.Parse(expr)
			if err != nil {
				l.cronError(file, v.line, key("schedule"), err.Error())
			}
			c.Schedule = sched
		}
	} else {
		l.cronError(file, s.Line, prefix[:len(prefix)-1], "a cron job needs a schedule, such as schedule = \"0 3 * * *\" or \"@every 10m\"")
	}
	if v := t.get("timezone"); v != nil {
		if zone, ok := l.str(file, key("timezone"), v); ok {
			c.Zone = zone
			if c.Location = l.zone(file, key("timezone"), v.line, zone); c.Location == nil {
				c.Location = time.UTC
			}
		}
	}
	if v := t.get("concurrency"); v != nil {
		c.Concurrency = Concurrency(l.oneOf(file, key("concurrency"), v, string(Forbid), string(Allow), string(Replace)))
	}
	if v := t.get("timeout"); v != nil {
		c.Timeout = l.duration(file, key("timeout"), v, 0)
	}
	if v := t.get("jitter"); v != nil {
		c.Jitter = l.duration(file, key("jitter"), v, 0)
	}
	if v := t.get("run_on_start"); v != nil {
		c.RunOnStart = l.boolean(file, key("run_on_start"), v, false)
	}
	// A failed run is logged and counted; only an essential job's failures in a row stop the
	// container, after fail_after of them (1 unless given).
	essential := t.get("essential")
	s.Essential = essential != nil && s.Essential
	if v := t.get("fail_after"); v != nil {
		c.FailAfter = l.integer(file, key("fail_after"), v, 0)
		switch {
		case c.FailAfter < 1:
			l.cronError(file, v.line, key("fail_after"), "must be at least 1")
		case !s.Essential:
			l.cronError(file, v.line, key("fail_after"), "needs essential = true: a job that is not essential never stops the container")
		}
	} else if s.Essential {
		c.FailAfter = 1
	}
	s.Cron = c
}

// cronError reports a problem with one of a job's keys. It is kept out of line: errorf inlines
// at each call, and a job has many messages, each of which would carry a copy.
//
//go:noinline
func (l *loader) cronError(file string, line int, key, msg string) {
	l.errorf(file, line, key, "%s", msg)
}

// zone loads a time zone from the system's zoneinfo (uno does not carry its own copy: it would
// cost 450 KB of every binary).
func (l *loader) zone(file, key string, line int, name string) *time.Location {
	if name == "" {
		l.cronError(file, line, key, "empty time zone: leave it out for UTC")
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		hint := ""
		if _, statErr := os.Stat("/usr/share/zoneinfo"); statErr != nil {
			hint = "; this system has no /usr/share/zoneinfo: install tzdata in the image, or mount the host's /usr/share/zoneinfo"
		} else {
			hint = "; names are as in /usr/share/zoneinfo, such as Europe/Warsaw or America/New_York (install tzdata if it is missing)"
		}
		l.cronError(file, line, key, "unknown time zone "+strconv.Quote(name)+hint)
		return nil
	}
	return loc
}

// NextRuns is the next n times the job's schedule fires after from, in its time zone.
func (c *CronSpec) NextRuns(from time.Time, n int) []time.Time {
	var out []time.Time
	for range n {
		from = c.Schedule.Next(from, c.Location)
		if from.IsZero() {
			break
		}
		out = append(out, from)
	}
	return out
}

// Describe is the job's schedule as `uno check` shows it.
func (c *CronSpec) Describe() string {
	return c.Expr + " (" + c.Zone + ")"
}

package metrics

import "runtime"

// This file is uno's series: the one table that renders a Snapshot, for the supervisor (uno -c)
// and single-program mode alike. A new series is a row of series reading the Snapshot; what it
// needs goes into Snapshot, filled by the supervisor's publish (internal/supervisor/metrics.go).

// Snapshot is what uno's metrics are rendered from.
type Snapshot struct {
	Version string
	// States are every state a service may be in, for uno_service_state.
	States   []string
	Services []Service
	// Orphans are the processes reaped that uno had not started.
	Orphans uint64
	// Forwarded counts the signals passed on, by name.
	Forwarded map[string]uint64
	// Logs are the services' output counts, by service and stream.
	Logs []Log
	// Cron are the cron jobs' records.
	Cron []CronJob
}

// CronJob is one cron job's record.
type CronJob struct {
	Name string
	// Results counts the runs that ended, by CronResults.
	Results map[string]uint64
	Skips   uint64
	// LastRun is when the last run started, NextRun when the next is due, in seconds since
	// the epoch; 0 when there is none.
	LastRun, NextRun float64
}

// CronResults are the values of uno_cron_runs_total's result label.
var CronResults = []string{"success", "failure", "timeout", "stopped"}

// Service is one service's figures.
type Service struct {
	Name, State        string
	Up, Ready, Healthy bool
	Restarts           int
	LastExit           bool // LastExitCode is set: the service has ended at least once
	LastExitCode       int
	StartTime          float64 // seconds since the epoch; 0 before the first start
	Exits              map[string]uint64
	HasHealth          bool // the health series are rendered
	CheckFailures      uint64
	CheckDuration      Histogram
}

// Log is what one service wrote on one stream.
type Log struct {
	Service, Stream string
	Lines, Bytes    uint64
}

// ExitReasons are the values of uno_service_exits_total's reason label.
var ExitReasons = []string{"exited", "failed", "stopped", "not_ready", "unhealthy", "start_failed"}

// CheckBounds are uno_health_check_duration_seconds's buckets.
var CheckBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Kinds of row: a row of a per-service kind writes one sample per service, from value.
const (
	perService = iota
	perHealth  // only services with a health check
	perExit    // only services that have ended once
	perStart   // only services that have started once
	perOwn     // the row's write does it all
)

var series = []struct {
	name, typ, help string
	kind            int
	value           func(m *Service) float64
	write           func(w *Writer, name string, s *Snapshot)
}{
	{name: "uno_build_info", typ: "gauge", help: "uno's version and Go release; always 1.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		w.Sample(name, 1, "version", s.Version, "goversion", runtime.Version())
	}},
	{name: "uno_service_state", typ: "gauge", help: "1 for each service's state, 0 for the others.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, m := range s.Services {
			for _, st := range s.States {
				w.Sample(name, Bool(m.State == st), "service", m.Name, "state", st)
			}
		}
	}},
	{name: "uno_service_up", typ: "gauge", help: "1 while a process of the service runs.", value: func(m *Service) float64 { return Bool(m.Up) }},
	{name: "uno_service_ready", typ: "gauge", help: "1 while the service is ready (docs/services.md, Health).", value: func(m *Service) float64 { return Bool(m.Ready) }},
	{name: "uno_service_healthy", typ: "gauge", help: "0 while the service is unhealthy, else 1.", value: func(m *Service) float64 { return Bool(m.Healthy) }},
	{name: "uno_service_restarts_total", typ: "counter", help: "Restarts of the service by its restart policy or on_failure.", value: func(m *Service) float64 { return float64(m.Restarts) }},
	{name: "uno_service_exits_total", typ: "counter", help: "Ends of the service's runs, by reason.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, m := range s.Services {
			for _, r := range ExitReasons {
				w.Sample(name, float64(m.Exits[r]), "service", m.Name, "reason", r)
			}
		}
	}},
	{name: "uno_service_last_exit_code", typ: "gauge", help: "The exit status of the service's last run (128+n for signal n).", kind: perExit, value: func(m *Service) float64 { return float64(m.LastExitCode) }},
	{name: "uno_service_start_time_seconds", typ: "gauge", help: "When the service's last run started, in seconds since the epoch.", kind: perStart, value: func(m *Service) float64 { return m.StartTime }},
	{name: "uno_health_check_failures_total", typ: "counter", help: "Failed health checks of the service.", kind: perHealth, value: func(m *Service) float64 { return float64(m.CheckFailures) }},
	{name: "uno_health_check_duration_seconds", typ: "histogram", help: "How long the service's health checks took.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, m := range s.Services {
			if m.HasHealth {
				w.Histogram(name, m.CheckDuration, "service", m.Name)
			}
		}
	}},
	{name: "uno_log_lines_total", typ: "counter", help: "Output lines the service wrote, by stream.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, c := range s.Logs {
			w.Sample(name, float64(c.Lines), "service", c.Service, "stream", c.Stream)
		}
	}},
	{name: "uno_log_bytes_total", typ: "counter", help: "Output bytes the service wrote, by stream.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, c := range s.Logs {
			w.Sample(name, float64(c.Bytes), "service", c.Service, "stream", c.Stream)
		}
	}},
	{name: "uno_cron_runs_total", typ: "counter", help: "Ended runs of the cron job, by result.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, j := range s.Cron {
			for _, r := range CronResults {
				w.Sample(name, float64(j.Results[r]), "service", j.Name, "result", r)
			}
		}
	}},
	{name: "uno_cron_skips_total", typ: "counter", help: "Due runs of the cron job skipped because one still went (concurrency forbid).", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, j := range s.Cron {
			w.Sample(name, float64(j.Skips), "service", j.Name)
		}
	}},
	{name: "uno_cron_last_run_timestamp_seconds", typ: "gauge", help: "When the cron job's last run started, in seconds since the epoch.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, j := range s.Cron {
			if j.LastRun != 0 {
				w.Sample(name, j.LastRun, "service", j.Name)
			}
		}
	}},
	{name: "uno_cron_next_run_timestamp_seconds", typ: "gauge", help: "When the cron job's next run is due, in seconds since the epoch.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		for _, j := range s.Cron {
			if j.NextRun != 0 {
				w.Sample(name, j.NextRun, "service", j.Name)
			}
		}
	}},
	{name: "uno_reaped_orphans_total", typ: "counter", help: "Orphans uno reaped.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		w.Sample(name, float64(s.Orphans))
	}},
	{name: "uno_signals_forwarded_total", typ: "counter", help: "Signals uno passed on to services, by signal.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		keys := make([]string, 0, len(s.Forwarded))
		for k := range s.Forwarded {
			keys = append(keys, k)
		}
		SortStrings(keys)
		for _, k := range keys {
			w.Sample(name, float64(s.Forwarded[k]), "signal", k)
		}
	}},
	{name: "uno_process_resident_memory_bytes", typ: "gauge", help: "uno's own resident memory.", kind: perOwn, write: func(w *Writer, name string, s *Snapshot) {
		if rss, ok := ResidentMemory(); ok {
			w.Sample(name, float64(rss))
		}
	}},
}

// Render is the exposition of s.
func Render(s *Snapshot) []byte {
	var w Writer
	for _, f := range series {
		w.Family(f.name, f.typ, f.help)
		if f.kind == perOwn {
			f.write(&w, f.name, s)
			continue
		}
		for i := range s.Services {
			m := &s.Services[i]
			if f.kind == perHealth && !m.HasHealth || f.kind == perExit && !m.LastExit || f.kind == perStart && m.StartTime == 0 {
				continue
			}
			w.Sample(f.name, f.value(m), "service", m.Name)
		}
	}
	return w.Bytes()
}

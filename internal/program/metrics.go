package program

import (
	"runtime"
	"syscall"

	"github.com/uno-init/uno/internal/metrics"
	"github.com/uno-init/uno/internal/signals"
)

// This file is single-program mode's drain and metrics: the series of uno -c's that make sense
// for one program (docs/control.md lists which).

// startDrain marks the program draining; it reports whether this was the first time.
func (p *single) startDrain() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return false
	}
	p.draining = true
	return true
}

func (p *single) forwarded(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signalsTo == nil {
		p.signalsTo = map[string]uint64{}
	}
	p.signalsTo[signals.Name(sig)]++
}

func (p *single) Metrics() []byte {
	st := p.status()
	ready, _ := p.Ready()
	p.mu.Lock()
	version := p.version
	forwarded := make(map[string]uint64, len(p.signalsTo))
	for k, v := range p.signalsTo {
		forwarded[k] = v
	}
	p.mu.Unlock()
	var w metrics.Writer
	w.Family("uno_build_info", "gauge", "uno's version and the Go release it was built with; always 1.")
	w.Sample("uno_build_info", 1, "version", version, "goversion", runtime.Version())
	w.Family("uno_service_up", "gauge", "1 while the program runs.")
	w.Sample("uno_service_up", metrics.Bool(st.Pid != 0), "service", p.name)
	w.Family("uno_service_ready", "gauge", "1 while the program runs and uno is not draining.")
	w.Sample("uno_service_ready", metrics.Bool(ready), "service", p.name)
	if !st.StartedAt.IsZero() {
		w.Family("uno_service_start_time_seconds", "gauge", "When the program started, in seconds since the epoch.")
		w.Sample("uno_service_start_time_seconds", float64(st.StartedAt.UnixNano())/1e9, "service", p.name)
	}
	w.Family("uno_reaped_orphans_total", "counter", "Processes uno reaped that it had not started: orphans re-parented to it.")
	w.Sample("uno_reaped_orphans_total", float64(p.reaper.Orphans()))
	w.Family("uno_signals_forwarded_total", "counter", "Signals uno passed on to the program, by signal (before any rewrite).")
	names := make([]string, 0, len(forwarded))
	for k := range forwarded {
		names = append(names, k)
	}
	metrics.SortStrings(names)
	for _, n := range names {
		w.Sample("uno_signals_forwarded_total", float64(forwarded[n]), "signal", n)
	}
	if rss, ok := metrics.ResidentMemory(); ok {
		w.Family("uno_process_resident_memory_bytes", "gauge", "uno's own resident memory.")
		w.Sample("uno_process_resident_memory_bytes", float64(rss))
	}
	return []byte(w.String())
}

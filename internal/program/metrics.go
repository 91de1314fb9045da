package program

import (
	"syscall"

	"github.com/uno-init/uno/internal/metrics"
	"github.com/uno-init/uno/internal/signals"
)

// This file is single-program mode's drain and metrics: the program as the one service of the
// series package metrics renders.

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
	m := metrics.Service{Name: p.name, State: st.State, Up: st.Pid != 0, Ready: ready, Healthy: true}
	if !st.StartedAt.IsZero() {
		m.StartTime = float64(st.StartedAt.UnixNano()) / 1e9
	}
	if st.LastExit != nil {
		m.LastExit, m.LastExitCode = true, st.LastExit.Code
	}
	snap := metrics.Snapshot{States: []string{"starting", "running", "exited"}, Services: []metrics.Service{m}, Orphans: p.reaper.Orphans()}
	p.mu.Lock()
	snap.Version = p.version
	snap.Forwarded = make(map[string]uint64, len(p.signalsTo))
	for k, v := range p.signalsTo {
		snap.Forwarded[k] = v
	}
	p.mu.Unlock()
	return metrics.Render(&snap)
}

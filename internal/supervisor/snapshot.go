package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/metrics"
)

// This file is the supervisor's side of `uno ctl`: the backend the control socket calls, whose
// answers are read from a snapshot the supervisor's goroutine publishes after each event; the
// actions it hands to that goroutine are in actions.go.

// snapshot is the services' state as the control socket shows it.
type snapshot struct {
	services       []control.ServiceStatus
	ready, healthy bool
	readyWhy       string
	healthWhy      string

	// metrics are the figures for /metrics (metrics.go); the orphans and the output counts
	// are read at each request.
	metrics metrics.Snapshot
}

// publish records the current state for the control socket's readers.
func (sv *Supervisor) publish() {
	snap := &snapshot{services: make([]control.ServiceStatus, 0, len(sv.services)), metrics: metrics.Snapshot{
		Version: sv.opts.Version, States: stateNames, Forwarded: cloneCounts(sv.forwarded),
		Services: make([]metrics.Service, 0, len(sv.services)),
	}}
	var notReady, unhealthy []string
	for _, s := range sv.services {
		if s.job != nil && s.job.parent != nil {
			continue // an extra run of a cron job: the job's status counts it
		}
		st := control.ServiceStatus{
			Name: s.name(), Type: string(s.cfg.Type), State: string(s.state),
			Ready: (s.state == Running && s.health.status != healthUnhealthy) || s.state == Completed, Essential: s.cfg.Essential,
			Pid: s.pid, StartedAt: s.startedAt, Restarts: s.restarts,
			Health: s.health.status, HealthFailures: s.health.failures, HealthError: s.health.lastError,
			Status: s.notifyStatus, MainPid: s.mainPid(),
		}
		if s.cfg.Cron != nil {
			st.Cron = sv.cronStatus(s)
			snap.metrics.Cron = append(snap.metrics.Cron, cronMetrics(s, st.Cron))
			st.Ready = s.state == Scheduled || s.state.active() // its schedule runs
		}
		if s.cfg.Main {
			st.Type = "main"
		}
		if s.lastExit != nil || s.lastEnd != (time.Time{}) {
			st.LastExit = &control.Exit{Code: s.code, Description: s.lastDescription(), At: s.lastEnd}
		}
		snap.services = append(snap.services, st)
		snap.metrics.Services = append(snap.metrics.Services, s.metrics(st.Ready))
		if !s.cfg.Essential || s.removed {
			continue
		}
		if !st.Ready {
			why := s.name() + " is " + string(s.state)
			if s.state == Running {
				why = s.name() + " is unhealthy"
			}
			notReady = append(notReady, why)
		}
		if s.health.status == healthUnhealthy && s.state == Running {
			unhealthy = append(unhealthy, fmt.Sprintf("%s is unhealthy (%d checks failed in a row, last: %s)", s.name(), s.health.failures, s.health.lastError))
		} else if s.health.failed && s.state.stopping() {
			unhealthy = append(unhealthy, fmt.Sprintf("%s is being stopped: unhealthy (last check: %s)", s.name(), s.health.lastError))
		}
		switch s.state {
		case Backoff:
			unhealthy = append(unhealthy, fmt.Sprintf("%s is restarting (%d restarts, last %s)", s.name(), s.restarts, s.lastDescription()))
		case Failed:
			unhealthy = append(unhealthy, fmt.Sprintf("%s failed (%s)", s.name(), s.lastDescription()))
		}
	}
	if sv.draining() {
		notReady = []string{"uno is draining before the stop"}
	}
	if sv.stopping {
		notReady = []string{"uno is stopping"}
		unhealthy = []string{"uno is stopping"}
	}
	snap.ready, snap.healthy = len(notReady) == 0, len(unhealthy) == 0
	snap.readyWhy = summary("ready", "not ready", notReady, len(sv.services))
	snap.healthWhy = summary("healthy", "unhealthy", unhealthy, len(sv.services))
	sv.snapshot.Store(snap)
	sv.reportUpstream(snap)
}

func summary(good, bad string, problems []string, n int) string {
	if len(problems) == 0 {
		return fmt.Sprintf("%s: %d services", good, n)
	}
	return bad + ": " + strings.Join(problems, "; ")
}

func (s *service) lastDescription() string {
	switch {
	case s.notReady:
		return "not ready in time"
	case s.unhealthyEnd != "":
		return "unhealthy: " + s.unhealthyEnd
	case s.lastExit != nil:
		return s.lastExit.String()
	case s.code != 0:
		return fmt.Sprintf("could not start (status %d)", s.code)
	}
	return "none"
}

// backend answers the control socket for the supervisor.
type backend struct{ sv *Supervisor }

func (b backend) Status(names []string) ([]control.ServiceStatus, error) {
	snap := b.sv.snapshot.Load()
	if len(names) == 0 {
		return withUptime(snap.services), nil
	}
	var out []control.ServiceStatus
	for _, name := range names {
		i := slices.IndexFunc(snap.services, func(s control.ServiceStatus) bool { return s.Name == name })
		if i < 0 {
			return nil, unknownService(name, snap)
		}
		out = append(out, snap.services[i])
	}
	return withUptime(out), nil
}

func withUptime(services []control.ServiceStatus) []control.ServiceStatus {
	out := slices.Clone(services)
	for i := range out {
		if out[i].Pid != 0 && !out[i].StartedAt.IsZero() {
			out[i].UptimeSeconds = time.Since(out[i].StartedAt).Seconds()
		}
	}
	return out
}

func unknownService(name string, snap *snapshot) error {
	var known []string
	for _, s := range snap.services {
		known = append(known, s.Name)
	}
	return fmt.Errorf("unknown service %q (services: %s)", name, strings.Join(known, ", "))
}

func (b backend) Ready() (bool, string) {
	snap := b.sv.snapshot.Load()
	return snap.ready, snap.readyWhy
}

func (b backend) Health() (bool, string) {
	snap := b.sv.snapshot.Load()
	return snap.healthy, snap.healthWhy
}

func (b backend) Metrics() []byte {
	return b.sv.renderMetrics(b.sv.snapshot.Load())
}

func (b backend) Logs(name string, n int) ([][]byte, error) {
	if err := b.known(name); err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 1 << 30
	}
	return b.sv.mux.Tail(name, n), nil
}

func (b backend) LogFileTail(name string, n int) ([][]byte, error) {
	if err := b.known(name); err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 1 << 30
	}
	return b.sv.mux.FileTail(name, n)
}

func (b backend) ReopenLogs(names []string) (string, error) {
	for _, name := range names {
		if err := b.known(name); err != nil {
			return "", err
		}
	}
	n := b.sv.mux.Reopen(names)
	return fmt.Sprintf("reopened %d log files", n), nil
}

func (b backend) Follow(name string) (<-chan []byte, func(), error) {
	if err := b.known(name); err != nil {
		return nil, nil, err
	}
	lines, cancel := b.sv.mux.Subscribe(name)
	return lines, cancel, nil
}

func (b backend) known(name string) error {
	snap := b.sv.snapshot.Load()
	if !slices.ContainsFunc(snap.services, func(s control.ServiceStatus) bool { return s.Name == name }) {
		return unknownService(name, snap)
	}
	if name == config.MainName && b.sv.main != nil {
		return errors.New("the main program's output is not captured: it goes to uno's own stdout and stderr")
	}
	return nil
}

func (b backend) Act(ctx context.Context, req control.Request) (string, error) {
	cr := controlRequest{req: req, ctx: ctx, result: make(chan controlResult, 1)}
	select {
	case b.sv.control <- cr:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-cr.result:
		return r.msg, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("still not done: %w", ctx.Err())
	}
}

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
}

// publish records the current state for the control socket's readers.
func (sv *Supervisor) publish() {
	snap := &snapshot{services: make([]control.ServiceStatus, 0, len(sv.services))}
	var notReady, unhealthy []string
	for _, s := range sv.services {
		st := control.ServiceStatus{
			Name: s.name(), Type: string(s.cfg.Type), State: string(s.state),
			Ready: s.state == Running || s.state == Completed, Essential: s.cfg.Essential,
			Pid: s.pid, StartedAt: s.startedAt, Restarts: s.restarts,
		}
		if s.cfg.Main {
			st.Type = "main"
		}
		if s.lastExit != nil || s.lastEnd != (time.Time{}) {
			st.LastExit = &control.Exit{Code: s.code, Description: s.lastDescription(), At: s.lastEnd}
		}
		snap.services = append(snap.services, st)
		if !s.cfg.Essential || s.removed {
			continue
		}
		if !st.Ready {
			notReady = append(notReady, s.name()+" is "+string(s.state))
		}
		switch s.state {
		case Backoff:
			unhealthy = append(unhealthy, fmt.Sprintf("%s is restarting (%d restarts, last %s)", s.name(), s.restarts, s.lastDescription()))
		case Failed:
			unhealthy = append(unhealthy, fmt.Sprintf("%s failed (%s)", s.name(), s.lastDescription()))
		}
	}
	if sv.stopping {
		notReady = []string{"uno is stopping"}
		unhealthy = []string{"uno is stopping"}
	}
	snap.ready, snap.healthy = len(notReady) == 0, len(unhealthy) == 0
	snap.readyWhy = summary("ready", "not ready", notReady, len(sv.services))
	snap.healthWhy = summary("healthy", "unhealthy", unhealthy, len(sv.services))
	sv.snapshot.Store(snap)
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

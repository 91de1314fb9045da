package supervisor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/signals"
)

// This file is the supervisor's side of `uno ctl`: answers read from a snapshot published by the
// supervisor's goroutine after each event, and actions carried out by that goroutine, each
// reported back when done.

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

// controlRequest is an action for the supervisor's goroutine. result receives exactly one value.
type controlRequest struct {
	req    control.Request
	ctx    context.Context
	result chan controlResult
}

type controlResult struct {
	msg string
	err error
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

// waiter is an action under way: done is asked after every event.
type waiter struct {
	cr   controlRequest
	done func() (finished bool, msg string, err error)
}

func (sv *Supervisor) checkWaiters() {
	sv.waiters = slices.DeleteFunc(sv.waiters, func(w *waiter) bool {
		if finished, msg, err := w.done(); finished {
			w.cr.result <- controlResult{msg, err}
			return true
		}
		if sv.stopping && sv.allEnded() {
			w.cr.result <- controlResult{err: errors.New("uno stopped before the action was done")}
			return true
		}
		if w.cr.ctx.Err() != nil {
			return true // the client is gone or gave up; Act reports it
		}
		return false
	})
}

// handleControl starts an action, and answers at once or when it is done.
func (sv *Supervisor) handleControl(cr controlRequest) {
	answer := func(msg string, err error) { cr.result <- controlResult{msg, err} }
	req := cr.req
	if req.Command == control.CmdReload {
		answer(sv.reload())
		return
	}
	if len(req.Names) == 0 {
		answer("", fmt.Errorf("%s: name at least one service", req.Command))
		return
	}
	if sv.stopping {
		answer("", errors.New("uno is stopping the container"))
		return
	}
	var targets []*service
	for _, name := range req.Names {
		s := sv.byName[name]
		if s == nil || s.removed {
			answer("", unknownService(name, sv.snapshot.Load()))
			return
		}
		if s.cfg.Main && req.Command != control.CmdSignal {
			answer("", fmt.Errorf("%s is the main program: it is the container's own life; stop the container instead", name))
			return
		}
		targets = append(targets, s)
	}
	var done func() (bool, string, error)
	switch req.Command {
	case control.CmdSignal:
		sig, err := signals.Parse(req.Signal)
		if err != nil {
			answer("", err)
			return
		}
		for _, s := range targets {
			if !s.state.active() {
				answer("", fmt.Errorf("%s is not running (%s)", s.name(), s.state))
				return
			}
		}
		for _, s := range targets {
			sv.forward(s, sig)
		}
		answer(fmt.Sprintf("sent %s to %s", signals.Name(sig), names(targets)), nil)
		return
	case control.CmdStop:
		done = sv.operatorStop(targets)
	case control.CmdStart:
		done = sv.operatorStart(targets, false)
	case control.CmdRestart:
		done = sv.operatorStart(targets, true)
	default:
		answer("", fmt.Errorf("unknown command %q", req.Command))
		return
	}
	if req.NoWait {
		answer(req.Command+" under way: "+names(targets), nil)
		return
	}
	sv.waiters = append(sv.waiters, &waiter{cr: cr, done: done})
}

// operatorStop stops targets and, first, every running service that depends on them.
func (sv *Supervisor) operatorStop(targets []*service) func() (bool, string, error) {
	set := sv.withDependents(targets)
	for _, s := range set {
		s.held = true
		s.restartPending = false
		sv.stopSet[s] = true
	}
	sv.stopNext()
	return func() (bool, string, error) {
		for _, s := range set {
			if !s.ended() {
				return false, "", nil
			}
		}
		return true, "stopped " + names(set), nil
	}
}

// operatorStart starts targets and whatever they need; with restart, running targets are
// stopped first (their dependents keep running).
func (sv *Supervisor) operatorStart(targets []*service, restart bool) func() (bool, string, error) {
	// A target counts as started when a run later than the current one is running and ready,
	// or, for a start of a service already running or starting, when that run is.
	runs := map[*service]int{}
	current := map[*service]bool{}
	for _, s := range targets {
		runs[s] = s.run
		current[s] = !restart && s.state.active()
	}
	for _, s := range sv.withDependencies(targets) {
		named := slices.Contains(targets, s)
		s.held = false
		delete(sv.stopSet, s)
		switch {
		case s.state.active() && named && restart:
			s.restartPending = true
			if s.state != Stopping {
				sv.stop(s, s.cfg.StopSignal)
			}
		case s.state == Stopping:
			s.restartPending = true // an operator's stop under way: start again after it
			current[s] = false
		case s.state == Completed && !named:
			// A completed dependency is satisfied: it does not run again.
		case s.ended() || s.state == Backoff:
			sv.rearm(s)
		}
	}
	sv.startWaiting()
	verb := "started"
	if restart {
		verb = "restarted"
	}
	return func() (bool, string, error) {
		for _, s := range targets {
			switch s.state {
			case Running, Completed:
				if !current[s] && s.run == runs[s] {
					return false, "", nil // still the run from before the request
				}
			case Failed, Exited, Stopped:
				// Every target was made to wait or run by the request, so an end state now is
				// this request's outcome: a failed start, or a dependency that failed.
				return true, "", fmt.Errorf("%s did not start: %s (%s)", s.name(), s.state, s.lastDescription())
			default:
				return false, "", nil
			}
		}
		return true, verb + " " + names(targets), nil
	}
}

// rearm makes an ended service start again from scratch when its dependencies allow.
func (sv *Supervisor) rearm(s *service) {
	sv.cancelRestart(s)
	s.state = Waiting
	s.restartPending = false
	s.notReady = false
	s.failures = nil
	s.delay = s.cfg.RestartDelay
}

func (sv *Supervisor) cancelRestart(s *service) {
	if s.restartAt != nil {
		s.restartAt.Stop()
		s.restartAt = nil
	}
}

func (sv *Supervisor) anyHeld() bool {
	return slices.ContainsFunc(sv.services, func(s *service) bool { return s.held })
}

// withDependents returns targets and every service that depends on them, directly or not.
func (sv *Supervisor) withDependents(targets []*service) []*service {
	return closure(targets, func(s *service) []*service { return sv.dependents[s] })
}

// withDependencies returns targets and every service they depend on, directly or not.
func (sv *Supervisor) withDependencies(targets []*service) []*service {
	return closure(targets, func(s *service) []*service {
		var deps []*service
		for _, d := range s.cfg.DependsOn {
			if dep := sv.byName[d.Name]; dep != nil {
				deps = append(deps, dep)
			}
		}
		return deps
	})
}

func closure(start []*service, next func(*service) []*service) []*service {
	seen := map[*service]bool{}
	var out []*service
	var visit func(*service)
	visit = func(s *service) {
		if seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		for _, n := range next(s) {
			visit(n)
		}
	}
	for _, s := range start {
		visit(s)
	}
	return out
}

func names(services []*service) string {
	var out []string
	for _, s := range services {
		out = append(out, s.name())
	}
	return strings.Join(out, ", ")
}

// reload reads the configuration again and applies the difference: changed services restart
// with their new definition, new ones start, removed ones stop, the rest is left alone. An
// invalid configuration changes nothing.
func (sv *Supervisor) reload() (string, error) {
	if sv.opts.Reload == nil {
		return "", errors.New("reload: uno was not started with a configuration file")
	}
	if sv.stopping {
		return "", errors.New("reload: uno is stopping the container")
	}
	cfg, err := sv.opts.Reload()
	if err != nil {
		return "", fmt.Errorf("configuration not reloaded, the running services are unchanged: %w", err)
	}
	var changed, added, removed []string
	keep := map[string]bool{}
	for _, c := range cfg.Services {
		if c.Main {
			continue
		}
		keep[c.Name] = true
		s := sv.byName[c.Name]
		switch {
		case s == nil:
			s = &service{cfg: c, state: Waiting, delay: c.RestartDelay}
			sv.services = append(sv.services, s)
			sv.byName[c.Name] = s
			added = append(added, c.Name)
		case sameDefinition(s.cfg, c):
			s.cfg = c
		default:
			changed = append(changed, c.Name)
			s.cfg = c
			s.held = false
			if s.state.active() {
				s.restartPending = true
				if s.state != Stopping {
					sv.stop(s, s.cfg.StopSignal)
				}
			} else if s.state != Completed {
				sv.rearm(s)
			} else {
				sv.rearm(s) // a changed oneshot runs again
			}
		}
	}
	for _, s := range slices.Clone(sv.services) {
		if s.cfg.Main || keep[s.name()] {
			continue
		}
		removed = append(removed, s.name())
		s.removed = true
		s.restartPending = false
		if s.state.active() {
			if s.state != Stopping {
				sv.stop(s, s.cfg.StopSignal)
			}
		} else {
			sv.forget(s)
		}
	}
	sv.opts.Config.Grace = cfg.Grace
	sv.relink(cfg)
	sv.startWaiting()
	msg := fmt.Sprintf("configuration reloaded: %d changed, %d added, %d removed", len(changed), len(added), len(removed))
	for _, part := range []struct {
		what  string
		names []string
	}{{"changed", changed}, {"added", added}, {"removed", removed}} {
		if len(part.names) > 0 {
			msg += "; " + part.what + ": " + strings.Join(part.names, ", ")
		}
	}
	return msg, nil
}

// sameDefinition compares two definitions of a service, ignoring where they were written.
func sameDefinition(a, b *config.Service) bool {
	strip := func(s *config.Service) config.Service {
		c := *s
		c.File, c.Line, c.CommandLine = "", 0, 0
		if c.Ready != nil {
			r := *c.Ready
			r.Line = 0
			c.Ready = &r
		}
		c.DependsOn = slices.Clone(c.DependsOn)
		for i := range c.DependsOn {
			c.DependsOn[i].Line = 0
		}
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// relink puts the services back in start order and rebuilds who depends on whom, after a reload.
func (sv *Supervisor) relink(cfg *config.Config) {
	order := map[string]int{}
	for i, c := range cfg.StartOrder() {
		order[c.Name] = i
	}
	slices.SortStableFunc(sv.services, func(a, b *service) int {
		ia, oka := order[a.name()]
		ib, okb := order[b.name()]
		switch {
		case a.cfg.Main != b.cfg.Main:
			if a.cfg.Main {
				return 1
			}
			return -1
		case oka && okb:
			return ia - ib
		case !oka && okb:
			return 1
		case oka && !okb:
			return -1
		}
		return 0
	})
	sv.dependents = map[*service][]*service{}
	for _, s := range sv.services {
		if s.removed {
			continue
		}
		for _, d := range s.cfg.DependsOn {
			if dep := sv.byName[d.Name]; dep != nil {
				sv.dependents[dep] = append(sv.dependents[dep], s)
			}
		}
	}
}

// forget drops a service a reload removed, once it no longer runs.
func (sv *Supervisor) forget(s *service) {
	sv.cancelRestart(s)
	sv.services = slices.DeleteFunc(sv.services, func(x *service) bool { return x == s })
	delete(sv.byName, s.name())
	delete(sv.stopSet, s)
	if s.notifier != nil {
		s.notifier.Close()
		s.notifier = nil
	}
}

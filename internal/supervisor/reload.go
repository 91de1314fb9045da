package supervisor

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/uno-init/uno/internal/config"
)

// This file reloads the configuration: it works out what changed and applies it over the
// dependency graph.

// reloadPlan is what a reload does, worked out over the dependency graph before anything is
// touched, so that it can be shown (uno ctl reload --dry-run) and refused whole.
type reloadPlan struct {
	cfg *config.Config
	// added start; changed restart with their new definition; removed stop and are forgotten.
	added, changed, removed []string
	// restarted run and depend, directly or not, on a changed service: they stop before it
	// and start again after it, as a shutdown and a start would order them.
	restarted []string
}

func (p *reloadPlan) String() string {
	msg := fmt.Sprintf("%d changed, %d added, %d removed", len(p.changed), len(p.added), len(p.removed))
	for _, part := range []struct {
		what  string
		names []string
	}{{"changed", p.changed}, {"added", p.added}, {"removed", p.removed}, {"restarted with what they depend on", p.restarted}} {
		if len(part.names) > 0 {
			msg += "; " + part.what + ": " + strings.Join(part.names, ", ")
		}
	}
	return msg
}

// reload reads the configuration again and applies the difference: changed services restart
// with their new definition (their running dependents with them), new ones start, removed ones
// stop, the rest is left alone. An invalid configuration, or a plan that would leave a service
// depending on one that is gone, changes nothing. With dryRun it only says what it would do.
func (sv *Supervisor) reload(dryRun bool) (string, error) {
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
	plan, err := sv.planReload(cfg)
	if err != nil {
		return "", fmt.Errorf("configuration not reloaded, the running services are unchanged: %w", err)
	}
	if dryRun {
		return "reload would do: " + plan.String(), nil
	}
	sv.applyReload(plan)
	return "configuration reloaded: " + plan.String(), nil
}

// planReload compares cfg with the services as they run.
func (sv *Supervisor) planReload(cfg *config.Config) (*reloadPlan, error) {
	p := &reloadPlan{cfg: cfg}
	keep := map[string]bool{}
	var changed []*service
	for _, c := range cfg.Services {
		keep[c.Name] = true
		if c.Main {
			continue
		}
		switch s := sv.byName[c.Name]; {
		case s == nil:
			p.added = append(p.added, c.Name)
		case s.removed:
			// Removed by an earlier reload and still stopping: it comes back, with this
			// definition, once that stop ends.
			p.added = append(p.added, c.Name)
		case !sameDefinition(s.cfg, c):
			p.changed = append(p.changed, c.Name)
			changed = append(changed, s)
		}
	}
	for _, s := range sv.services {
		if !s.cfg.Main && !keep[s.name()] && (s.job == nil || s.job.parent == nil) {
			p.removed = append(p.removed, s.name())
		}
	}
	// Every dependency must name a service of the new set: the configuration was checked, but
	// the main program's come from the command line, and a dangling one would stop uno.
	for _, c := range cfg.Services {
		for _, d := range c.DependsOn {
			if !keep[d.Name] {
				return nil, fmt.Errorf("%s would depend on %s, which is not in the configuration", c.Name, d.Name)
			}
		}
	}
	for _, d := range sv.withDependents(changed) {
		if !slices.Contains(changed, d) && !d.cfg.Main && keep[d.name()] && d.state.active() {
			p.restarted = append(p.restarted, d.name())
		}
	}
	return p, nil
}

// applyReload carries a plan out: the new definitions take effect, and stops go through
// stopNext, so they keep reverse dependency order.
func (sv *Supervisor) applyReload(p *reloadPlan) {
	for _, c := range p.cfg.Services {
		s := sv.byName[c.Name]
		switch {
		case c.Main && s != nil:
			// The main program is not restarted, but what it waits for is the new set's.
			s.cfg = c
		case s == nil:
			s = &service{cfg: c, state: Waiting, delay: c.RestartDelay}
			sv.services = append(sv.services, s)
			sv.byName[c.Name] = s
		case s.removed:
			s.cfg = c
			s.removed = false
			s.restartPending = true
		default:
			s.cfg = c
		}
	}
	for _, name := range append(slices.Clone(p.changed), p.restarted...) {
		s := sv.byName[name]
		s.held = false
		if s.state.active() && sv.letRunFinish(s) {
			continue
		}
		if s.state.active() {
			s.restartPending = true
			sv.stopSet[s] = true
		} else {
			sv.rearm(s) // a changed oneshot, or a service that had ended, runs again
		}
	}
	for _, name := range p.removed {
		s := sv.byName[name]
		s.removed = true
		s.restartPending = false
		sv.stopExtraRuns([]*service{s}) // a removed allow job's runs go with it
		if s.state.active() {
			sv.stopSet[s] = true
		} else {
			sv.forget(s)
		}
	}
	sv.opts.Config = p.cfg
	sv.relink(p.cfg)
	sv.stopNext()
	sv.startWaiting()
}

// sameDefinition compares two definitions of a service, ignoring where they were written.
func sameDefinition(a, b *config.Service) bool {
	strip := func(s *config.Service) config.Service {
		c := *s
		c.File, c.Line, c.CommandLine = "", 0, 0
		if c.Health != nil {
			h := *c.Health
			h.Line = 0
			c.Health = &h
		}
		if c.Ready != nil {
			r := *c.Ready
			r.Line = 0
			c.Ready = &r
		}
		if c.Cron != nil {
			// The zone is compared by name: each load makes a new *time.Location.
			cr := *c.Cron
			cr.Line, cr.Location = 0, nil
			c.Cron = &cr
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
	// Its ring of output would otherwise stay for as long as uno runs; its followers end.
	sv.mux.Forget(s.name())
}

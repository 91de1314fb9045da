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
				if !s.state.stopping() {
					sv.stop(s, s.stopSignal())
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
			if !s.state.stopping() {
				sv.stop(s, s.stopSignal())
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

// The dependency graph: depends_on decoded, then checked across all services (unknown names,
// conditions, cycles), and the order in which services start.

package config

import (
	"slices"
	"strings"
)

// dependsOn reads { name = "condition", ... } or [ "name", ... ] (conditions then chosen by
// validate from what each dependency is).
func (l *loader) dependsOn(file, key string, n *node) []Dependency {
	var deps []Dependency
	defer func() {
		seen := map[string]bool{}
		for _, d := range deps {
			if seen[d.Name] {
				l.errorf(file, d.Line, key, "%q is listed twice", d.Name)
			}
			seen[d.Name] = true
		}
	}()
	switch n.kind {
	case kindArray:
		for _, e := range n.array {
			if e.kind != kindString {
				l.wrongType(file, key, e, "service names")
				return nil
			}
			deps = append(deps, Dependency{Name: e.str, Line: e.line})
		}
	case kindTable:
		for _, name := range n.table.keys {
			v := n.table.get(name)
			cond := l.oneOf(file, key+"."+keyName(name), v, string(Started), string(Ready), string(Completed))
			deps = append(deps, Dependency{Name: name, Condition: Condition(cond), Line: v.line})
		}
	default:
		l.wrongType(file, key, n, `a table such as { db = "ready" } or an array of names`)
	}
	return deps
}

// validate checks what needs every service: dependencies and their conditions, and cycles.
func (l *loader) validate(cfg *Config) {
	for _, s := range cfg.Services {
		for i := range s.DependsOn {
			d := &s.DependsOn[i]
			key := "services." + keyName(s.Name) + ".depends_on"
			dep := cfg.Service(d.Name)
			switch {
			case dep == nil:
				l.errorf(s.File, d.Line, key, "unknown service %q", d.Name)
				continue
			case dep == s:
				l.errorf(s.File, d.Line, key, "a service cannot depend on itself")
				continue
			case dep.Type == Cron:
				l.errorf(s.File, d.Line, key, "%q is a cron job: it runs on a clock, so nothing can wait for it", d.Name)
				continue
			case d.Condition == "":
				d.Condition = DefaultCondition(dep)
			case d.Condition == Completed && dep.Type != Oneshot:
				l.errorf(s.File, d.Line, key+"."+keyName(d.Name), "%q is not a oneshot service, so it never completes: use \"started\" or \"ready\"", d.Name)
			}
		}
	}
	if len(l.errs) > 0 {
		return
	}
	if cycle := findCycle(cfg); cycle != nil {
		first := cycle[0]
		names := make([]string, len(cycle))
		for i, s := range cycle {
			names[i] = s.Name
		}
		line := first.Line
		for _, d := range first.DependsOn {
			if d.Name == cycle[1].Name {
				line = d.Line
			}
		}
		l.errorf(first.File, line, "services."+keyName(first.Name)+".depends_on", "dependency cycle: %s", strings.Join(names, " -> "))
	}
}

// DefaultCondition is what a dependent waits for when depends_on only names dep: a oneshot's
// completion, a readiness check's success, or else the start of its process.
func DefaultCondition(dep *Service) Condition {
	switch {
	case dep.Type == Oneshot:
		return Completed
	case dep.Ready != nil:
		return Ready
	}
	return Started
}

// findCycle returns a dependency cycle as a path whose first and last elements are the same
// service, or nil.
func findCycle(cfg *Config) []*Service {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[*Service]int{}
	var path []*Service
	var visit func(s *Service) []*Service
	visit = func(s *Service) []*Service {
		switch state[s] {
		case visiting:
			i := slices.Index(path, s)
			return append(slices.Clone(path[i:]), s)
		case done:
			return nil
		}
		state[s] = visiting
		path = append(path, s)
		for _, d := range s.DependsOn {
			if c := visit(cfg.Service(d.Name)); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[s] = done
		return nil
	}
	for _, s := range cfg.Services {
		if c := visit(s); c != nil {
			return c
		}
	}
	return nil
}

// StartOrder returns the services in an order in which each comes after all it depends on,
// keeping the order of definition where dependencies allow.
func (c *Config) StartOrder() []*Service {
	placed := map[string]bool{}
	var order []*Service
	// Each step takes the first service, in definition order, whose dependencies are all
	// placed, and starts again from the top: taking every such service in one sweep would put
	// a later independent service before an earlier one that just became free.
	for len(order) < len(c.Services) {
		next := slices.IndexFunc(c.Services, func(s *Service) bool {
			if placed[s.Name] {
				return false
			}
			for _, d := range s.DependsOn {
				if !placed[d.Name] {
					return false
				}
			}
			return true
		})
		if next < 0 {
			break // a cycle; Load rejects those
		}
		placed[c.Services[next].Name] = true
		order = append(order, c.Services[next])
	}
	return order
}

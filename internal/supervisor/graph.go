package supervisor

import "strings"

// This file answers questions about the dependency graph between services.

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

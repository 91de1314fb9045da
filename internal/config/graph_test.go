package config

import (
	"slices"
	"testing"
)

func TestLoadDependsOn(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": `[services.app]
command = "app"
depends_on = [
  "db",
  "init",
  "log",
]
[services.web]
command = "web"
depends_on = { db = "started", init = "completed", log = "ready" }
[services.db]
command = "postgres"
ready = { tcp = "127.0.0.1:5432" }
[services.init]
type = "oneshot"
command = "init"
[services.log]
command = "logd"
`})
	// Named only, each dependency gets its natural condition: a oneshot's completion, the
	// readiness of a service with a check, the start of any other.
	wantApp := []Dependency{{"db", Ready, 4}, {"init", Completed, 5}, {"log", Started, 6}}
	if got := cfg.Service("app").DependsOn; !slices.Equal(got, wantApp) {
		t.Errorf("app depends on %+v, want %+v", got, wantApp)
	}
	// Conditions given are kept; "ready" on a service without a check is its start.
	wantWeb := []Dependency{{"db", Started, 10}, {"init", Completed, 10}, {"log", Ready, 10}}
	if got := cfg.Service("web").DependsOn; !slices.Equal(got, wantWeb) {
		t.Errorf("web depends on %+v, want %+v", got, wantWeb)
	}
	if got := serviceNames(cfg.StartOrder()); !slices.Equal(got, []string{"db", "init", "log", "app", "web"}) {
		t.Errorf("start order %q", got)
	}
}

func TestStartOrder(t *testing.T) {
	svc := func(name string, deps ...string) *Service {
		s := &Service{Name: name}
		for _, d := range deps {
			s.DependsOn = append(s.DependsOn, Dependency{Name: d})
		}
		return s
	}
	tests := []struct {
		name     string
		services []*Service
		want     []string
	}{
		{"no dependencies: definition order", []*Service{svc("c"), svc("a"), svc("b")}, []string{"c", "a", "b"}},
		{"chain defined backwards", []*Service{svc("web", "api"), svc("api", "db"), svc("db")}, []string{"db", "api", "web"}},
		// c waits for b only: once b is placed, c comes before a, as it was defined.
		{"definition order where dependencies allow", []*Service{svc("c", "b"), svc("b"), svc("a")}, []string{"b", "c", "a"}},
		{"diamond", []*Service{svc("top", "left", "right"), svc("left", "base"), svc("right", "base"), svc("base")}, []string{"base", "left", "right", "top"}},
		{"independent services keep their places", []*Service{svc("x"), svc("app", "db"), svc("y"), svc("db"), svc("z")}, []string{"x", "y", "db", "app", "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{Services: tt.services}
			if got := serviceNames(cfg.StartOrder()); !slices.Equal(got, tt.want) {
				t.Errorf("start order %q, want %q", got, tt.want)
			}
		})
	}
}

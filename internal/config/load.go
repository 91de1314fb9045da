package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/signals"
)

// DefaultFile is the configuration uno reads when it is started with neither a program nor -c.
const DefaultFile = "/etc/uno/uno.toml"

// ServicesDir is the directory beside the configuration file whose *.toml files each add one
// service, named by the file, so that each image layer can add a service.
const ServicesDir = "services.d"

var serviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Load reads the configuration file at path and the services.d directory beside it. environ is
// the environment the services inherit (uno's own). All errors found are returned, joined.
func Load(path string, environ []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", unwrapPath(err, path))
	}
	name := path
	root, err := parseTree(name, data)
	if err != nil {
		return nil, err
	}
	l := &loader{environ: environ, dir: filepath.Dir(path)}
	cfg := &Config{File: path, Grace: DefaultGrace, LogFormat: "text"}

	l.known(name, "", root, "uno", "services")
	if n := root.get("uno"); n != nil {
		if t := l.table(name, "uno", n); t != nil {
			l.known(name, "uno.", t, "grace", "log_format")
			if v := t.get("grace"); v != nil {
				cfg.Grace = l.duration(name, "uno.grace", v, cfg.Grace)
			}
			if v := t.get("log_format"); v != nil {
				cfg.LogFormat = l.oneOf(name, "uno.log_format", v, "text", "json")
			}
		}
	}
	if n := root.get("services"); n != nil {
		if t := l.table(name, "services", n); t != nil {
			for _, svcName := range t.keys {
				v := t.get(svcName)
				key := "services." + keyName(svcName)
				st := l.table(name, key, v)
				if st == nil {
					continue
				}
				if !serviceName.MatchString(svcName) {
					l.errorf(name, v.line, key, "invalid service name: use letters, digits, '_', '.' and '-'")
					continue
				}
				if svcName == MainName {
					l.errorf(name, v.line, key, "the name %s is reserved for the program given on the command line", MainName)
					continue
				}
				cfg.Services = append(cfg.Services, l.service(cfg, name, svcName, v.line, st))
			}
		}
	}
	l.servicesDir(cfg, name)
	if len(l.errs) == 0 && len(cfg.Services) == 0 {
		l.errorf(name, 0, "", "no services defined")
	}
	if len(l.errs) == 0 {
		l.validate(cfg)
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg.Warnings = l.warnings
	return cfg, nil
}

// servicesDir adds one service for each services.d/NAME.toml, in name order.
func (l *loader) servicesDir(cfg *Config, mainFile string) {
	dir := filepath.Join(l.dir, ServicesDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("cannot read %s: %w", dir, unwrapPath(err, dir)))
		return
	}
	for _, e := range entries {
		svcName, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		key := "services." + keyName(svcName)
		if !serviceName.MatchString(svcName) {
			l.errorf(file, 0, key, "invalid service name: use letters, digits, '_', '.' and '-'")
			continue
		}
		if prev := cfg.Service(svcName); prev != nil {
			l.errorf(file, 0, key, "already defined in %s:%d", prev.File, prev.Line)
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("cannot read %s: %w", file, unwrapPath(err, file)))
			continue
		}
		t, err := parseTree(file, data)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		cfg.Services = append(cfg.Services, l.service(cfg, file, svcName, 1, t))
	}
}

// loader decodes the tree, collecting every error rather than stopping at the first, so that
// one run of `uno check` shows them all.
type loader struct {
	environ  []string
	dir      string
	errs     []error
	warnings []string
}

func (l *loader) errorf(file string, line int, key, format string, args ...any) {
	l.errs = append(l.errs, &PosError{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// known reports every key of t that is not one of allowed.
func (l *loader) known(file, prefix string, t *table, allowed ...string) {
	for _, k := range t.keys {
		if !slices.Contains(allowed, k) {
			l.errorf(file, t.get(k).line, prefix+keyName(k), "unknown key (known: %s)", strings.Join(allowed, ", "))
		}
	}
}

func (l *loader) wrongType(file, key string, n *node, want string) {
	l.errorf(file, n.line, key, "want %s, got %s", want, n.kind)
}

func (l *loader) table(file, key string, n *node) *table {
	if n.kind != kindTable {
		l.wrongType(file, key, n, "a table")
		return nil
	}
	return n.table
}

func (l *loader) str(file, key string, n *node) (string, bool) {
	if n.kind != kindString {
		l.wrongType(file, key, n, "a string")
		return "", false
	}
	return n.str, true
}

func (l *loader) boolean(file, key string, n *node, def bool) bool {
	if n.kind != kindBool {
		l.wrongType(file, key, n, "true or false")
		return def
	}
	return n.bool
}

func (l *loader) integer(file, key string, n *node, def int) int {
	if n.kind != kindInteger || n.num < 0 || n.num > 1<<31 {
		l.errorf(file, n.line, key, "want a non-negative integer")
		return def
	}
	return int(n.num)
}

// strings reads a string or an array of strings.
func (l *loader) strings(file, key string, n *node) []string {
	if n.kind == kindString {
		return []string{n.str}
	}
	if n.kind != kindArray {
		l.wrongType(file, key, n, "a string or an array of strings")
		return nil
	}
	out := make([]string, 0, len(n.array))
	for _, e := range n.array {
		if e.kind != kindString {
			l.wrongType(file, key, e, "strings in the array")
			return nil
		}
		out = append(out, e.str)
	}
	return out
}

// scalar reads an environment value: strings, and numbers and booleans as written.
func (l *loader) scalar(file, key string, n *node) (string, bool) {
	switch n.kind {
	case kindString:
		return n.str, true
	case kindInteger:
		return strconv.FormatInt(n.num, 10), true
	case kindFloat:
		return strconv.FormatFloat(n.float, 'g', -1, 64), true
	case kindBool:
		return strconv.FormatBool(n.bool), true
	}
	l.wrongType(file, key, n, "a string, number or boolean")
	return "", false
}

func (l *loader) oneOf(file, key string, n *node, allowed ...string) string {
	s, ok := l.str(file, key, n)
	if !ok {
		return allowed[0]
	}
	if !slices.Contains(allowed, s) {
		l.errorf(file, n.line, key, "want one of %s, got %q", strings.Join(allowed, ", "), s)
		return allowed[0]
	}
	return s
}

// maxSeconds is the longest duration, in seconds, that time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// duration reads "1m30s", "250ms" or a number of seconds.
func (l *loader) duration(file, key string, n *node, def time.Duration) time.Duration {
	var d time.Duration
	switch n.kind {
	case kindString:
		var err error
		if d, err = time.ParseDuration(n.str); err != nil {
			l.errorf(file, n.line, key, "want a duration such as \"10s\" or \"250ms\", got %q", n.str)
			return def
		}
	case kindInteger:
		// Checked before multiplying: a large count of seconds would wrap around silently.
		if n.num > maxSeconds || n.num < -maxSeconds {
			l.errorf(file, n.line, key, "%d seconds is out of range", n.num)
			return def
		}
		d = time.Duration(n.num) * time.Second
	case kindFloat:
		// nan, inf and huge values convert to arbitrary durations rather than failing.
		if math.IsNaN(n.float) || math.Abs(n.float) >= float64(maxSeconds) {
			l.errorf(file, n.line, key, "%v seconds is out of range", n.float)
			return def
		}
		d = time.Duration(n.float * float64(time.Second))
	default:
		l.wrongType(file, key, n, "a duration")
		return def
	}
	if d < 0 {
		l.errorf(file, n.line, key, "must not be negative")
		return def
	}
	return d
}

var serviceKeys = []string{
	"type", "command", "depends_on", "user", "group", "groups", "working_dir", "env", "env_file",
	"ready", "restart", "restart_delay", "restart_delay_max", "restart_reset_after", "restart_limit",
	"restart_window", "stop_signal", "stop_timeout", "essential", "log_prefix",
}

// service decodes one service's table.
func (l *loader) service(cfg *Config, file, name string, line int, t *table) *Service {
	prefix := "services." + keyName(name) + "."
	key := func(k string) string { return prefix + k }
	s := &Service{
		Name: name, File: file, Line: line,
		Type:              Simple,
		Restart:           RestartNo,
		RestartDelay:      DefaultRestartDelay,
		RestartDelayMax:   DefaultRestartDelayMax,
		RestartResetAfter: DefaultRestartResetAfter,
		RestartLimit:      DefaultRestartLimit,
		RestartWindow:     DefaultRestartWindow,
		StopSignal:        syscall.SIGTERM,
		StopTimeout:       cfg.Grace,
		Essential:         true,
		LogPrefix:         true,
	}
	l.known(file, prefix, t, serviceKeys...)
	get := t.get

	if v := get("type"); v != nil {
		s.Type = Type(l.oneOf(file, key("type"), v, string(Simple), string(Oneshot)))
	}

	// The environment first: command, working_dir and ready expand against it.
	env := newEnv(l.environ)
	// The user's HOME, USER and LOGNAME go in before env_file and env, so that those can still
	// set them and refer to them.
	if v := get("user"); v != nil {
		s.User = l.user(file, prefix, v, get("group"), get("groups"))
		if s.User != nil {
			// As login(1) and su(1) do, so that programs find the user's home and name.
			env.set("HOME", s.User.Home)
			env.set("USER", s.User.Name)
			env.set("LOGNAME", s.User.Name)
		}
	} else if g := get("group"); g != nil {
		l.errorf(file, g.line, key("group"), "needs user")
	} else if g := get("groups"); g != nil {
		l.errorf(file, g.line, key("groups"), "needs user")
	}
	if v := get("env_file"); v != nil {
		for _, f := range l.strings(file, key("env_file"), v) {
			path, err := Expand(f, env.lookup)
			if err != nil {
				l.errorf(file, v.line, key("env_file"), "%v", err)
				continue
			}
			l.envFile(file, key("env_file"), v.line, path, env)
		}
	}
	if v := get("env"); v != nil {
		if et := l.table(file, key("env"), v); et != nil {
			for _, k := range et.keys {
				ev := et.get(k)
				if !envName.MatchString(k) {
					l.errorf(file, ev.line, key("env."+keyName(k)), "invalid variable name")
					continue
				}
				if raw, ok := l.scalar(file, key("env."+keyName(k)), ev); ok {
					env.set(k, l.expand(file, key("env."+keyName(k)), ev.line, raw, env))
				}
			}
		}
	}

	if v := get("command"); v != nil {
		s.Command = l.command(file, key("command"), v, env)
		s.CommandLine = v.line
	} else {
		l.errorf(file, line, prefix[:len(prefix)-1], "command is required")
	}
	if v := get("working_dir"); v != nil {
		if dir, ok := l.str(file, key("working_dir"), v); ok {
			s.Dir = l.expand(file, key("working_dir"), v.line, dir, env)
			if !filepath.IsAbs(s.Dir) {
				l.errorf(file, v.line, key("working_dir"), "must be an absolute path, got %q", s.Dir)
			}
		}
	}
	if v := get("depends_on"); v != nil {
		s.DependsOn = l.dependsOn(file, key("depends_on"), v)
	}
	if v := get("ready"); v != nil {
		s.Ready = l.ready(file, key("ready"), v, env)
	}
	if v := get("restart"); v != nil {
		s.Restart = RestartPolicy(l.oneOf(file, key("restart"), v, string(RestartNo), string(RestartOnFailure), string(RestartAlways)))
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"restart_delay", &s.RestartDelay},
		{"restart_delay_max", &s.RestartDelayMax},
		{"restart_reset_after", &s.RestartResetAfter},
		{"restart_window", &s.RestartWindow},
		{"stop_timeout", &s.StopTimeout},
	}
	for _, d := range durations {
		if v := get(d.name); v != nil {
			*d.dst = l.duration(file, key(d.name), v, *d.dst)
		}
	}
	s.stopTimeoutSet = get("stop_timeout") != nil
	if v := get("restart_delay_max"); v != nil && s.RestartDelayMax < s.RestartDelay {
		l.errorf(file, v.line, key("restart_delay_max"), "%v is less than restart_delay (%v)", s.RestartDelayMax, s.RestartDelay)
	}
	if v := get("restart_limit"); v != nil {
		s.RestartLimit = l.integer(file, key("restart_limit"), v, s.RestartLimit)
	}
	if v := get("stop_signal"); v != nil {
		// The documentation promises a number too, and stop_signal = 2 is how one writes it.
		if name, ok := l.idSpec(file, key("stop_signal"), v, "a signal name or number"); ok {
			sig, err := signals.Parse(name)
			if err != nil {
				l.errorf(file, v.line, key("stop_signal"), "%v", err)
			} else if sig == syscall.SIGSTOP {
				l.errorf(file, v.line, key("stop_signal"), "SIGSTOP pauses a service, it does not stop it")
			} else {
				s.StopSignal = sig
			}
		}
	}
	if v := get("essential"); v != nil {
		s.Essential = l.boolean(file, key("essential"), v, true)
	}
	if v := get("log_prefix"); v != nil {
		s.LogPrefix = l.boolean(file, key("log_prefix"), v, true)
	}
	s.Env = env.list()
	return s
}

// command reads an argv array, or a string split as a shell would split it (without running one),
// and expands ${VAR} in each word: a value with spaces stays one argument.
func (l *loader) command(file, key string, n *node, env *environment) []string {
	var words []string
	switch n.kind {
	case kindString:
		var err error
		if words, err = SplitCommand(n.str); err != nil {
			l.errorf(file, n.line, key, "%v", err)
			return nil
		}
	case kindArray:
		words = l.strings(file, key, n)
		if words == nil {
			return nil
		}
		if len(words) == 0 || words[0] == "" {
			l.errorf(file, n.line, key, "empty command")
			return nil
		}
	default:
		l.wrongType(file, key, n, "a string or an array of strings")
		return nil
	}
	for i, w := range words {
		words[i] = l.expand(file, key, n.line, w, env)
	}
	// Checked after expansion too: "''" splits, and ["$UNSET"] expands, to an empty program
	// name, which would only fail when the service starts.
	if words[0] == "" {
		l.errorf(file, n.line, key, "empty program name")
		return nil
	}
	return words
}

func (l *loader) expand(file, key string, line int, s string, env *environment) string {
	out, err := expandReporting(s, env.lookup, func(name string) {
		l.warnings = append(l.warnings, (&PosError{File: file, Line: line, Key: key,
			Msg: "$" + name + " is not set and expands to nothing (write $$" + name + " for a literal $" + name + ", or ${" + name + ":-default})"}).Error())
	})
	if err != nil {
		l.errorf(file, line, key, "%v", err)
		return s
	}
	return out
}

// envFile applies the env file at path, already expanded: the Procfile's .env path is a real
// path, in which a $ is no reference.
func (l *loader) envFile(file, key string, line int, path string, env *environment) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		l.errorf(file, line, key, "%v", unwrapPath(err, path))
		return
	}
	vars, err := ParseDotenv(path, data)
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	for _, v := range vars {
		value, err := Expand(v.Value, env.lookup)
		if err != nil {
			l.errs = append(l.errs, &PosError{File: path, Line: v.Line, Key: v.Name, Msg: err.Error()})
			continue
		}
		env.set(v.Name, value)
	}
}

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

var readyKinds = []string{string(ReadyHTTP), string(ReadyTCP), string(ReadyExec), string(ReadyFile), string(ReadyNotify)}

func (l *loader) ready(file, key string, n *node, env *environment) *ReadyCheck {
	t := l.table(file, key, n)
	if t == nil {
		return nil
	}
	l.known(file, key+".", t, append(slices.Clone(readyKinds), "interval", "timeout")...)
	r := &ReadyCheck{Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}
	var kinds []string
	for _, k := range readyKinds {
		v := t.get(k)
		if v == nil {
			continue
		}
		kinds = append(kinds, k)
		r.Kind = ReadyKind(k)
		r.Line = v.line
		switch r.Kind {
		case ReadyNotify:
			if v.kind != kindBool {
				l.wrongType(file, key+".notify", v, "true")
			} else if !v.bool {
				l.errorf(file, v.line, key+".notify", "set it to true, or remove the ready check")
			}
		case ReadyExec:
			r.Argv = l.command(file, key+".exec", v, env)
		default:
			s, ok := l.str(file, key+"."+k, v)
			if !ok {
				// Already reported: checking the URL too would report the key twice.
				continue
			}
			r.Target = l.expand(file, key+"."+k, v.line, s, env)
			if r.Kind == ReadyHTTP && !strings.HasPrefix(r.Target, "http://") && !strings.HasPrefix(r.Target, "https://") {
				l.errorf(file, v.line, key+".http", "want an http:// or https:// URL, got %q", r.Target)
			}
		}
	}
	if len(kinds) != 1 {
		l.errorf(file, n.line, key, "want exactly one of %s, got %d", strings.Join(readyKinds, ", "), len(kinds))
		return nil
	}
	if v := t.get("interval"); v != nil {
		r.Interval = l.duration(file, key+".interval", v, r.Interval)
		if r.Interval == 0 {
			l.errorf(file, v.line, key+".interval", "must be more than 0")
		}
	}
	if v := t.get("timeout"); v != nil {
		r.Timeout = l.duration(file, key+".timeout", v, r.Timeout)
		if r.Timeout == 0 {
			l.errorf(file, v.line, key+".timeout", "must be more than 0")
		}
	}
	return r
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

// AddMain adds the program given on uno's command line as the main service: it starts once
// every other essential service has reached its default condition, and its exit ends the
// container.
func (c *Config) AddMain(argv []string, environ []string) error {
	if s := c.Service(MainName); s != nil {
		return &PosError{File: s.File, Line: s.Line, Key: "services." + MainName,
			Msg: "the name " + MainName + " is reserved for the program given on the command line"}
	}
	main := &Service{
		Name: MainName, Main: true, File: "command line",
		Type: Simple, Command: argv, Env: environ,
		Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: c.Grace,
		Essential: true,
	}
	for _, s := range c.Services {
		// A non-essential service may fail without stopping the container, so it must not
		// keep the main program from starting either.
		if s.Essential {
			main.DependsOn = append(main.DependsOn, Dependency{Name: s.Name, Condition: DefaultCondition(s)})
		}
	}
	c.Services = append(c.Services, main)
	return nil
}

// environment is an ordered set of NAME=value, later settings replacing earlier ones.
type environment struct {
	names  []string
	values map[string]string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func newEnv(environ []string) *environment {
	e := &environment{values: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e.set(k, v)
		}
	}
	return e
}

func (e *environment) set(k, v string) {
	if _, ok := e.values[k]; !ok {
		e.names = append(e.names, k)
	}
	e.values[k] = v
}

func (e *environment) lookup(k string) (string, bool) {
	v, ok := e.values[k]
	return v, ok
}

func (e *environment) list() []string {
	out := make([]string, 0, len(e.names))
	for _, k := range e.names {
		out = append(out, k+"="+e.values[k])
	}
	return out
}

// unwrapPath keeps the cause of a file error and the path as the user wrote it.
func unwrapPath(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

// LoadProcfile reads a Procfile ("name: command" per line) into services with foreman's
// semantics: each command runs under /bin/sh -c, no service restarts, and any exit stops all.
// A .env file beside the Procfile, as foreman reads it, is added to every service's environment.
func LoadProcfile(path string, environ []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read Procfile: %w", unwrapPath(err, path))
	}
	entries, err := ParseProcfile(filepath.Base(path), data)
	if err != nil {
		return nil, err
	}
	l := &loader{environ: environ, dir: filepath.Dir(path)}
	env := newEnv(environ)
	dotenv := filepath.Join(l.dir, ".env")
	if _, err := os.Stat(dotenv); err == nil {
		l.envFile(filepath.Base(path), "", 0, dotenv, env)
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg := &Config{File: path, Grace: DefaultGrace, LogFormat: "text"}
	for _, e := range entries {
		cfg.Services = append(cfg.Services, &Service{
			Name: e.Name, File: filepath.Base(path), Line: e.Line,
			Type: Simple, Command: []string{"/bin/sh", "-c", e.Command}, Env: env.list(),
			Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: cfg.Grace,
			Essential: true, LogPrefix: true,
		})
	}
	return cfg, nil
}

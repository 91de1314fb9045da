// Decoding one service's table: its keys, command and ready check. Its environment is decoded
// with environment.go and its depends_on with graph.go.

package config

import (
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/signals"
)

var serviceKeys = append([]string{
	"type", "command", "depends_on", "user", "group", "groups", "working_dir", "env", "env_file",
	"ready", "health", "restart", "restart_delay", "restart_delay_max", "restart_reset_after", "restart_limit",
	"restart_window", "stop_signal", "stop_timeout", "kill_mode", "essential",
	"no_new_privileges", "capabilities", "rlimits", "umask", "nice", "oom_score_adj", "secrets", "env_file_suffix",
	// Scheduled jobs' keys: cron.go.
	"schedule", "timezone", "concurrency", "timeout", "jitter", "run_on_start", "fail_after",
}, outputKeys...)

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
		KillMode:          KillGroup,
		Essential:         true,
		LogPrefix:         true,
	}
	l.known(file, prefix, t, serviceKeys...)
	get := t.get

	if v := get("type"); v != nil {
		s.Type = Type(l.oneOf(file, key("type"), v, string(Simple), string(Oneshot), string(Cron)))
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
				if !isEnvName(k) {
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
	if v := get("health"); v != nil {
		s.Health = l.health(file, key("health"), v, env)
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
	if v := get("kill_mode"); v != nil {
		s.KillMode = KillMode(l.oneOf(file, key("kill_mode"), v, string(KillGroup), string(KillMixed)))
	}
	if v := get("essential"); v != nil {
		s.Essential = l.boolean(file, key("essential"), v, true)
	}
	s.Output = l.output(cfg, file, prefix, get, env)
	s.LogPrefix = s.Output.Format != FormatRaw
	l.privileges(cfg, file, prefix, t, s, env)
	l.cronJob(file, prefix, t, s)
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

var readyKinds = []string{string(ReadyHTTP), string(ReadyTCP), string(ReadyExec), string(ReadyFile), string(ReadyNotify)}

func (l *loader) ready(file, key string, n *node, env *environment) *ReadyCheck {
	t := l.table(file, key, n)
	if t == nil {
		return nil
	}
	l.known(file, key+".", t, append(slices.Clone(readyKinds), "interval", "timeout")...)
	r := &ReadyCheck{Interval: DefaultReadyInterval, Timeout: DefaultReadyTimeout}
	var ok bool
	if r.Kind, r.Target, r.Argv, r.Line, ok = l.checkKind(file, key, n, t, readyKinds, env); !ok {
		return nil
	}
	l.positive(file, key, t, "interval", &r.Interval)
	l.positive(file, key, t, "timeout", &r.Timeout)
	return r
}

// positive reads t's duration name, if there, into d: one more than 0.
func (l *loader) positive(file, key string, t *table, name string, d *time.Duration) {
	if v := t.get(name); v != nil {
		*d = l.duration(file, key+"."+name, v, *d)
		if *d == 0 {
			l.errorf(file, v.line, key+"."+name, "must be more than 0")
		}
	}
}

// checkKind reads the one key of t, among kinds, that says what a ready or health check does:
// its kind, and its target (a URL, an address, a path) or command.
func (l *loader) checkKind(file, key string, n *node, t *table, kinds []string, env *environment) (kind ReadyKind, target string, argv []string, line int, ok bool) {
	found := 0
	for _, k := range kinds {
		v := t.get(k)
		if v == nil {
			continue
		}
		found++
		kind, line = ReadyKind(k), v.line
		switch kind {
		case ReadyNotify:
			if v.kind != kindBool {
				l.wrongType(file, key+".notify", v, "true")
			} else if !v.bool {
				l.errorf(file, v.line, key+".notify", "set it to true, or remove the ready check")
			}
		case ReadyExec:
			argv = l.command(file, key+".exec", v, env)
		case HealthWatchdog:
			// A duration, read by health.
		default:
			s, isStr := l.str(file, key+"."+k, v)
			if !isStr {
				// Already reported: checking the URL too would report the key twice.
				continue
			}
			target = l.expand(file, key+"."+k, v.line, s, env)
			if kind == ReadyHTTP && !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
				l.errorf(file, v.line, key+".http", "want an http:// or https:// URL, got %q", target)
			}
		}
	}
	if found != 1 {
		l.errorf(file, n.line, key, "want exactly one of %s, got %d", strings.Join(kinds, ", "), found)
		return "", "", nil, 0, false
	}
	return kind, target, argv, line, true
}

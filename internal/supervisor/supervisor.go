// Package supervisor runs a set of services as init: it starts each once its dependencies have
// reached their condition, watches readiness, restarts with backoff, stops the container when an
// essential service ends for good, and stops everything in reverse dependency order on SIGTERM,
// within one grace budget, before the orphan sweep.
//
// One goroutine owns every service's state; the reaper, readiness checks, timers and signals
// only send it events. The supervisor never waits for a process itself (the reaper does) and
// never parses configuration (package config did, and checked it).
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/probe"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/safedir"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/spawn"
	"github.com/uno-init/uno/internal/sweep"
)

// Options is what Run needs besides the configuration.
type Options struct {
	Config *config.Config
	Log    *slog.Logger
	// Stdout and Stderr receive the services' output, line by line and prefixed.
	Stdout, Stderr io.Writer
	// Color colours the prefixes (set it when Stdout is a terminal).
	Color bool
	// RuntimeDir is where the notify sockets' private directory is created (default: beside
	// uno's runtime directory, /run).
	RuntimeDir string
	// Reaper, if set, is used instead of a new one (a process must have only one).
	Reaper *reaper.Reaper
	// Socket is the control socket's path ("" for none); SocketGroup a gid given read-only
	// access, or -1. HTTPAddr, if set, serves /readyz, /healthz and /status.
	Socket      string
	SocketGroup int
	HTTPAddr    string
	// Signals, if set, is where every signal uno caught arrives (signals.CatchAll, done by the
	// caller as early as it can); otherwise Run catches them itself.
	Signals chan os.Signal
	// Reload, if set, reads the configuration again for SIGHUP and uno ctl reload.
	Reload func() (*config.Config, error)
	// Mux, if set, carries the services' output instead of a new one on Stdout and Stderr, so
	// that the caller can write uno's own lines through it (Mux.Writer) without splitting theirs.
	Mux *logmux.Mux
}

// Supervisor is one run of a set of services.
type Supervisor struct {
	opts      Options
	log       *slog.Logger
	reaper    *reaper.Reaper
	mux       *logmux.Mux
	pid1      bool
	terminal  bool
	inherited []int // fds uno was started with, for the main program

	services   []*service // in start order
	byName     map[string]*service
	dependents map[*service][]*service
	main       *service

	events  chan any
	sigs    chan os.Signal
	control chan controlRequest
	waiters []*waiter
	// stopSet are the services an operator asked to stop (with their dependents), stopped in
	// reverse dependency order like a shutdown but without one.
	stopSet  map[*service]bool
	snapshot atomic.Pointer[snapshot]

	notifyDir string

	stopping      bool
	hurried       bool
	stopBySignal  bool
	exitCode      int
	graceDeadline time.Time
	graceTimer    *time.Timer
}

// Events sent to the supervisor's goroutine. run is the service's run they belong to: events of
// an earlier run are dropped.
type (
	exitEvent struct {
		svc  *service
		run  int
		exit reaper.Exit
	}
	readyEvent struct {
		svc *service
		run int
	}
	notReadyEvent struct {
		svc *service
		run int
		err error
	}
	restartEvent struct {
		svc *service
		run int
	}
	killEvent struct {
		svc *service
		run int
	}
	graceEvent struct{}
)

// termination are the signals that stop every service, and cut the grace short when repeated.
var termination = []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}

// Run runs the services until the container must stop, and returns uno's exit status.
func Run(opts Options) int {
	sv := &Supervisor{
		opts:       opts,
		log:        opts.Log,
		byName:     map[string]*service{},
		dependents: map[*service][]*service{},
		events:     make(chan any, 256),
		sigs:       make(chan os.Signal, 256),
		control:    make(chan controlRequest),
		stopSet:    map[*service]bool{},
	}
	return sv.run()
}

func (sv *Supervisor) run() int {
	log := sv.log
	pid1, err := reaper.TakeOrphans()
	if err != nil {
		log.Warn(err.Error())
	}
	sv.pid1 = pid1
	// SIGCHLD (the reaper's) and every other signal are caught before the first service starts:
	// an uncaught one would kill uno, or be lost.
	sv.reaper = sv.opts.Reaper
	if sv.reaper == nil {
		sv.reaper = reaper.New(func(e reaper.Exit) {
			log.Debug("reaped orphan", "pid", e.Pid, "status", e.String())
		})
	}
	sv.terminal = spawn.ForegroundTerminal()
	// Services see only 0, 1 and 2 (and their notify socket); what uno inherited goes to the
	// main program alone, under the same numbers, as in single-program mode.
	sv.inherited = spawn.KeepInherited()
	if sv.opts.Signals != nil {
		sv.sigs = sv.opts.Signals
	} else {
		// Never stopped: uno exits when this returns, and un-registering costs what registering did.
		signals.CatchAll(sv.sigs)
	}
	if sv.terminal {
		// Once the main program owns the terminal these are about uno's own writes to it; the
		// services still start with the default action.
		if err := signals.DiscardForSelf(syscall.SIGTTIN, syscall.SIGTTOU); err != nil {
			log.Warn("cannot ignore terminal stop signals", "err", err)
		}
	}

	cfg := sv.opts.Config
	for _, c := range cfg.StartOrder() {
		s := &service{cfg: c, state: Waiting, delay: c.RestartDelay}
		sv.services = append(sv.services, s)
		sv.byName[c.Name] = s
		if c.Main {
			sv.main = s
		}
	}
	for _, s := range sv.services {
		for _, d := range s.cfg.DependsOn {
			dep := sv.byName[d.Name]
			sv.dependents[dep] = append(sv.dependents[dep], s)
		}
	}
	sv.mux = sv.opts.Mux
	if sv.mux == nil {
		sv.mux = logmux.New(sv.opts.Stdout, sv.opts.Stderr, logmux.Options{Color: sv.opts.Color, Names: Names(cfg)})
	}
	if err := sv.makeNotifyDir(); err != nil {
		log.Error("cannot create the notify socket directory", "err", err)
		return 1
	}
	defer sv.removeNotifyDir()

	sv.publish()
	if path := sv.opts.Socket; path != "" {
		srv, err := control.Listen(path, sv.opts.SocketGroup, backend{sv}, log)
		if err != nil {
			control.LogListenError(log, path, err)
		} else {
			defer srv.Close()
			log.Debug("control socket listening", "path", path)
		}
	}
	if addr := sv.opts.HTTPAddr; addr != "" {
		h, err := control.ListenHTTP(addr, backend{sv}, log)
		if err != nil {
			log.Error("probe endpoint not available", "addr", addr, "err", err)
		} else {
			defer h.Close()
			log.Info("probe endpoint listening", "addr", h.Addr)
		}
	}
	log.Info("starting services", "count", len(sv.services), "config", cfg.File)
	sv.startWaiting()
	for {
		// Before each wait: actions under way may be done, and readers see the latest state.
		sv.checkWaiters()
		sv.publish()
		if sv.stopping && sv.allEnded() {
			break
		}
		select {
		case s := <-sv.sigs:
			sv.signal(s.(syscall.Signal))
		case ev := <-sv.events:
			sv.handle(ev)
		case cr := <-sv.control:
			sv.handleControl(cr)
		}
		if !sv.stopping && sv.allEnded() && !sv.anyHeld() {
			log.Info("every service has ended")
			sv.shutdown(0, "every service has ended")
		}
	}
	if sv.graceTimer != nil {
		sv.graceTimer.Stop()
	}
	sv.sweepLeftovers()
	sv.flushOutput()

	code := sv.exitCode
	if sv.stopBySignal && sv.main != nil && sv.main.lastExit != nil {
		// The main program says how a stop went, as in single-program mode (143 after TERM).
		code = sv.main.code
	}
	log.Info("exiting", "status", code)
	return code
}

func (sv *Supervisor) handle(ev any) {
	switch ev := ev.(type) {
	case exitEvent:
		if ev.run == ev.svc.run {
			sv.exited(ev.svc, ev.exit)
		}
	case readyEvent:
		if ev.run == -1 {
			ev.run = ev.svc.run
		}
		if ev.run == ev.svc.run && ev.svc.state == Starting {
			sv.becomeReady(ev.svc)
		}
	case notReadyEvent:
		s := ev.svc
		if ev.run == s.run && s.state == Starting {
			sv.log.Error("service did not become ready in time", "service", s.name(),
				"timeout", s.cfg.Ready.Timeout, "last_error", errString(ev.err))
			s.notReady = true
			sv.stop(s, s.cfg.StopSignal)
		}
	case restartEvent:
		if ev.run == ev.svc.run && ev.svc.state == Backoff && !sv.stopping {
			sv.start(ev.svc)
		}
	case killEvent:
		s := ev.svc
		if ev.run == s.run && s.state == Stopping {
			sv.log.Warn("service did not stop in time; killing it", "service", s.name(), "pid", s.pid,
				"waited", time.Since(s.stopSignalAt).Round(time.Millisecond))
			_ = sv.reaper.Signal(s.pid, true, syscall.SIGKILL)
		}
	case graceEvent:
		if !sv.hurried {
			sv.log.Warn("grace period over; killing every service left", "grace", sv.opts.Config.Grace)
			sv.hurry()
		}
	}
}

// startWaiting starts every waiting service whose dependencies have all reached their
// condition, and fails those whose dependencies never will.
func (sv *Supervisor) startWaiting() {
	if sv.stopping {
		return
	}
	for _, s := range sv.services {
		if s.state != Waiting {
			continue
		}
		ready := true
		for _, d := range s.cfg.DependsOn {
			dep := sv.byName[d.Name]
			if dep.satisfies(d.Condition) {
				continue
			}
			ready = false
			if dep.ended() && !(dep.state == Stopped && !sv.stopping) {
				sv.log.Error("service cannot start: a dependency ended without reaching its condition",
					"service", s.name(), "dependency", dep.name(), "condition", d.Condition, "dependency_state", dep.state)
				s.code = dep.code
				if s.code == 0 {
					s.code = 1
				}
				sv.endForGood(s, Failed)
				if sv.stopping {
					return
				}
			}
			break
		}
		if ready {
			sv.start(s)
			if sv.stopping {
				return
			}
		}
	}
}

// start starts one run of s.
func (sv *Supervisor) start(s *service) {
	s.run++
	s.notReady = false
	s.ready = false
	spec := spawn.Spec{
		Argv:   s.cfg.Command,
		Env:    s.cfg.Env,
		Dir:    s.cfg.Dir,
		Pgroup: true,
		// What a run leaves in its process group goes with it, so that a restart does not meet
		// its predecessor's children (holding a port, say): SIGTERM as the run ends, SIGKILL
		// after stop_timeout (killLeftoversLater).
		OnGroupExit: reaper.GroupExit{Signal: syscall.SIGTERM, Continue: true, Hold: true},
	}
	if s.cfg.User != nil {
		spec.Credential = s.cfg.User.Credential()
	}
	if s.cfg.Dir != "" {
		// Checked here, not at load: a oneshot may create it. A failed chdir in the child
		// would otherwise be reported as the program not being found.
		if _, err := os.Stat(s.cfg.Dir); err != nil {
			sv.log.Error("service could not start: bad working_dir", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, false)
			return
		}
	}
	// The notify socket before the output pipes: a failure here then has nothing to close.
	if s.cfg.Ready != nil && s.cfg.Ready.Kind == config.ReadyNotify {
		if err := sv.listenNotify(s); err != nil {
			sv.log.Error("cannot create the notify socket", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, false)
			return
		}
		spec.Env = append(slices.Clip(spec.Env), "NOTIFY_SOCKET="+s.notifier.Path)
	}
	var closeAfterStart []*os.File
	if s.cfg.Main {
		spec.Foreground = sv.terminal
		spec.Inherited = sv.inherited
	} else {
		files, err := sv.outputs(s)
		if err != nil {
			sv.log.Error("cannot set up the service's output", "service", s.name(), "err", err)
			s.code = 1
			sv.afterRun(s, false)
			return
		}
		spec.Stdio = [3]*os.File{files[0], files[1], files[2]}
		closeAfterStart = files
	}
	pid, exited, err := spawn.Start(sv.reaper, spec)
	for _, f := range closeAfterStart {
		f.Close()
	}
	if err != nil {
		s.code = 1
		var ee *spawn.ExecError
		if errors.As(err, &ee) {
			s.code = ee.Code
		}
		attrs := []any{"service", s.name(), "err", err, "status", s.code}
		if u := s.cfg.User; u != nil {
			// Permission errors depend on who tried: say it.
			attrs = append(attrs, "user", u.Name, "uid", u.Uid)
		}
		sv.log.Error("service could not start", attrs...)
		s.lastEnd = time.Now()
		s.lastExit = nil
		sv.afterRun(s, false)
		return
	}
	s.pid, s.startedAt, s.state = pid, time.Now(), Starting
	sv.log.Info("service started", "service", s.name(), "pid", pid)
	run := s.run
	go func() { sv.events <- exitEvent{svc: s, run: run, exit: <-exited} }()

	switch {
	case s.cfg.Ready == nil:
		sv.becomeReady(s)
	case s.cfg.Ready.Kind == config.ReadyNotify:
		timer := time.AfterFunc(s.cfg.Ready.Timeout, func() {
			sv.events <- notReadyEvent{svc: s, run: run, err: errors.New("no READY=1 on the notify socket")}
		})
		s.cancelProbe = func() { timer.Stop() }
	default:
		sv.probe(s)
	}
}

// outputs returns the service's stdin (/dev/null) and the write ends of its output pipes.
func (sv *Supervisor) outputs(s *service) ([]*os.File, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	stdout, err := sv.mux.Pipe(s.name(), logmux.Stdout, s.cfg.LogPrefix)
	if err != nil {
		devnull.Close()
		return nil, err
	}
	stderr, err := sv.mux.Pipe(s.name(), logmux.Stderr, s.cfg.LogPrefix)
	if err != nil {
		devnull.Close()
		stdout.Close()
		return nil, err
	}
	return []*os.File{devnull, stdout, stderr}, nil
}

// probe runs the readiness check of s's current run until it passes or times out.
func (sv *Supervisor) probe(s *service) {
	r := s.cfg.Ready
	var check probe.Check
	switch r.Kind {
	case config.ReadyHTTP:
		var err error
		if check, err = probe.HTTP(r.Target); err != nil {
			check = func(context.Context) error { return err }
		}
	case config.ReadyTCP:
		check = probe.TCP(r.Target)
	case config.ReadyFile:
		// A relative path is the service's, as an exec check's is; never uno's directory.
		path := r.Target
		if !filepath.IsAbs(path) && s.cfg.Dir != "" {
			path = filepath.Join(s.cfg.Dir, path)
		}
		check = probe.File(path)
	case config.ReadyExec:
		spec := spawn.Spec{Argv: r.Argv, Env: s.cfg.Env, Dir: s.cfg.Dir}
		if s.cfg.User != nil {
			spec.Credential = s.cfg.User.Credential()
		}
		check = probe.Exec(sv.reaper, spec)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancelProbe = cancel
	run := s.run
	go func() {
		deadline := time.Now().Add(r.Timeout)
		var err error
		for {
			// One attempt may take at most the time left, and never less than a second, so
			// that a slow first answer is not cut off by a short interval.
			attempt, cancelAttempt := context.WithDeadline(ctx, later(deadline, time.Now().Add(time.Second)))
			err = check(attempt)
			cancelAttempt()
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				sv.events <- readyEvent{svc: s, run: run}
				return
			}
			if !time.Now().Before(deadline) {
				sv.events <- notReadyEvent{svc: s, run: run, err: err}
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.Interval):
			}
		}
	}()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (sv *Supervisor) becomeReady(s *service) {
	s.ready = true
	s.state = Running
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	if s.cfg.Ready != nil {
		sv.log.Info("service ready", "service", s.name(), "after", time.Since(s.startedAt).Round(time.Millisecond))
	}
	sv.startWaiting()
}

// exited handles the end of s's current run.
func (sv *Supervisor) exited(s *service, e reaper.Exit) {
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	if s.killAt != nil {
		s.killAt.Stop()
		s.killAt = nil
	}
	if e.Leftovers != nil {
		sv.killLeftoversLater(s, e.Leftovers)
		e.Leftovers = nil
	}
	s.lastExit = &e
	s.lastEnd = time.Now()
	s.code = e.Code()
	if s.notReady {
		s.code = 1
	}
	attrs := []any{"service", s.name(), "pid", s.pid, "status", e.String()}
	if uptime := time.Since(s.startedAt); uptime > 0 {
		attrs = append(attrs, "uptime", uptime.Round(time.Millisecond))
	}
	s.pid = 0
	if s.state == Stopping {
		s.state = Stopped
		sv.log.Info("service stopped", attrs...)
		delete(sv.stopSet, s)
		switch {
		case sv.stopping:
			sv.stopNext()
		case s.removed:
			sv.forget(s)
		case s.restartPending:
			// uno ctl restart, or a reload that changed the definition.
			sv.rearm(s)
			sv.startWaiting()
		case s.notReady:
			sv.afterRun(s, false) // a failed start: the restart policy decides
		default:
			sv.stopNext() // an operator's stop may have more services to go
		}
		return
	}
	sv.log.Info("service exited", attrs...)
	sv.afterRun(s, s.code == 0)
}

// afterRun decides what follows a run that ended (or could not start): completion, a restart,
// or the end of the service, which for an essential one is the end of the container.
func (sv *Supervisor) afterRun(s *service, success bool) {
	if sv.stopping {
		s.state = Stopped
		sv.stopNext()
		return
	}
	if s.cfg.Type == config.Oneshot && success {
		s.state = Completed
		sv.log.Info("service completed", "service", s.name())
		sv.startWaiting()
		return
	}
	restart := false
	switch s.cfg.Restart {
	case config.RestartAlways:
		restart = true
	case config.RestartOnFailure:
		restart = !success
	}
	if s.cfg.Main {
		restart = false
	}
	if restart && sv.withinRestartLimit(s) {
		sv.scheduleRestart(s)
		return
	}
	if restart {
		sv.log.Error("service is restarting too often; giving up", "service", s.name(),
			"restarts", len(s.failures), "window", s.cfg.RestartWindow)
		success = false
		if s.code == 0 {
			s.code = 1 // a service that keeps exiting 0 under "always" has failed all the same
		}
	}
	if success {
		sv.endForGood(s, Exited)
	} else {
		sv.endForGood(s, Failed)
	}
}

// withinRestartLimit records one more restart of s and reports whether it is allowed.
func (sv *Supervisor) withinRestartLimit(s *service) bool {
	now := time.Now()
	if !s.startedAt.IsZero() && s.lastExit != nil && now.Sub(s.startedAt) >= s.cfg.RestartResetAfter {
		// It ran long enough: start again from the first delay and a clean record.
		s.failures = nil
		s.delay = s.cfg.RestartDelay
	}
	window := now.Add(-s.cfg.RestartWindow)
	s.failures = slices.DeleteFunc(s.failures, func(t time.Time) bool { return t.Before(window) })
	if s.cfg.RestartLimit > 0 && len(s.failures) >= s.cfg.RestartLimit {
		return false
	}
	s.failures = append(s.failures, now)
	return true
}

func (sv *Supervisor) scheduleRestart(s *service) {
	delay := s.delay
	s.delay = min(s.delay*2, s.cfg.RestartDelayMax)
	s.restarts++
	s.state = Backoff
	s.startedAt = time.Time{}
	sv.log.Info("restarting service", "service", s.name(), "in", delay, "restarts", s.restarts)
	run := s.run
	s.restartAt = time.AfterFunc(delay, func() { sv.events <- restartEvent{svc: s, run: run} })
}

// endForGood puts s in its final state; an essential service takes the container with it.
func (sv *Supervisor) endForGood(s *service, final State) {
	s.state = final
	switch {
	case s.cfg.Main:
		sv.log.Info("main program ended; stopping the services", "status", s.code)
		sv.shutdown(s.code, "main program ended")
	case s.cfg.Essential:
		sv.log.Error("essential service ended; stopping the container", "service", s.name(), "status", s.code, "state", final)
		sv.shutdown(s.code, "essential service "+s.name()+" ended")
	default:
		if final == Failed {
			sv.log.Warn("non-essential service failed; the others go on", "service", s.name(), "status", s.code)
		}
		// Dependents waiting for it fail in turn.
		sv.startWaiting()
	}
}

// signal handles a signal uno received.
func (sv *Supervisor) signal(sig syscall.Signal) {
	if slices.Contains(termination, sig) {
		if sv.stopping {
			if !sv.hurried {
				sv.log.Warn("second stop signal: killing every service now", "signal", signals.Name(sig))
				sv.hurry()
			}
			return
		}
		sv.log.Info("stopping on signal", "signal", signals.Name(sig))
		sv.stopBySignal = true
		if sv.main != nil {
			// The main program gets the signal uno got, as in single-program mode.
			sv.main.cfg.StopSignal = sig
		}
		sv.shutdown(0, signals.Name(sig))
		return
	}
	if sig == syscall.SIGPIPE {
		// Almost always uno's own write to an output nobody reads any more: passing it on
		// would kill services for uno's trouble.
		sv.log.Debug("SIGPIPE not forwarded: uno's output is closed")
		return
	}
	if sv.main != nil {
		if sv.main.state.active() {
			sv.forward(sv.main, sig)
		}
		return
	}
	if sig == syscall.SIGHUP {
		if msg, err := sv.reload(); err != nil {
			sv.log.Error("SIGHUP: " + err.Error())
		} else {
			sv.log.Info("SIGHUP: " + msg)
		}
		return
	}
	for _, s := range sv.services {
		if s.state.active() {
			sv.forward(s, sig)
		}
	}
}

func (sv *Supervisor) forward(s *service, sig syscall.Signal) {
	if err := sv.reaper.Signal(s.pid, false, sig); err != nil {
		sv.log.Debug("cannot forward signal", "service", s.name(), "signal", signals.Name(sig), "err", err)
		return
	}
	// Debug, not info: engines pass on signals of their own (runc forwards its runtime's SIGURG),
	// and with several services each would make one line per service.
	sv.log.Debug("forwarded signal", "service", s.name(), "signal", signals.Name(sig), "pid", s.pid)
}

// shutdown begins the ordered stop of every service. code is uno's exit status unless the main
// program decides it (a stop by signal).
func (sv *Supervisor) shutdown(code int, reason string) {
	if sv.stopping {
		return
	}
	sv.stopping = true
	sv.exitCode = code
	grace := sv.opts.Config.Grace
	sv.graceDeadline = time.Now().Add(grace)
	sv.graceTimer = time.AfterFunc(grace, func() { sv.events <- graceEvent{} })
	sv.log.Info("stopping services", "reason", reason, "grace", grace)
	for _, s := range sv.services {
		sv.cancelRestart(s)
		if s.state == Waiting || s.state == Backoff {
			s.state = Stopped
		}
	}
	sv.stopNext()
}

// stopNext stops every running service none of whose dependents still runs: reverse
// dependency order, with independent services stopping in parallel.
func (sv *Supervisor) stopNext() {
	for _, s := range sv.services {
		if !sv.stopping && !sv.stopSet[s] {
			continue
		}
		if s.ended() {
			delete(sv.stopSet, s)
			continue
		}
		if s.state == Waiting || s.state == Backoff {
			sv.cancelRestart(s)
			s.state = Stopped
			continue
		}
		if s.state != Starting && s.state != Running {
			continue
		}
		blocked := false
		for _, d := range sv.dependents[s] {
			if d.state.active() {
				blocked = true
				break
			}
		}
		if !blocked {
			sv.stop(s, s.cfg.StopSignal)
		}
	}
}

// stop sends sig to s's process group and arms the kill after its stop timeout, which never
// reaches past the grace deadline.
func (sv *Supervisor) stop(s *service, sig syscall.Signal) {
	if s.cancelProbe != nil {
		s.cancelProbe()
		s.cancelProbe = nil
	}
	s.state = Stopping
	s.stopSignalAt = time.Now()
	timeout := s.cfg.StopTimeout
	if sv.stopping {
		timeout = min(timeout, time.Until(sv.graceDeadline))
	}
	sv.log.Info("stopping service", "service", s.name(), "pid", s.pid, "signal", signals.Name(sig), "timeout", timeout.Round(time.Millisecond))
	if sv.hurried {
		sig = syscall.SIGKILL
	}
	_ = sv.reaper.Signal(s.pid, true, sig)
	// A stopped process cannot act on the signal until it runs again.
	_ = sv.reaper.Signal(s.pid, true, syscall.SIGCONT)
	run := s.run
	s.killAt = time.AfterFunc(max(timeout, 0), func() { sv.events <- killEvent{svc: s, run: run} })
}

// killLeftoversLater gives what a run left in its process group, sent SIGTERM as the run ended,
// the service's stop_timeout (no more than the grace left, when stopping) to go, then kills what
// is still there.
func (sv *Supervisor) killLeftoversLater(s *service, left *reaper.Leftovers) {
	timeout := s.cfg.StopTimeout
	if sv.stopping {
		timeout = min(timeout, time.Until(sv.graceDeadline))
	}
	name, log := s.name(), sv.log
	time.AfterFunc(max(timeout, 0), func() {
		if n := left.Kill(syscall.SIGKILL); n > 0 {
			log.Warn("killed what a service's run left behind; it outlived stop_timeout after SIGTERM",
				"service", name, "processes", n, "waited", timeout.Round(time.Millisecond))
		}
	})
}

// hurry kills every service now (a second SIGTERM, or the grace is over).
func (sv *Supervisor) hurry() {
	sv.hurried = true
	for _, s := range sv.services {
		if s.state.active() {
			s.state = Stopping
			_ = sv.reaper.Signal(s.pid, true, syscall.SIGKILL)
		}
	}
}

func (sv *Supervisor) allEnded() bool {
	for _, s := range sv.services {
		if !s.ended() {
			return false
		}
	}
	return true
}

// sweepLeftovers stops what the services left behind, with what remains of the grace.
func (sv *Supervisor) sweepLeftovers() {
	grace := time.Until(sv.graceDeadline)
	if sv.hurried || grace < 0 {
		grace = 0
	}
	sw := &sweep.Sweeper{Reaper: sv.reaper, PID1: sv.pid1, Log: sv.log}
	sw.SweepUnlessHurried(grace, sv.sigs, termination)
}

// flushOutput waits for the services' last lines to reach uno's output. A reader that stopped
// reading must not keep uno (and so the container) from ending: the wait is bounded.
func (sv *Supervisor) flushOutput() {
	ctx, cancel := context.WithTimeout(context.Background(), max(time.Until(sv.graceDeadline), time.Second))
	defer cancel()
	if err := sv.mux.Wait(ctx); err != nil {
		sv.log.Warn("output not fully written: the reader is not reading", "err", err)
	}
}

func (sv *Supervisor) makeNotifyDir() error {
	needed := false
	for _, s := range sv.services {
		if s.cfg.Ready != nil && s.cfg.Ready.Kind == config.ReadyNotify {
			needed = true
		}
	}
	if !needed {
		return nil
	}
	// Beside the control socket's directory, not in it: that one is private to uno (0700),
	// while services running as other users must reach their notify socket.
	base := sv.opts.RuntimeDir
	if base == "" {
		base = filepath.Dir(control.RuntimeDir())
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(base, "uno-notify-")
	if err != nil {
		return err
	}
	// Services running as other users must reach their own socket (which only they may use).
	if err := os.Chmod(dir, 0o711); err != nil {
		return err
	}
	// MkdirTemp made it, but chmod goes by name: the sockets go in only if it is still uno's.
	if err := safedir.Check(dir, 0o711); err != nil {
		return fmt.Errorf("notify sockets: %w", err)
	}
	sv.notifyDir = dir
	return nil
}

func (sv *Supervisor) removeNotifyDir() {
	for _, s := range sv.services {
		if s.notifier != nil {
			s.notifier.Close()
		}
	}
	if sv.notifyDir != "" {
		_ = os.RemoveAll(sv.notifyDir)
	}
}

// listenNotify creates s's notify socket once; it serves every run of s.
func (sv *Supervisor) listenNotify(s *service) error {
	if s.notifier != nil {
		return nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	if u := s.cfg.User; u != nil {
		uid, gid = int(u.Uid), int(u.Gid)
	}
	n, err := probe.Listen(filepath.Join(sv.notifyDir, s.name()+".sock"), uid, gid)
	if err != nil {
		return err
	}
	s.notifier = n
	go n.Messages(func(vars map[string]string) {
		if vars["READY"] == "1" {
			// The run is read by the supervisor's goroutine; -1 asks it to use the current one.
			sv.events <- readyEvent{svc: s, run: -1}
		}
	})
	return nil
}

// Names are the names that prefix output lines: every service's but the main program's, whose
// output is not prefixed.
func Names(cfg *config.Config) []string {
	var names []string
	for _, s := range cfg.Services {
		if !s.Main {
			names = append(names, s.Name)
		}
	}
	return names
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprint(err)
}

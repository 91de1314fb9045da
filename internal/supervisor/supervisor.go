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
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/boot"
	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/spawn"
	"github.com/uno-init/uno/internal/ulog"
)

// Options is what Run needs besides the configuration.
type Options struct {
	Config *config.Config
	Log    *ulog.Logger
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
	// access, or -1. HTTPAddr, if set, serves /readyz, /healthz, /status and /metrics.
	Socket      string
	SocketGroup int
	HTTPAddr    string
	// CloseLog, if set, flushes uno's own log (a queue: ulog.Async) before Run returns, waiting
	// at most the time given: what is left of the grace's margin.
	CloseLog func(timeout time.Duration)
	// Signals, if set, is where every signal uno caught arrives (signals.CatchAll, done by the
	// caller as early as it can); otherwise Run catches them itself.
	Signals chan os.Signal
	// Reload, if set, reads the configuration again for SIGHUP and uno ctl reload.
	Reload func() (*config.Config, error)
	// Mux, if set, carries the services' output instead of a new one on Stdout and Stderr, so
	// that the caller can write uno's own lines through it (Mux.Writer) without splitting theirs.
	Mux *logmux.Mux
	// Version is uno's, for uno_build_info.
	Version string
	// Upstream, if set, is the manager uno reports its readiness to (upstream.go).
	Upstream Upstream
}

// Supervisor is one run of a set of services.
type Supervisor struct {
	opts      Options
	log       *ulog.Logger
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
	// forwarded counts the signals passed on to services, by name, for the metrics.
	forwarded map[string]uint64

	stopping      bool
	hurried       bool
	stopBySignal  bool
	exitCode      int
	graceDeadline time.Time
	graceTimer    *time.Timer

	cron cronScheduler
	// drainStart is when the drain began (drain.go); zero if none did.
	drainStart time.Time
	drainTimer *time.Timer
	// up is the socket to uno's own manager (NOTIFY_SOCKET), if it has one.
	up *upstream
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
		// fromRun, if set, says in the supervisor's goroutine whether the event comes from the
		// run it is credited to (a notify message's sender).
		fromRun func() bool
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
	giveUpEvent struct {
		svc *service
		run int
	}
	graceEvent struct{}
)

// Run runs the services until the container must stop, and returns uno's exit status.
func Run(opts Options) int {
	return newSupervisor(opts).run()
}

// newSupervisor is a Supervisor ready to run (tests reach its backend before it does).
func newSupervisor(opts Options) *Supervisor {
	return &Supervisor{
		opts:       opts,
		log:        opts.Log,
		byName:     map[string]*service{},
		dependents: map[*service][]*service{},
		events:     make(chan any, 256),
		sigs:       make(chan os.Signal, 256),
		control:    make(chan controlRequest),
		stopSet:    map[*service]bool{},
		forwarded:  map[string]uint64{},
	}
}

func (sv *Supervisor) run() int {
	log := sv.log
	// SIGCHLD (the reaper's) and every other signal are caught before the first service starts:
	// an uncaught one would kill uno, or be lost.
	if sv.opts.Reaper != nil {
		// In-process tests: a process has one reaper, shared by every Run.
		sv.reaper = sv.opts.Reaper
		pid1, err := reaper.TakeOrphans()
		if err != nil {
			log.Warn(err.Error())
		}
		sv.pid1 = pid1
	} else {
		in := boot.Start(boot.Options{Subreaper: true, Log: log})
		sv.reaper, sv.pid1 = in.Reaper, in.PID1
	}
	sv.terminal = spawn.ForegroundTerminal()
	// Services see only 0, 1 and 2 (and their notify socket); what uno inherited goes to the
	// main program alone, under the same numbers, as in single-program mode.
	sv.inherited = spawn.KeepInherited()
	if sv.opts.Signals != nil {
		sv.sigs = sv.opts.Signals
	} else {
		// Never stopped: uno exits when this returns, and un-registering costs what registering did.
		signals.CatchAll(sv.sigs, true)
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

	sv.openUpstream()
	defer sv.closeUpstream()
	sv.publish()
	// Before any service starts, with every signal already caught: a script may wait for uno
	// ctl to answer and then signal.
	stopControl := boot.Control{Socket: sv.opts.Socket, SocketGroup: sv.opts.SocketGroup,
		HTTPAddr: sv.opts.HTTPAddr, Log: log}.Serve(backend{sv})
	defer stopControl()
	log.Info("starting services", "count", len(sv.services), "config", cfg.File)
	sv.startWaiting()
	for {
		// Before each wait: actions under way may be done, and readers see the latest state.
		sv.checkWaiters()
		sv.armCron()
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
		case <-sv.cron.wake:
			sv.cronWoke()
		}
		if !sv.stopping && sv.allEnded() && !sv.anyHeld() {
			log.Info("every service has ended")
			sv.shutdown(0, "every service has ended")
		}
	}
	if sv.graceTimer != nil {
		sv.graceTimer.Stop()
	}
	sv.closeCron()
	sv.sweepLeftovers()
	sv.flushOutput()

	code := sv.exitCode
	if sv.stopBySignal && sv.main != nil && sv.main.lastExit != nil {
		// The main program says how a stop went, as in single-program mode (143 after TERM).
		code = sv.main.code
	}
	log.Info("exiting", "status", code)
	if sv.opts.CloseLog != nil {
		// uno's own last lines get what is left of the margin, and no more.
		sv.opts.CloseLog(sv.untilExit(0))
	}
	return code
}

func (sv *Supervisor) handle(ev any) {
	switch ev := ev.(type) {
	case exitEvent:
		if ev.run == ev.svc.run && ev.svc.state.active() {
			sv.exited(ev.svc, ev.exit)
		} else if ev.exit.Leftovers != nil {
			// A run uno gave up on ended after all: what it left in its group still goes.
			sv.killLeftoversLater(ev.svc, ev.exit.Leftovers)
		}
	case readyEvent:
		if ev.run == -1 {
			ev.run = ev.svc.run
		}
		if ev.run == ev.svc.run && ev.svc.state == Starting && (ev.fromRun == nil || ev.fromRun()) {
			sv.becomeReady(ev.svc)
		}
	case notReadyEvent:
		s := ev.svc
		if ev.run == s.run && s.state == Starting {
			sv.log.Error("service did not become ready in time", "service", s.name(),
				"timeout", s.cfg.Ready.Timeout, "last_error", errString(ev.err))
			s.notReady = true
			sv.stop(s, s.stopSignal())
		}
	case restartEvent:
		if ev.run == ev.svc.run && ev.svc.state == Backoff && !sv.stopping {
			sv.start(ev.svc)
		}
	case killEvent:
		s := ev.svc
		if ev.run == s.run && s.state == Stopping {
			sv.kill(s, "service did not stop in time; killing it", "waited", time.Since(s.stopSignalAt).Round(time.Millisecond))
		}
	case selfStopEvent:
		sv.selfStopTimedOut(ev)
	case giveUpEvent:
		if ev.run == ev.svc.run && ev.svc.state == Killing {
			sv.giveUp(ev.svc)
		}
	case cronTimeoutEvent:
		sv.jobTimedOut(ev)
	case healthEvent:
		sv.healthResult(ev)
	case notifyEvent:
		sv.notified(ev)
	case upstreamPing:
		sv.pingUpstream()
	case drainEvent:
		sv.drainOver()
	case graceEvent:
		if !sv.hurried {
			sv.log.Warn("grace period over; killing every service left", "grace", sv.opts.Config.Grace)
			sv.hurry()
		}
	}
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

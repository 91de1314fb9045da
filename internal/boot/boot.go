// Package boot is what every run of uno does around its program or its services, the same in
// both modes: it makes sure orphans come to uno (as PID 1 they do; otherwise uno registers as
// child subreaper), starts the one reaper, and opens the control socket and the probe endpoint.
//
// Catching signals comes first of all and is the caller's (signals.CatchAll, in cli, before
// the configuration is read); which signals cut the grace short is signals.CutGrace. Each mode
// adds only what is its own: program routes signals to one program, supervisor runs services.
package boot

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/ulog"
)

// Options says how to take orphans.
type Options struct {
	// Subreaper registers uno as child subreaper when it is not PID 1.
	Subreaper bool
	// NotSubreaperWarning, if set, is logged when uno is neither PID 1 nor a subreaper (tini).
	NotSubreaperWarning string
	// LogOrphans logs every reaped orphan as a warning (tini -w); otherwise at debug level.
	LogOrphans bool
	Log        *ulog.Logger
}

// Init is what Start set up.
type Init struct {
	Reaper *reaper.Reaper
	// PID1 says uno is PID 1 of its PID namespace: orphans come to it, and the final sweep may
	// signal the whole namespace.
	PID1 bool
}

// Start takes orphans and starts the reaper. Call it once, before the first child starts.
func Start(o Options) *Init {
	log := o.Log
	in := &Init{}
	switch {
	case os.Getpid() == 1:
		in.PID1 = true
	case !o.Subreaper:
		if o.NotSubreaperWarning != "" {
			log.Warn(o.NotSubreaperWarning)
		}
	default:
		if _, err := reaper.TakeOrphans(); err != nil {
			log.Warn(err.Error())
		} else {
			log.Debug("not PID 1: registered as child subreaper", "pid", os.Getpid())
		}
	}
	in.Reaper = reaper.New(func(e reaper.Exit) {
		level := ulog.LevelDebug
		if o.LogOrphans {
			level = ulog.LevelWarn
		}
		// Checked first: the status text and the arguments would be built for every orphan
		// otherwise, 10,000 of them when a process tree ends at once.
		if log.Enabled(context.Background(), level) {
			log.Log(context.Background(), level, "reaped orphan", "pid", e.Pid, "status", e.String())
		}
	})
	return in
}

// Control is where uno answers uno ctl and probes.
type Control struct {
	// Socket is the control socket's path, "" for none; SocketGroup a gid given read-only
	// access, or -1. HTTPAddr, if set, serves /readyz, /healthz, /status and /metrics.
	Socket      string
	SocketGroup int
	HTTPAddr    string
	// Delay opens them that long after Serve, off the start path, unless stopped first: a
	// program that is gone by then (a health check, a one-off command) never needed them.
	Delay time.Duration
	Log   *ulog.Logger
}

// Serve opens the control socket and the probe endpoint c asks for, answered by b, and returns
// what closes them. What cannot be opened is logged, and uno goes on without it.
func (c Control) Serve(b control.Backend) (stop func()) {
	if c.Socket == "" && c.HTTPAddr == "" {
		return func() {}
	}
	var mu sync.Mutex
	var closers []func()
	open := func() {
		var srv *control.Server
		var h *control.HTTPServer
		var err error
		if c.Socket != "" {
			if srv, err = control.Listen(c.Socket, c.SocketGroup, b, c.Log); err != nil {
				control.LogListenError(c.Log, c.Socket, err)
			} else if filepath.Dir(c.Socket) != "/run/uno" {
				// Not where uno ctl looks first (a non-root uno, a read-only /run): say where.
				c.Log.Info("control socket listening", "path", c.Socket)
			} else {
				c.Log.Debug("control socket listening", "path", c.Socket)
			}
		}
		if c.HTTPAddr != "" {
			if h, err = control.ListenHTTP(c.HTTPAddr, b, c.Log); err != nil {
				c.Log.Error("probe endpoint not available", "addr", c.HTTPAddr, "err", err)
			} else {
				c.Log.Info("probe endpoint listening", "addr", h.Addr)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if srv != nil {
			closers = append(closers, srv.Close)
		}
		if h != nil {
			closers = append(closers, h.Close)
		}
	}
	if c.Delay <= 0 {
		open()
		return func() { closeAll(&mu, closers) }
	}
	done := make(chan struct{})
	stopping := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-stopping:
		case <-time.After(c.Delay):
			open()
		}
	}()
	return func() {
		close(stopping)
		<-done
		closeAll(&mu, closers)
	}
}

func closeAll(mu *sync.Mutex, closers []func()) {
	mu.Lock()
	defer mu.Unlock()
	for _, c := range closers {
		c()
	}
}

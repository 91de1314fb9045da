package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/probe"
	"github.com/uno-init/uno/internal/safedir"
	"github.com/uno-init/uno/internal/spawn"
)

// This file runs readiness checks and the notify sockets they may listen on.

// probe runs the readiness check of s's current run until it passes or times out.
func (sv *Supervisor) probe(s *service) {
	r := s.cfg.Ready
	check := sv.check(s, r.Kind, r.Target, r.Argv)
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

// check is one attempt of an http, tcp, file or exec check of s (readiness or health).
func (sv *Supervisor) check(s *service, kind config.ReadyKind, target string, argv []string) probe.Check {
	switch kind {
	case config.ReadyHTTP:
		check, err := probe.HTTP(target)
		if err != nil {
			return func(context.Context) error { return err }
		}
		return check
	case config.ReadyTCP:
		return probe.TCP(target)
	case config.ReadyFile:
		// A relative path is the service's, as an exec check's is; never uno's directory.
		if !filepath.IsAbs(target) && s.cfg.Dir != "" {
			target = filepath.Join(s.cfg.Dir, target)
		}
		return probe.File(target)
	case config.ReadyExec:
		spec := spawn.Spec{Argv: argv, Env: s.cfg.Env, Dir: s.cfg.Dir}
		if s.cfg.User != nil {
			spec.Credential = s.cfg.User.Credential()
		}
		return probe.Exec(sv.reaper, spec)
	}
	return func(context.Context) error { return fmt.Errorf("bug: no %s check", kind) }
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (sv *Supervisor) makeNotifyDir() error {
	needed := false
	for _, s := range sv.services {
		if s.cfg.UsesNotify() {
			needed = true
		}
	}
	if !needed || sv.notifyDir != "" {
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
	if sv.notifyDir == "" {
		// The first notify service came with a reload: the directory was not needed at start.
		if err := sv.makeNotifyDir(); err != nil {
			return fmt.Errorf("notify socket directory: %w", err)
		}
		if sv.notifyDir == "" {
			return errors.New("no notify socket directory") // never relative to uno's own
		}
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
	go n.Messages(func(m probe.Message) {
		sv.notifyMessage(s, m)
		if m.Vars["READY"] != "1" {
			return
		}
		// The run is read by the supervisor's goroutine; -1 asks it to use the current one, and
		// fromRun, run there too, to check that the sender is that run's: a leftover of an earlier
		// run, or any process of the service's uid that finds the socket, must not make it ready.
		sv.events <- readyEvent{svc: s, run: -1, fromRun: func() bool {
			if s.cfg.Ready == nil || s.cfg.Ready.Kind != config.ReadyNotify {
				return false // a watchdog's socket: readiness is another check's
			}
			if m.From(s.pid) {
				return true
			}
			attrs := []any{"service", s.name(), "sender", m.Pid, "pid", s.pid}
			if m.Pid > 0 && m.Ancestors == nil {
				attrs = append(attrs, "note", "only the service's process and its process group count: /proc is not uno's PID namespace's, or the sender was gone")
			}
			sv.log.Warn("READY=1 on the notify socket from a process outside the service's run; ignored", attrs...)
			return false
		}}
	})
	return nil
}

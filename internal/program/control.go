package program

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/signals"
)

// single answers uno ctl for the one program: its status, the probes, and signals. Services'
// actions (start, stop, restart, reload) and logs need uno -c.
type single struct {
	name      string
	reaper    *reaper.Reaper
	mu        sync.Mutex
	pid       int
	startedAt time.Time
	exit      *reaper.Exit
	exitAt    time.Time
	// draining is set by the first SIGTERM with a drain: not ready from then on.
	draining bool
	// For the metrics (metrics.go).
	version   string
	signalsTo map[string]uint64
}

func (p *single) started(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pid, p.startedAt = pid, time.Now()
}

func (p *single) exited(e reaper.Exit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exit, p.exitAt = &e, time.Now()
}

func (p *single) status() control.ServiceStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := control.ServiceStatus{Name: p.name, Type: "program", State: "starting", Essential: true, StartedAt: p.startedAt}
	switch {
	case p.exit != nil:
		st.State = "exited"
		st.LastExit = &control.Exit{Code: p.exit.Code(), Description: p.exit.String(), At: p.exitAt}
	case p.pid != 0:
		st.State, st.Ready, st.Pid = "running", true, p.pid
		st.UptimeSeconds = time.Since(p.startedAt).Seconds()
	}
	return st
}

func (p *single) Status(names []string) ([]control.ServiceStatus, error) {
	for _, n := range names {
		if n != p.name {
			return nil, fmt.Errorf("unknown name %q: uno runs one program, %s", n, p.name)
		}
	}
	return []control.ServiceStatus{p.status()}, nil
}

func (p *single) Ready() (bool, string) {
	st := p.status()
	p.mu.Lock()
	draining := p.draining
	p.mu.Unlock()
	if draining && st.Ready {
		return false, "not ready: uno is draining before the stop"
	}
	if st.Ready {
		return true, "ready: " + p.name + " is running"
	}
	return false, "not ready: " + p.name + " is " + st.State
}

func (p *single) Health() (bool, string) {
	st := p.status()
	if st.Ready {
		return true, "healthy: " + p.name + " is running"
	}
	return false, "unhealthy: " + p.name + " is " + st.State
}

func (p *single) Act(_ context.Context, req control.Request) (string, error) {
	if req.Command != control.CmdSignal {
		return "", fmt.Errorf("uno runs a single program: %s needs services (uno -c FILE)", req.Command)
	}
	if _, err := p.Status(req.Names); err != nil {
		return "", err
	}
	sig, err := signals.Parse(req.Signal)
	if err != nil {
		return "", err
	}
	st := p.status()
	if st.Pid == 0 {
		return "", fmt.Errorf("%s is not running (%s)", p.name, st.State)
	}
	if err := p.reaper.Signal(st.Pid, false, sig); err != nil {
		return "", fmt.Errorf("signal %s to %d: %w", signals.Name(sig), st.Pid, err)
	}
	return fmt.Sprintf("sent %s to %s", signals.Name(sig), p.name), nil
}

var errNoLogs = errors.New("the program's output is not captured: it goes to uno's own stdout and stderr")

func (p *single) Logs(string, int) ([][]byte, error)           { return nil, errNoLogs }
func (p *single) Follow(string) (<-chan []byte, func(), error) { return nil, nil, errNoLogs }
func newSingle(argv []string, r *reaper.Reaper) *single {
	return &single{name: filepath.Base(argv[0]), reaper: r}
}
func (p *single) String() string { return p.name }

// socketDelay is how long after the program's start the control socket is opened: a program
// that is gone by then (a health check, a one-off command) never needed a socket, and one that
// runs longer is not probed that early. uno ctl wait-ready waits for the socket to appear.
const socketDelay = 20 * time.Millisecond

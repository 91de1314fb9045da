// Package control is uno's control plane: the unix-socket protocol that `uno ctl` speaks, the
// server that answers it with SO_PEERCRED checks, the client, and the optional HTTP endpoint for
// Kubernetes httpGet probes.
//
// It knows nothing of services: a Backend (the supervisor, or the single-program loop) answers
// the questions and carries out the actions. It never listens on TCP unless asked to, and never
// on a non-loopback address unless asked twice.
package control

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/uno-init/uno/internal/jsonwire"
)

// Version is the protocol version. A request or reply of another version is refused with an
// error that names both, so that an old `uno ctl` against a new uno (or the reverse) says so
// instead of misreading the other.
const Version = 1

// MaxMessage bounds one request or reply line, so that a hostile or broken peer cannot make
// uno allocate without limit. Log lines in a follow stream are bounded by it too.
const MaxMessage = 1 << 20

// The protocol is one JSON object per line over a unix stream socket: the client writes one
// Request, the server writes one Reply (or, for logs, a stream of Replies each carrying a line,
// ended by one with Done set), and closes the connection.

// Commands a Request may carry.
const (
	CmdStatus  = "status"
	CmdReady   = "ready"
	CmdHealth  = "health"
	CmdStart   = "start"
	CmdStop    = "stop"
	CmdRestart = "restart"
	CmdSignal  = "signal"
	CmdLogs    = "logs"
	CmdReload  = "reload"
	// CmdRun starts a run of cron jobs now.
	CmdRun     = "run"
	CmdMetrics = "metrics"
)

// Request is what `uno ctl` asks.
type Request struct {
	Version int      `json:"v"`
	Command string   `json:"cmd"`
	Names   []string `json:"names,omitempty"`
	// Signal is the signal's name for CmdSignal.
	Signal string `json:"signal,omitempty"`
	// DryRun, for CmdReload, says what a reload would do without doing it.
	DryRun bool `json:"dry_run,omitempty"`
	// NoWait returns as soon as an action is under way instead of when it is done.
	NoWait bool `json:"no_wait,omitempty"`
	// Lines and Follow are for CmdLogs.
	Lines  int  `json:"lines,omitempty"`
	Follow bool `json:"follow,omitempty"`
	// Files, for CmdLogs, reads the service's log_file instead of the history; Reopen reopens
	// the log files of Names (all when empty), for an external logrotate.
	Files  bool `json:"files,omitempty"`
	Reopen bool `json:"reopen,omitempty"`
}

// Reply is uno's answer.
type Reply struct {
	Version int    `json:"v"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	// Message is a one-line human answer (probes, actions).
	Message  string          `json:"message,omitempty"`
	Services []ServiceStatus `json:"services,omitempty"`
	// Line is one output line of a logs stream; Done ends the stream.
	Line string `json:"line,omitempty"`
	// Metrics is the Prometheus text exposition, for CmdMetrics.
	Metrics string `json:"metrics,omitempty"`
	Done    bool   `json:"done,omitempty"`
}

// ServiceStatus is one service as `uno ctl status --json` shows it. Its fields are a stable
// schema (docs/control.md): fields may be added, none renamed or removed within a version.
type ServiceStatus struct {
	Name  string `json:"name"`
	Type  string `json:"type"`  // simple, oneshot, cron, or program (single-program mode)
	State string `json:"state"` // waiting, scheduled, starting, running, backoff, stopping, completed, exited, failed, stopped
	Ready bool   `json:"ready"`
	// Essential services decide the container's health and readiness.
	Essential bool `json:"essential"`
	Pid       int  `json:"pid,omitempty"`
	// MainPid is the run's main process as its MAINPID= named it, when not Pid.
	MainPid int `json:"main_pid,omitempty"`
	// StartedAt is when the current (or last) run started; zero if it never ran.
	StartedAt     time.Time `json:"started_at,omitzero"`
	UptimeSeconds float64   `json:"uptime_seconds,omitempty"`
	Restarts      int       `json:"restarts"`
	LastExit      *Exit     `json:"last_exit,omitempty"`
	// Health is the health check's verdict on the current run: "" (no check, or not ready yet),
	// starting, healthy or unhealthy; HealthFailures the failed checks in a row that count, and
	// HealthError the last failed check's error.
	Health         string `json:"health,omitempty"`
	HealthFailures int    `json:"health_failures,omitempty"`
	HealthError    string `json:"health_error,omitempty"`
	// Status is the service's last STATUS= on its notify socket.
	Status string `json:"status,omitempty"`
	// Cron is set for a cron job (type cron).
	Cron *CronStatus `json:"cron,omitempty"`
}

// CronStatus is a cron job's schedule and record.
type CronStatus struct {
	Schedule    string `json:"schedule"`
	Timezone    string `json:"timezone"`
	Concurrency string `json:"concurrency"`
	// NextRun is when the next run is due (jitter included); zero when none is.
	NextRun time.Time `json:"next_run,omitzero"`
	// LastRunStart is when the last run started; LastRun is how it ended.
	LastRunStart time.Time `json:"last_run_start,omitzero"`
	LastRun      *CronRun  `json:"last_run,omitempty"`
	// Runs counts runs started (or tried); Failures the failed ones, Timeouts those stopped
	// for their timeout (counted as failures too), Skips the due runs skipped because one
	// still went (concurrency forbid).
	Runs     int `json:"runs"`
	Failures int `json:"failures"`
	Skips    int `json:"skips"`
	Timeouts int `json:"timeouts"`
	// ExtraRuns are the runs going beside the job's own (concurrency allow).
	ExtraRuns int `json:"extra_runs,omitempty"`
}

// CronRun is how a cron job's run ended.
type CronRun struct {
	DurationSeconds float64 `json:"duration_seconds"`
	// Result is "success", or what went wrong ("exit 1", "timed out: killed by SIGTERM").
	Result string `json:"result"`
	Code   int    `json:"code"`
}

// Exit is how a run ended.
type Exit struct {
	Code        int       `json:"code"`        // the shell's status: the exit code, or 128+n
	Description string    `json:"description"` // "exit 1", "killed by SIGKILL", "not found"
	At          time.Time `json:"at,omitzero"`
}

// ErrVersion reports a peer speaking another protocol version.
var ErrVersion = errors.New("protocol version mismatch")

func checkVersion(v int, peer string) error {
	if v != Version {
		return fmt.Errorf("%w: %s speaks version %d, this uno speaks %d; use the uno binary of the same release", ErrVersion, peer, v, Version)
	}
	return nil
}

// readMessage reads one line of at most MaxMessage bytes into v.
func readMessage(r *bufio.Reader, v any) error {
	line, err := readLine(r)
	if err != nil {
		return err
	}
	if err := jsonwire.Unmarshal(line, v); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	return nil
}

var errTooLong = fmt.Errorf("message longer than %d bytes", MaxMessage)

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxMessage {
			return nil, errTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > MaxMessage:
			return nil, errTooLong // the reader was limited to one byte more than a message
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

func writeMessage(w io.Writer, v any) error {
	data, err := jsonwire.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

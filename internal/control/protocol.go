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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
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
	Done bool   `json:"done,omitempty"`
}

// ServiceStatus is one service as `uno ctl status --json` shows it. Its fields are a stable
// schema (docs/control.md): fields may be added, none renamed or removed within a version.
type ServiceStatus struct {
	Name  string `json:"name"`
	Type  string `json:"type"`  // simple, oneshot, or program (single-program mode)
	State string `json:"state"` // waiting, starting, running, backoff, stopping, completed, exited, failed, stopped
	Ready bool   `json:"ready"`
	// Essential services decide the container's health and readiness.
	Essential bool `json:"essential"`
	Pid       int  `json:"pid,omitempty"`
	// StartedAt is when the current (or last) run started; zero if it never ran.
	StartedAt     time.Time `json:"started_at,omitzero"`
	UptimeSeconds float64   `json:"uptime_seconds,omitempty"`
	Restarts      int       `json:"restarts"`
	LastExit      *Exit     `json:"last_exit,omitempty"`
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
	if err := json.Unmarshal(line, v); err != nil {
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
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

package logmux

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/uno-init/uno/internal/config"
)

// service is what the Mux keeps for one service across its runs: its history, the time of its
// last line (so that timestamps never go back), its rate limit, its log file and its counters.
type service struct {
	name string
	hist *history
	// lastMilli is the time last written on one of its lines, in Unix milliseconds.
	lastMilli atomic.Int64

	mu   sync.Mutex // guards file, lim and out
	file *logFile
	lim  *limiter
	out  config.Output

	counters [2]streamCounters
	dropped  atomic.Uint64
}

type streamCounters struct{ lines, bytes atomic.Uint64 }

// Counters are what a service wrote, counted as it was read: lines (pieces, as Tail returns
// them) and bytes of each stream, and lines dropped by its log_rate.
type Counters struct {
	Lines   [2]uint64 // by Stream
	Bytes   [2]uint64
	Dropped uint64
}

// Counters returns a service's counters since uno started (or since Forget), for /metrics.
// It never waits for a destination.
func (m *Mux) Counters(name string) Counters {
	m.mu.Lock()
	s := m.services[name]
	m.mu.Unlock()
	var c Counters
	if s == nil {
		return c
	}
	for i := range s.counters {
		c.Lines[i] = s.counters[i].lines.Load()
		c.Bytes[i] = s.counters[i].bytes.Load()
	}
	c.Dropped = s.dropped.Load()
	return c
}

// now returns the time for a batch of lines in Unix milliseconds, never before the service's
// last: the wall clock may be stepped back, and a log's lines should read in order.
func (s *service) now() int64 {
	ms := time.Now().UnixMilli()
	for {
		last := s.lastMilli.Load()
		if ms <= last {
			return last
		}
		if s.lastMilli.CompareAndSwap(last, ms) {
			return ms
		}
	}
}

// configure sets the output of the service's next run: its log file (opened, kept, or
// replaced when log_file changed on a reload) and its rate limit (kept while unchanged, so that
// a restart does not refill the burst).
func (m *Mux) configure(s *service, out config.Output) (*logFile, *limiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil && s.file.path != out.File {
		s.file.release()
		s.file = nil
	}
	if out.File != "" {
		if s.file == nil {
			s.file = m.openLogFile(s.name, out)
		} else {
			s.file.setLimits(out)
		}
		s.file.acquire()
	}
	if out.Rate == 0 {
		s.lim = nil
	} else if s.lim == nil || s.out.Rate != out.Rate || s.out.RatePer != out.RatePer || s.out.Burst != out.Burst {
		s.lim = newLimiter(out.Rate, out.RatePer, out.Burst)
	}
	s.out = out
	return s.file, s.lim
}

// Run is one run of a service: the write ends of its two pipes, for the child, and the pid its
// JSON lines carry once Started says it.
type Run struct {
	Stdout, Stderr *os.File
	pid            atomic.Int64
	started        chan struct{}
	once           sync.Once
}

// Started gives the run's pid, which JSON lines carry. Call it once the child has started, or
// with 0 if it could not start. Until then a JSON line waits for it, at most pidWait.
func (r *Run) Started(pid int) {
	r.once.Do(func() {
		r.pid.Store(int64(pid))
		close(r.started)
	})
}

// pidWait bounds how long the first JSON line waits for Started: a child's first output can be
// read before the supervisor has its pid back from the fork.
const pidWait = time.Second

func (r *Run) waitPID() int64 {
	if r == nil {
		return 0
	}
	select {
	case <-r.started:
	case <-time.After(pidWait):
	}
	return r.pid.Load()
}

// Start creates the two pipes of one run of a service, whose output is written as out says.
func (m *Mux) Start(name string, out config.Output) (*Run, error) {
	r := &Run{started: make(chan struct{})}
	var err error
	if r.Stdout, err = m.pipe(name, Stdout, out, r); err != nil {
		return nil, err
	}
	if r.Stderr, err = m.pipe(name, Stderr, out, r); err != nil {
		r.Stdout.Close()
		return nil, err
	}
	return r, nil
}

// Reopen closes and reopens the log files of the named services, or of all when names is empty,
// for an external logrotate that moved them. It returns how many files it reopened.
func (m *Mux) Reopen(names []string) int {
	m.mu.Lock()
	var files []*logFile
	for name, s := range m.services {
		if len(names) > 0 && !contains(names, name) {
			continue
		}
		s.mu.Lock()
		if s.file != nil {
			files = append(files, s.file)
		}
		s.mu.Unlock()
	}
	m.mu.Unlock()
	for _, f := range files {
		f.reopen()
	}
	return len(files)
}

// LogFile returns the path of a service's current log file, or "" if it has none.
func (m *Mux) LogFile(name string) string {
	m.mu.Lock()
	s := m.services[name]
	m.mu.Unlock()
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return ""
	}
	return s.file.path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fileTailBytes bounds how much of a log file FileTail reads: its last lines, not all of it.
const fileTailBytes = 4 << 20

// FileTail returns up to n last lines of a service's current log file, without their newlines,
// read from its last 4 MiB.
func (m *Mux) FileTail(name string, n int) ([][]byte, error) {
	path := m.LogFile(name)
	if path == "" {
		return nil, fmt.Errorf("%s has no log_file", name)
	}
	// Neither a FIFO (which would block the open) nor a symlink planted at the path.
	f, err := openRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	from := max(st.Size()-fileTailBytes, 0)
	data := make([]byte, st.Size()-from)
	k, err := f.ReadAt(data, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	data = bytes.TrimSuffix(data[:k], []byte("\n"))
	if from > 0 {
		// The first line read is likely the end of one: skip it.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	var lines [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		// A long line (raw output keeps its lines whole) in pieces, as Tail has them: each
		// goes in one message of the control protocol, which has a bound.
		for len(line) > readSize {
			at := readSize
			for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(line[at]); i++ {
				at--
			}
			lines = append(lines, line[:at])
			line = line[at:]
		}
		lines = append(lines, line)
	}
	return lines[max(len(lines)-n, 0):], nil
}

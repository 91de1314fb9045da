// Package logmux copies services' output to uno's own stdout and stderr, whole lines, prefixed by
// the service name.
//
// It owns the pipes that services write to, the goroutines that read them, one lock per
// destination and a bounded history of recent lines per service (Tail, Subscribe, Forget). A
// line is written with one Write call under the destination's lock, so services never cut into
// each other's lines. A line too long, too slow or redrawn with "\r" is cut into marked pieces,
// each written the same way (copier.go), so that no service holds a destination for long.
//
// It must never block uno's signal handling or child reaping: nothing in uno's main loop waits on a
// destination. Only the reader goroutines block when a destination is slow, so the slowness reaches
// the service as a full pipe and nothing is dropped. Pipe, Tail and Subscribe never wait for a
// destination; Wait waits only as long as its context allows.
package logmux

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/ulog"
)

const (
	// readSize is how much one read takes from a pipe. It is also the longest piece: a longer
	// line is cut.
	readSize = 64 << 10
	// flushAt bounds the prefixed output built from one read, which can be several times
	// readSize when lines are short and the prefix long.
	flushAt = 256 << 10
	// pipeSize lets a service write a burst without stalling while the reader is busy writing.
	pipeSize = 1 << 20

	defaultTailLines = 1000
	defaultTailBytes = 1 << 20

	// subscriberBuffer and subscriberBytes are how far a subscriber may fall behind, in lines
	// and in bytes, before lines are dropped for it.
	subscriberBuffer = 1024
	subscriberBytes  = 1 << 20

	// holdPartial is how long the start of a line may wait for its end before it is handed on as
	// a piece: long enough that a program writing a line in several writes is rarely cut, short
	// enough that "checking... " shows while the check runs.
	holdPartial = time.Second
)

// Options configure a Mux.
type Options struct {
	// Color wraps each prefix's name in an ANSI colour. Callers set it only when the destination
	// is a terminal.
	Color bool
	// Names are all service names. Prefixes are padded to the longest, and colours are picked by
	// position in this list so that each service keeps its colour from one run to the next.
	Names []string

	// TailLines and TailBytes bound the history kept per service for Tail and Subscribe; the
	// oldest lines go when either is reached. Zero means 1000 lines and 1 MiB.
	TailLines int
	TailBytes int
}

// Stream is which of a service's outputs a pipe carries.
type Stream int

// The two streams a service has, each going to uno's own of the same name.
const (
	Stdout Stream = iota
	Stderr
)

func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return "Stream(" + strconv.Itoa(int(s)) + ")"
}

// Mux copies services' pipes to two destinations. Its methods are safe for concurrent use.
type Mux struct {
	dest      [2]*destination
	color     bool
	width     int
	colorSlot map[string]int
	tailLines int
	tailBytes int
	hold      time.Duration // holdPartial; shorter in tests
	log       atomic.Pointer[ulog.Logger]

	mu       sync.Mutex
	services map[string]*service
	running  int
	idle     chan struct{} // closed when running drops to zero; replaced when a reader starts
}

type destination struct {
	// mu is shared by both destinations when they are the same file, so that a service's stderr
	// line cannot land inside another's stdout line there either.
	mu *destLock
	w  io.Writer
}

// destLock is a sync.Mutex that knows whether anyone waits for it. A sync.Mutex lets the
// goroutine that just unlocked take it again before a woken waiter runs, for up to a
// millisecond; a reader writing the pieces of a huge line to a fast destination writes dozens of
// them in that time while another service's line waits. So that reader steps aside (yield)
// between pieces when someone waits. A lock handed over in strict order (a channel of one token)
// would do the same for every write, but costs a third of the throughput of short lines from
// many services, which barging keeps busy.
type destLock struct {
	mu      sync.Mutex
	waiting atomic.Int32
}

func (l *destLock) Lock() {
	if l.mu.TryLock() {
		return
	}
	l.waiting.Add(1)
	l.mu.Lock()
	l.waiting.Add(-1)
}

func (l *destLock) Unlock() { l.mu.Unlock() }

// yield lets a goroutine waiting for the lock have it before the caller takes it again: Unlock
// queued the waiter it woke to run next on the caller's P, and Gosched runs it.
func (l *destLock) yield() {
	if l.waiting.Load() > 0 {
		runtime.Gosched()
	}
}

// New returns a Mux writing to stdout and stderr.
func New(stdout, stderr io.Writer, opts Options) *Mux {
	m := &Mux{
		color:     opts.Color,
		colorSlot: make(map[string]int, len(opts.Names)),
		tailLines: opts.TailLines,
		tailBytes: opts.TailBytes,
		hold:      holdPartial,
		services:  make(map[string]*service),
	}
	if m.tailLines <= 0 {
		m.tailLines = defaultTailLines
	}
	if m.tailBytes <= 0 {
		m.tailBytes = defaultTailBytes
	}
	for i, name := range opts.Names {
		m.width = max(m.width, utf8.RuneCountInString(name))
		if _, seen := m.colorSlot[name]; !seen {
			m.colorSlot[name] = i
		}
	}
	outLock := new(destLock)
	errLock := outLock
	if !sameDestination(stdout, stderr) {
		errLock = new(destLock)
	}
	m.dest[Stdout] = &destination{mu: outLock, w: stdout}
	m.dest[Stderr] = &destination{mu: errLock, w: stderr}
	return m
}

func sameDestination(a, b io.Writer) bool {
	fa, okA := fileOf(a)
	fb, okB := fileOf(b)
	if okA && okB {
		// os.Stdout and os.Stderr are distinct values even when both are the same terminal or
		// pipe, which is the usual case.
		ia, errA := fa.Stat()
		ib, errB := fb.Stat()
		return errA == nil && errB == nil && os.SameFile(ia, ib)
	}
	// Only pointers are compared: comparing other dynamic types can panic.
	ta := reflect.TypeOf(a)
	return ta != nil && ta == reflect.TypeOf(b) && ta.Kind() == reflect.Pointer && a == b
}

// fileOf is the file w writes to: w itself, or the file behind a wrapper that says (uno wraps
// its stdout and stderr in a stdio.Writer, which raises no SIGPIPE).
func fileOf(w io.Writer) (*os.File, bool) {
	if fw, ok := w.(interface{ File() *os.File }); ok {
		return fw.File(), true
	}
	f, ok := w.(*os.File)
	return f, ok
}

// Pipe creates a pipe for one run of one service's stdout or stderr and returns its write end,
// in blocking mode, for the child; the caller closes its copy once the child has started. A
// goroutine reads the other end until EOF and writes to the matching destination: with prefix,
// whole lines each prefixed by the service name; without, the bytes exactly as read, as soon as
// they are read, so that prompts show.
//
// A line longer than 64 KiB, one whose start has waited a second for its end, and one redrawn
// with a lone "\r" are cut into pieces, each written as a whole line, other services' lines in
// between, and marked " + " instead of " | " when the line goes on after it (see copier.go).
// Otherwise one service could hold every other's output, and through full pipes the services
// themselves. A last line without a newline gets one.
func (m *Mux) Pipe(name string, s Stream, prefix bool) (*os.File, error) {
	out := config.Output{Format: config.FormatPrefix}
	if !prefix {
		out.Format = config.FormatRaw
	}
	return m.pipe(name, s, out, nil)
}

// pipe is Pipe with every output setting: the format, the log file, the rate limit; run gives
// JSON lines their pid.
func (m *Mux) pipe(name string, s Stream, out config.Output, run *Run) (*os.File, error) {
	if s != Stdout && s != Stderr {
		return nil, fmt.Errorf("logmux: %v is neither stdout nor stderr", s)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("logmux: pipe for %s %v: %w", name, s, err)
	}
	// Fd switches the write end back to blocking mode. The child shares that open file
	// description, and few programs expect EAGAIN when their stdout is full.
	fd := w.Fd()
	// Failing leaves the default 64 KiB, which only means more stalls on bursts: the limit is
	// /proc/sys/fs/pipe-max-size and the per-user pipe budget, neither of which is ours to change.
	_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)

	if out.Format == "" {
		out.Format = config.FormatPrefix
	}
	svc := m.service(name)
	file, lim := m.configure(svc, out)
	c := &copier{
		m:       m,
		r:       r,
		dest:    m.dest[s],
		hist:    svc.hist,
		svc:     svc,
		stream:  s,
		thisRun: run,
		file:    file,
		tee:     out.Tee,
		lim:     lim,
		raw:     out.Format == config.FormatRaw && file == nil && lim == nil,
		f: lineFormat{
			format:      out.Format,
			timestamps:  out.Timestamps,
			passthrough: out.Passthrough,
			jsonName:    ulog.AppendString(nil, []byte(name)),
			jsonStream:  ulog.AppendString(nil, []byte(s.String())),
		},
	}
	if out.Format == config.FormatPrefix {
		c.f.prefix = m.prefixFor(name, " | ")
		c.f.cutPrefix = m.prefixFor(name, " + ")
	}
	if run == nil {
		c.f.pid = -1
	}
	m.mu.Lock()
	if m.running == 0 {
		m.idle = make(chan struct{})
	}
	m.running++
	m.mu.Unlock()
	go c.run()
	return w, nil
}

// Wait blocks until every reader has reached EOF and flushed, including readers started while it
// waits, or until ctx is done, and then returns ctx.Err().
func (m *Mux) Wait(ctx context.Context) error {
	m.mu.Lock()
	if m.running == 0 {
		m.mu.Unlock()
		return nil
	}
	idle := m.idle
	m.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Mux) readerDone() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running--
	if m.running == 0 {
		close(m.idle)
	}
}

// Tail returns up to n of the last lines a service wrote, both streams in the order they were
// read, without prefix or newline. A line cut into pieces for output is kept as its pieces, each
// counting as a line. The slices are the caller's.
func (m *Mux) Tail(name string, n int) [][]byte {
	m.mu.Lock()
	svc := m.services[name]
	m.mu.Unlock()
	if svc == nil || n <= 0 {
		return nil
	}
	return svc.hist.tail(n)
}

// Subscribe delivers each new line of a service, as Tail returns them, from now on and across the
// service's restarts, until cancel is called or the service is forgotten; either closes the
// channel. Lines are dropped for a subscriber that falls more than 1024 lines or 1 MiB behind
// (the readers never wait for subscribers), and a line "uno: N lines dropped here: this follower
// fell behind" takes their place once it catches up.
func (m *Mux) Subscribe(name string) (<-chan []byte, func()) {
	return m.service(name).hist.subscribe()
}

// Forget frees a service's history and ends its subscriptions, for a service that is gone (a
// reload removed it). A service of that name added later starts with an empty history; what the
// forgotten one's last run still writes is not kept.
func (m *Mux) Forget(name string) {
	m.mu.Lock()
	svc := m.services[name]
	delete(m.services, name)
	m.mu.Unlock()
	if svc != nil {
		svc.hist.forget()
		svc.mu.Lock()
		if svc.file != nil {
			svc.file.release()
			svc.file = nil
		}
		svc.mu.Unlock()
	}
}

func (m *Mux) service(name string) *service {
	m.mu.Lock()
	defer m.mu.Unlock()
	svc := m.services[name]
	if svc == nil {
		svc = &service{name: name, hist: &history{maxLines: m.tailLines, maxBytes: m.tailBytes}}
		m.services[name] = svc
	}
	return svc
}

// SetLog gives the Mux uno's logger, for the errors of log files. Until then they are dropped.
func (m *Mux) SetLog(log *ulog.Logger) { m.log.Store(log) }

// report logs an error of a service's log file (err nil: it works again), with the number of
// errors not reported since the last report.
func (m *Mux) report(service, msg string, err error, path string, suppressed int) {
	log := m.log.Load()
	if log == nil {
		return
	}
	attrs := []any{"service", service, "file", path}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	if suppressed > 0 {
		attrs = append(attrs, "errors_not_reported", suppressed)
	}
	if err != nil {
		log.Warn(msg+"; its lines go to uno's output meanwhile", attrs...)
	} else {
		log.Warn(msg, attrs...)
	}
}

// palette avoids red, which reads as an error, and black and white, which vanish on one
// background or the other.
var palette = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// prefixFor returns name, coloured and padded, and then sep: " | " or, for a piece that its line
// continues after, " + ".
func (m *Mux) prefixFor(name, sep string) []byte {
	var b []byte
	if m.color {
		slot, ok := m.colorSlot[name]
		if !ok {
			h := fnv.New32a()
			h.Write([]byte(name))
			slot = int(h.Sum32() % uint32(len(palette)))
		}
		b = append(b, "\x1b["...)
		b = append(b, palette[slot%len(palette)]...)
		b = append(b, 'm')
		b = append(b, name...)
		b = append(b, "\x1b[0m"...)
	} else {
		b = append(b, name...)
	}
	for pad := m.width - utf8.RuneCountInString(name); pad > 0; pad-- {
		b = append(b, ' ')
	}
	return append(b, sep...)
}

// Writer returns a writer to the destination of stream s that takes the destination's lock for
// each Write, so that whole lines written through it (uno's own log) never land inside a
// service's line. It blocks while the destination is blocked: callers that must not block put
// a queue in front of it.
func (m *Mux) Writer(s Stream) io.Writer { return lockedWriter{m.dest[s]} }

type lockedWriter struct{ d *destination }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.w.Write(p)
}

// Package logmux copies services' output to uno's own stdout and stderr, whole lines, prefixed by
// the service name.
//
// It owns the pipes that services write to, the goroutines that read them, one lock per
// destination and a bounded history of recent lines per service (Tail, Subscribe). A line is
// written with one Write call under the destination's lock, so services never cut into each
// other's lines.
//
// It must never block uno's signal handling or child reaping: nothing in uno's main loop waits on a
// destination. Only the reader goroutines block when a destination is slow, so the slowness reaches
// the service as a full pipe and nothing is dropped. Pipe, Tail and Subscribe never wait for a
// destination; Wait waits only as long as its context allows.
package logmux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

const (
	// readSize is how much one read takes from a pipe. It is also the longest line that is
	// buffered whole; a longer one is streamed under the destination's lock.
	readSize = 64 << 10
	// flushAt bounds the prefixed output built from one read, which can be several times
	// readSize when lines are short and the prefix long.
	flushAt = 256 << 10
	// pipeSize lets a service write a burst without stalling while the reader is busy writing.
	pipeSize = 1 << 20

	defaultTailLines = 1000
	defaultTailBytes = 1 << 20

	// subscriberBuffer is how many lines a subscriber may fall behind before lines are dropped
	// for it.
	subscriberBuffer = 1024

	// longLineStall is how long a service may pause in the middle of a line too long to buffer
	// while its reader holds the destination's lock. After that the line is ended there so that
	// other services are not held up by one that printed a long line without its newline.
	longLineStall = time.Second
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
	stall     time.Duration // longLineStall; shorter in tests

	mu        sync.Mutex
	histories map[string]*history
	running   int
	idle      chan struct{} // closed when running drops to zero; replaced when a reader starts
}

type destination struct {
	// mu is shared by both destinations when they are the same file, so that a service's stderr
	// line cannot land inside another's stdout line there either.
	mu *sync.Mutex
	w  io.Writer
}

// New returns a Mux writing to stdout and stderr.
func New(stdout, stderr io.Writer, opts Options) *Mux {
	m := &Mux{
		color:     opts.Color,
		colorSlot: make(map[string]int, len(opts.Names)),
		tailLines: opts.TailLines,
		tailBytes: opts.TailBytes,
		stall:     longLineStall,
		histories: make(map[string]*history),
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
	outLock := new(sync.Mutex)
	errLock := outLock
	if !sameDestination(stdout, stderr) {
		errLock = new(sync.Mutex)
	}
	m.dest[Stdout] = &destination{mu: outLock, w: stdout}
	m.dest[Stderr] = &destination{mu: errLock, w: stderr}
	return m
}

func sameDestination(a, b io.Writer) bool {
	fa, okA := a.(*os.File)
	fb, okB := b.(*os.File)
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

// Pipe creates a pipe for one run of one service's stdout or stderr and returns its write end,
// in blocking mode, for the child; the caller closes its copy once the child has started. A
// goroutine reads the other end until EOF and writes to the matching destination: with prefix,
// whole lines each prefixed by the service name; without, the bytes exactly as read, as soon as
// they are read, so that prompts show.
//
// A prefixed line longer than 64 KiB is written in pieces while the destination stays locked. If
// the service pauses for a second inside such a line, the line is ended there and the rest starts
// a new one: otherwise one service could hold every other's output, and through full pipes the
// services themselves. A last line without a newline gets one.
func (m *Mux) Pipe(name string, s Stream, prefix bool) (*os.File, error) {
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

	c := &copier{
		m:    m,
		r:    r,
		dest: m.dest[s],
		hist: m.history(name),
		raw:  !prefix,
	}
	if prefix {
		c.prefix = m.prefixFor(name)
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

// Tail returns up to n of the last complete lines a service wrote, both streams in the order they
// were read, without prefix or newline. A line longer than 64 KiB is kept as its first 64 KiB.
// The slices are the caller's.
func (m *Mux) Tail(name string, n int) [][]byte {
	m.mu.Lock()
	h := m.histories[name]
	m.mu.Unlock()
	if h == nil || n <= 0 {
		return nil
	}
	return h.tail(n)
}

// Subscribe delivers each new line of a service, as Tail returns them, from now on and across the
// service's restarts, until cancel is called; cancel closes the channel. Lines are dropped for a
// subscriber that falls more than 1024 lines behind: the readers never wait for subscribers.
func (m *Mux) Subscribe(name string) (<-chan []byte, func()) {
	return m.history(name).subscribe()
}

func (m *Mux) history(name string) *history {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.histories[name]
	if h == nil {
		h = &history{maxLines: m.tailLines, maxBytes: m.tailBytes}
		m.histories[name] = h
	}
	return h
}

// palette avoids red, which reads as an error, and black and white, which vanish on one
// background or the other.
var palette = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

func (m *Mux) prefixFor(name string) []byte {
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
	return append(b, " | "...)
}

// buffers are pooled because a service that restarts often gets a new reader each run.
type buffers struct {
	read []byte
	out  []byte
	ends []int
}

var bufferPool = sync.Pool{New: func() any {
	return &buffers{read: make([]byte, readSize), out: make([]byte, 0, readSize)}
}}

// copier is the reader of one pipe.
type copier struct {
	m      *Mux
	r      *os.File
	dest   *destination
	hist   *history
	prefix []byte
	raw    bool
	bufs   *buffers

	// inLong: the current line did not fit in the read buffer; its head is already in the
	// history (and, when prefixing, already written).
	inLong bool
	// locked: dest.mu is held across reads until the long line's newline arrives.
	locked bool
}

func (c *copier) run() {
	c.bufs = bufferPool.Get().(*buffers)
	defer func() {
		c.r.Close()
		bufferPool.Put(c.bufs)
		c.m.readerDone()
	}()
	buf := c.bufs.read
	filled := 0 // start of a line kept from earlier reads, at buf[:filled]
	for {
		if c.locked {
			_ = c.r.SetReadDeadline(time.Now().Add(c.m.stall))
		}
		n, err := c.r.Read(buf[filled:])
		if n > 0 {
			filled = c.consume(filled, n)
		}
		if err == nil {
			continue
		}
		if c.locked && errors.Is(err, os.ErrDeadlineExceeded) {
			c.writeLocked([]byte{'\n'})
			c.unlock()
			c.inLong = false
			continue
		}
		// EOF, or a read error a pipe does not really have; either way nothing more will come.
		break
	}
	c.finish(filled)
}

// consume handles n new bytes read after filled kept ones and returns how many bytes to keep.
func (c *copier) consume(filled, n int) int {
	buf := c.bufs.read
	data := buf[:filled+n]
	if c.raw {
		c.write(data[filled:])
	}
	if c.inLong {
		// Everything kept was already handed on when the line became long, so filled is 0.
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if c.locked {
				c.writeLocked(data)
			}
			return 0
		}
		if c.locked {
			c.writeLocked(data[:i+1])
			c.unlock()
		}
		c.inLong = false
		data = data[i+1:]
	}
	if last := bytes.LastIndexByte(data, '\n'); last >= 0 {
		lines := data[:last+1]
		// Found once, used by both the history and the output.
		ends := c.bufs.ends[:0]
		for at := 0; at <= last; {
			at += bytes.IndexByte(lines[at:], '\n') + 1
			ends = append(ends, at)
		}
		c.bufs.ends = ends
		c.hist.addLines(lines, ends)
		if !c.raw {
			c.writePrefixed(lines, ends)
		}
		data = data[last+1:]
	}
	if len(data) == len(buf) {
		c.startLong(data)
		return 0
	}
	return copy(buf, data)
}

// startLong hands on the head of a line that filled the whole read buffer. When prefixing, the
// destination stays locked until the rest of the line is written, so that nothing lands inside it.
func (c *copier) startLong(head []byte) {
	c.hist.add(head)
	c.inLong = true
	if c.raw {
		return
	}
	out := append(c.bufs.out[:0], c.prefix...)
	out = append(out, head...)
	c.bufs.out = out
	c.dest.mu.Lock()
	c.locked = true
	c.writeLocked(out)
}

func (c *copier) unlock() {
	c.locked = false
	c.dest.mu.Unlock()
	_ = c.r.SetReadDeadline(time.Time{})
}

// finish flushes what EOF left: the end of a long line, or a last line without its newline, which
// gets one when prefixed so that the next line starts on a line of its own.
func (c *copier) finish(filled int) {
	if c.locked {
		c.writeLocked([]byte{'\n'})
		c.unlock()
		return
	}
	if c.inLong || filled == 0 {
		return
	}
	line := c.bufs.read[:filled]
	c.hist.add(line)
	if c.raw {
		return
	}
	out := append(c.bufs.out[:0], c.prefix...)
	out = append(out, line...)
	out = append(out, '\n')
	c.bufs.out = out
	c.write(out)
}

// writePrefixed writes complete lines, each with the prefix, in as few Write calls as flushAt
// allows. ends are the offsets just past each line's newline.
func (c *copier) writePrefixed(lines []byte, ends []int) {
	out := c.bufs.out[:0]
	start := 0
	for _, end := range ends {
		out = append(out, c.prefix...)
		out = append(out, lines[start:end]...)
		start = end
		if len(out) >= flushAt {
			c.write(out)
			out = out[:0]
		}
	}
	if len(out) > 0 {
		c.write(out)
	}
	c.bufs.out = out
}

func (c *copier) write(p []byte) {
	c.dest.mu.Lock()
	defer c.dest.mu.Unlock()
	c.writeLocked(p)
}

// writeLocked ignores errors: a destination nobody reads must not stop the service, so the reader
// goes on draining the pipe and keeping the history.
func (c *copier) writeLocked(p []byte) {
	_, _ = c.dest.w.Write(p)
}

// history is a service's recent lines: a byte ring and a ring of line spans into it, both grown on
// demand up to their bounds so that a quiet service costs little.
type history struct {
	mu       sync.Mutex
	maxLines int
	maxBytes int

	data []byte
	head int // offset in data of the oldest line's first byte
	used int

	spans []span
	first int // index in spans of the oldest line
	count int

	subscribers map[chan []byte]struct{}
}

type span struct{ off, n int }

// addLines records complete lines; ends are the offsets just past each line's newline.
func (h *history) addLines(lines []byte, ends []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := 0
	for _, end := range ends {
		h.addLocked(lines[start : end-1])
		start = end
	}
}

func (h *history) add(line []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addLocked(line)
}

func (h *history) addLocked(line []byte) {
	if len(h.subscribers) > 0 {
		h.publish(line)
	}
	if len(line) > h.maxBytes {
		line = line[:h.maxBytes]
	}
	for h.count > 0 && (h.count == h.maxLines || h.used+len(line) > h.maxBytes) {
		h.dropOldest()
	}
	if h.used+len(line) > len(h.data) {
		h.growData(h.used + len(line))
	}
	if h.count == len(h.spans) {
		h.growSpans()
	}
	off := h.head + h.used
	if off >= len(h.data) {
		off -= len(h.data)
	}
	copied := copy(h.data[off:], line)
	copy(h.data, line[copied:])
	h.used += len(line)
	slot := h.first + h.count
	if slot >= len(h.spans) {
		slot -= len(h.spans)
	}
	h.spans[slot] = span{off: off, n: len(line)}
	h.count++
}

func (h *history) publish(line []byte) {
	for ch := range h.subscribers {
		// Senders hold h.mu, so room now is still room at the send.
		if len(ch) < cap(ch) {
			ch <- bytes.Clone(line)
		}
	}
}

func (h *history) dropOldest() {
	s := h.spans[h.first]
	h.head += s.n
	if h.head >= len(h.data) {
		h.head -= len(h.data)
	}
	h.used -= s.n
	if h.used == 0 {
		h.head = 0
	}
	h.first++
	if h.first == len(h.spans) {
		h.first = 0
	}
	h.count--
}

// growData makes room for need bytes, moving the kept bytes to the start.
func (h *history) growData(need int) {
	size := min(max(2*len(h.data), need, 4<<10), h.maxBytes)
	data := make([]byte, size)
	copied := copy(data, h.data[h.head:min(h.head+h.used, len(h.data))])
	copy(data[copied:], h.data[:h.used-copied])
	for i := 0; i < h.count; i++ {
		s := &h.spans[(h.first+i)%len(h.spans)]
		s.off -= h.head
		if s.off < 0 {
			s.off += len(h.data)
		}
	}
	h.data = data
	h.head = 0
}

func (h *history) growSpans() {
	size := min(max(2*len(h.spans), 64), h.maxLines)
	spans := make([]span, size)
	copied := copy(spans, h.spans[h.first:])
	copy(spans[copied:], h.spans[:h.first])
	h.spans = spans
	h.first = 0
}

func (h *history) tail(n int) [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	n = min(n, h.count)
	if n == 0 {
		return nil
	}
	spans := make([]span, n)
	total := 0
	for i := range spans {
		spans[i] = h.spans[(h.first+h.count-n+i)%len(h.spans)]
		total += spans[i].n
	}
	// One allocation for all lines; each slice is capped so that appending to one cannot
	// overwrite the next.
	all := make([]byte, total)
	lines := make([][]byte, n)
	at := 0
	for i, s := range spans {
		copied := copy(all[at:at+s.n], h.data[s.off:])
		copy(all[at+copied:at+s.n], h.data)
		lines[i] = all[at : at+s.n : at+s.n]
		at += s.n
	}
	return lines
}

func (h *history) subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, subscriberBuffer)
	h.mu.Lock()
	if h.subscribers == nil {
		h.subscribers = make(map[chan []byte]struct{})
	}
	h.subscribers[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subscribers, ch)
			close(ch)
		})
	}
	return ch, cancel
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

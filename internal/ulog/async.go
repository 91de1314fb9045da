package ulog

import (
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Async is a writer for uno's own log that never blocks its caller. When whoever reads uno's
// stderr stops reading, the services' output waits in their pipes, but uno must go on handling
// signals and stopping services: so its own lines queue here, up to a bound, and lines beyond
// it are counted and reported once the writer drains.
type Async struct {
	w     io.Writer
	lines chan []byte
	done  chan struct{}

	mu      sync.Mutex
	dropped int
	closed  bool
	// droppedLine formats the count of dropped lines in the log's format.
	droppedLine func(n int) []byte
}

// NewAsync starts a writer that holds at most capacity lines not yet written to w.
func NewAsync(w io.Writer, capacity int) *Async {
	a := &Async{w: w, lines: make(chan []byte, capacity), done: make(chan struct{}), droppedLine: droppedText}
	go a.drain()
	return a
}

// SetJSON makes the line that counts dropped lines a JSON one, as NewWith's JSON lines are, so
// that the stream keeps one format. Call it before the first Write.
func (a *Async) SetJSON() {
	a.mu.Lock()
	defer a.mu.Unlock()
	pid := os.Getpid()
	a.droppedLine = func(n int) []byte {
		b := append([]byte(`{"time":"`), AppendTime(nil, time.Now().UnixMilli())...)
		b = append(b, `","service":"uno","stream":"stderr","pid":`...)
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, `,"level":"warn","msg":"log lines dropped: stderr was not being read","dropped":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, "}\n"...)
	}
}

func droppedText(n int) []byte {
	return []byte("uno: warning: " + strconv.Itoa(n) + " log lines dropped: stderr was not being read\n")
}

func (a *Async) drain() {
	defer close(a.done)
	for line := range a.lines {
		_, _ = a.w.Write(line)
		a.mu.Lock()
		dropped := a.dropped
		a.dropped = 0
		format := a.droppedLine
		a.mu.Unlock()
		if dropped > 0 {
			_, _ = a.w.Write(format(dropped))
		}
	}
}

// Write queues a copy of p, or drops it when the queue is full. It never fails.
func (a *Async) Write(p []byte) (int, error) {
	line := append([]byte(nil), p...)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return len(p), nil
	}
	select {
	case a.lines <- line:
	default:
		a.dropped++
	}
	return len(p), nil
}

// Close stops accepting lines and waits up to timeout for the queued ones to be written. Only the
// first Close waits: the exit budget it was given is spent.
func (a *Async) Close(timeout time.Duration) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	close(a.lines)
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-time.After(timeout):
	}
}

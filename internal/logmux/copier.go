package logmux

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"time"
)

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

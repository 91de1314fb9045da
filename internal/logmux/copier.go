package logmux

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/ulog"
)

// A pipe's reader hands its service's output on in pieces. A piece is a whole line, or part of
// one that had to be cut:
//
//   - when the read buffer (64 KiB) fills without a line end, so that one service never holds a
//     destination for longer than one write of a bounded size, whatever it prints;
//   - when part of a line has waited for its end for the hold time (a second), so that a service
//     that prints "checking... " and then works shows it, without holding anything meanwhile;
//   - after a lone "\r", not followed by "\n": a progress bar redrawn in place comes out one
//     redraw at a time, as drawn, rather than as one line of every redraw at the end.
//
// Each piece is written as one output line with one Write under the destination's lock, so other
// services' lines get in between the pieces of a long line but never inside a piece. A piece that
// its line continues after has " + " in its prefix instead of " | "; the last piece of a line has
// " | ", as a whole line does. The pieces of a line put together are its bytes exactly: the
// marker and the newline ending each output line are not part of them. Cuts fall between UTF-8
// characters, and a size cut leaves a "\r" that might start a "\r\n" for the next piece, so that
// each piece stands on its own in a log pipeline that checks its encoding.
//
// Nothing is held across reads: the lock is taken only to write pieces already read.

// copier is the reader of one pipe.
type copier struct {
	m       *Mux
	r       *os.File
	dest    *destination
	hist    *history
	svc     *service
	stream  Stream
	thisRun *Run // nil for a Pipe without a pid
	f       lineFormat
	file    *logFile // nil without log_file
	tee     bool     // write to dest as well as to file
	lim     *limiter // nil without log_rate
	// raw writes the bytes as soon as they are read, not by pieces, so that prompts show: only
	// raw output to uno's own stdout or stderr, unlimited, does.
	raw  bool
	bufs *buffers

	// cut: the last piece handed on was cut from a line not yet ended, so that EOF must end it.
	cut bool
	// inLine: the last piece read was cut for size or a stall (not at a "\r"), so that the next
	// is the same line's, which log_rate lets through or drops as it did the first piece
	// (lineDropped), without counting it again: the limit is on lines, and a line let through
	// comes whole.
	inLine, lineDropped bool
	// since is when the oldest byte kept in the read buffer was read.
	since time.Time
	// deadline is the read deadline set on r; it is cleared lazily, when it expires.
	deadline time.Time
}

// buffers are pooled because a service that restarts often gets a new reader each run.
type buffers struct {
	read []byte
	out  []byte
	ends []int
	ts   []byte
	keys []keySpan
}

var bufferPool = sync.Pool{New: func() any {
	return &buffers{read: make([]byte, readSize), out: make([]byte, 0, readSize)}
}}

func (c *copier) run() {
	c.bufs = bufferPool.Get().(*buffers)
	defer func() {
		c.r.Close()
		bufferPool.Put(c.bufs)
		if c.file != nil {
			c.file.release()
		}
		c.m.readerDone()
	}()
	buf := c.bufs.read
	kept := 0 // the start of a line, read but not yet handed on, at buf[:kept]
	for {
		var due time.Time
		if kept > 0 {
			due = c.since.Add(c.m.hold)
		}
		if c.lim != nil {
			// A flood that stops must still get its summary, without waiting for a next line.
			if pending, at := c.lim.pending(c.stream); pending && (due.IsZero() || at.Before(due)) {
				due = at
			}
		}
		if !due.IsZero() && !due.Equal(c.deadline) {
			_ = c.r.SetReadDeadline(due)
			c.deadline = due
		}
		n, err := c.r.Read(buf[kept:])
		if n > 0 {
			var handed bool
			before := kept
			kept, handed = c.consume(kept, n)
			if kept > 0 && (before == 0 || handed) {
				// What is kept now was all read just now.
				c.since = time.Now()
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			_ = c.r.SetReadDeadline(time.Time{})
			c.deadline = time.Time{}
			if c.lim != nil {
				c.writeDropped(c.lim.flush(c.stream, false))
			}
			if kept > 0 && !time.Now().Before(c.since.Add(c.m.hold)) {
				kept = c.cutKept(kept, false)
				c.since = time.Now()
			}
			continue
		}
		// EOF, or a read error a pipe does not really have; either way nothing more will come.
		break
	}
	c.finish(kept)
}

// consume hands on the pieces completed by n new bytes read after kept ones, and returns how
// many bytes to keep and whether anything was handed on.
func (c *copier) consume(kept, n int) (int, bool) {
	buf := c.bufs.read
	data := buf[:kept+n]
	c.svc.counters[c.stream].bytes.Add(uint64(n))
	if c.raw {
		c.write(data[kept:])
	}
	handed := false
	if ends := c.pieceEnds(data, kept); len(ends) > 0 {
		last := ends[len(ends)-1]
		c.svc.counters[c.stream].lines.Add(uint64(len(ends)))
		admitted, from := ends, 0
		var report uint64
		if c.lim != nil {
			// The first end may end a line whose first piece was already let through or not.
			cont := 0
			if c.inLine {
				cont = 1
			}
			var k int
			k, report = c.lim.take(c.stream, len(ends)-cont)
			c.svc.dropped.Add(uint64(len(ends) - cont - k))
			admitted = ends[:cont+k]
			if c.inLine && c.lineDropped {
				// Its end goes with it; the lines after it start at ends[0].
				from, admitted = ends[0], ends[1:1+k]
				for i := range admitted {
					admitted[i] -= from
				}
			}
		}
		c.inLine = false
		if len(admitted) > 0 {
			upto := admitted[len(admitted)-1]
			c.hist.addPieces(data[from:from+upto], admitted)
			if !c.raw {
				c.writePieces(data[from:from+upto], admitted)
			}
		}
		// After the lines let through, which came before those dropped.
		c.writeDropped(report)
		c.cut = data[last-1] != '\n'
		data = data[last:]
		handed = true
	}
	if len(data) == len(buf) {
		return c.cutKept(len(data), true), true
	}
	return copy(buf, data), handed
}

// pieceEnds returns the offsets just past each piece's end in data: a "\n", or a "\r" followed
// by something else. data[:from] was scanned before: it has no end but maybe a "\r" as its last
// byte, which the next byte decides.
func (c *copier) pieceEnds(data []byte, from int) []int {
	ends := c.bufs.ends[:0]
	from = max(from-1, 0)
	if bytes.IndexByte(data[from:], '\r') < 0 {
		// Most output has no "\r": one fast search per line.
		for at := from; ; {
			i := bytes.IndexByte(data[at:], '\n')
			if i < 0 {
				break
			}
			at += i + 1
			ends = append(ends, at)
		}
		c.bufs.ends = ends
		return ends
	}
	for at := from; at < len(data); {
		line := data[at:]
		nl := bytes.IndexByte(line, '\n')
		if nl >= 0 {
			line = line[:nl]
		}
		// A "\r" last in line is followed by "\n", or by nothing read yet: not a piece's end.
		for cr := 0; ; {
			i := bytes.IndexByte(line[cr:], '\r')
			if i < 0 || cr+i+1 == len(line) {
				break
			}
			cr += i + 1
			ends = append(ends, at+cr)
		}
		if nl < 0 {
			break
		}
		at += nl + 1
		ends = append(ends, at)
	}
	c.bufs.ends = ends
	return ends
}

// cutKept hands on the first part of the kept bytes as a piece that its line continues after,
// and returns how many bytes are still kept. It cuts before a character the cut would split and,
// when full says the cut is for size, before a last "\r"; if that would leave nothing to hand
// on, it cuts after all kept bytes.
func (c *copier) cutKept(kept int, full bool) int {
	data := c.bufs.read[:kept]
	at := len(data)
	for i := 1; i < utf8.UTFMax && i <= len(data); i++ {
		if b := data[len(data)-i]; utf8.RuneStart(b) {
			if !utf8.FullRune(data[len(data)-i:]) {
				at = len(data) - i
			}
			break
		}
	}
	if full && at > 0 && data[at-1] == '\r' {
		at--
	}
	if at == 0 {
		at = len(data)
	}
	piece := data[:at]
	c.svc.counters[c.stream].lines.Add(1)
	ok, report := c.admitPiece()
	c.inLine, c.lineDropped = true, !ok
	// The lines dropped came before this one, whose next pieces must follow it: the summary
	// goes first, not into the middle of the line.
	c.writeDropped(report)
	if ok {
		c.hist.add(piece)
		if !c.raw {
			c.bufs.out = c.appendPiece(c.bufs.out[:0], piece, cut, c.timestamp())
			c.emit(c.bufs.out)
			c.dest.mu.yield()
		}
	}
	c.cut = true
	return copy(data, data[at:])
}

// finish hands on what EOF left: the rest of a line without its newline, which gets one when
// prefixed so that the next line starts on a line of its own, or, after a cut piece, an empty
// last piece, so that the line's end shows.
func (c *copier) finish(kept int) {
	defer func() {
		if c.lim != nil {
			c.writeDropped(c.lim.flush(c.stream, true))
		}
	}()
	if kept == 0 {
		if c.cut && !c.raw && c.f.format != config.FormatRaw && !(c.inLine && c.lineDropped) {
			c.bufs.out = c.appendPiece(c.bufs.out[:0], nil, last, c.timestamp())
			c.emit(c.bufs.out)
		}
		return
	}
	line := c.bufs.read[:kept]
	c.svc.counters[c.stream].lines.Add(1)
	ok, report := c.admitPiece()
	defer c.writeDropped(report)
	if !ok {
		return
	}
	c.hist.add(line)
	if c.raw {
		return
	}
	c.bufs.out = c.appendPiece(c.bufs.out[:0], line, last, c.timestamp())
	c.emit(c.bufs.out)
}

// admitPiece decides on a piece cut from a line, or a line's last piece: the same as on the
// line's first piece if it continues one, else it takes a line from the rate limit.
func (c *copier) admitPiece() (bool, uint64) {
	if c.lim != nil && c.inLine {
		return !c.lineDropped, 0
	}
	return c.admit()
}

// admit takes one line from the rate limit, if any, and returns a summary count that is due,
// to be written after the line.
func (c *copier) admit() (bool, uint64) {
	if c.lim == nil {
		return true, 0
	}
	k, report := c.lim.take(c.stream, 1)
	if k == 0 {
		c.svc.dropped.Add(1)
	}
	return k == 1, report
}

// writeDropped writes the summary of n lines dropped by the rate limit, as one of the
// service's lines, if n > 0.
func (c *copier) writeDropped(n uint64) {
	if n == 0 {
		return
	}
	text := append(strconv.AppendUint([]byte("uno: "), n, 10), " lines dropped by log_rate"...)
	c.hist.add(text)
	c.emit(c.appendPiece(nil, text, whole, c.timestamp()))
}

// timestamp formats the time for the lines handed on now, once per batch.
func (c *copier) timestamp() []byte {
	if !c.f.needsTime() {
		return nil
	}
	c.bufs.ts = ulog.AppendTime(c.bufs.ts[:0], c.svc.now())
	return c.bufs.ts
}

// writePieces writes pieces, each with its prefix, in as few Write calls as flushAt allows. ends
// are the offsets just past each piece; a piece that does not end in "\n" was cut.
func (c *copier) writePieces(data []byte, ends []int) {
	if c.f.format != config.FormatPrefix || c.f.timestamps {
		c.writeFormatted(data, ends)
		return
	}
	// The common case, by the shortest path: the piece's own "\n" ends the output line.
	prefix, cutPrefix := c.f.prefix, c.f.cutPrefix
	out := c.bufs.out[:0]
	start := 0
	for _, end := range ends {
		if data[end-1] == '\n' {
			out = append(out, prefix...)
			out = append(out, data[start:end]...)
		} else {
			out = append(out, cutPrefix...)
			out = append(out, data[start:end]...)
			out = append(out, '\n')
		}
		start = end
		if len(out) >= flushAt {
			c.emit(out)
			out = out[:0]
		}
	}
	if len(out) > 0 {
		c.emit(out)
	}
	c.bufs.out = out
}

// writeFormatted is writePieces for every other format.
func (c *copier) writeFormatted(data []byte, ends []int) {
	ts := c.timestamp()
	out := c.bufs.out[:0]
	start := 0
	for _, end := range ends {
		if data[end-1] == '\n' {
			out = c.appendPiece(out, data[start:end-1], whole, ts)
		} else {
			out = c.appendPiece(out, data[start:end], cut, ts)
		}
		start = end
		if len(out) >= flushAt {
			c.emit(out)
			out = out[:0]
		}
	}
	if len(out) > 0 {
		c.emit(out)
	}
	c.bufs.out = out
}

// emit writes formatted lines to the log file and, with log_tee or where the file failed, to
// the destination.
func (c *copier) emit(p []byte) {
	if c.file == nil {
		c.write(p)
		return
	}
	n := c.file.write(p)
	if c.tee {
		c.write(p)
	} else if n < len(p) {
		c.write(p[n:])
	}
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

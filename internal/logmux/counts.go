package logmux

import (
	"bytes"
	"sync/atomic"
)

// This file counts what each service wrote, per stream, for uno's metrics: lines (a last line
// without its newline counts once) and bytes, as read from the pipes.

// Count is what one service wrote on one stream.
type Count struct {
	Name   string
	Stream Stream
	Lines  uint64
	Bytes  uint64
}

type streamCount struct{ lines, bytes atomic.Uint64 }

func (c *streamCount) read(p []byte) {
	c.bytes.Add(uint64(len(p)))
	var n uint64
	for i := bytes.IndexByte(p, '\n'); i >= 0; i = bytes.IndexByte(p, '\n') {
		n++
		p = p[i+1:]
	}
	c.lines.Add(n)
}

// counter returns the count of name's stream s, which every run of the service adds to.
func (m *Mux) counter(name string, s Stream) *streamCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]*[2]streamCount{}
	}
	c := m.counts[name]
	if c == nil {
		c = new([2]streamCount)
		m.counts[name] = c
	}
	return &c[s]
}

// Counted returns what name wrote on stdout and stderr.
func (m *Mux) Counted(name string) (out [2]Count) {
	m.mu.Lock()
	c := m.counts[name]
	m.mu.Unlock()
	for s := Stdout; s <= Stderr; s++ {
		out[s] = Count{Name: name, Stream: s}
		if c != nil {
			out[s].Lines, out[s].Bytes = c[s].lines.Load(), c[s].bytes.Load()
		}
	}
	return out
}

package logmux

import (
	"bytes"
	"sync"
)

// history is a service's recent lines, or pieces of lines as they were cut for output: a byte ring and a ring of line spans into it, both grown on
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

// addPieces records pieces, without the newline of those that end a line; ends are the offsets
// just past each piece.
func (h *history) addPieces(data []byte, ends []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := 0
	for _, end := range ends {
		piece := data[start:end]
		if piece[len(piece)-1] == '\n' {
			piece = piece[:len(piece)-1]
		}
		h.addLocked(piece)
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

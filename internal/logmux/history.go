package logmux

import (
	"bytes"
	"fmt"
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

	subscribers map[chan []byte]*subscriber
	// gone: the service was forgotten (Forget); what its last run still writes is not kept.
	gone bool
}

// subscriber is one follower's queue: its channel, and the sizes of the lines in it, so that it
// is bounded in bytes (subscriberBytes) as well as in lines (the channel's capacity): a follower
// that stops reading would otherwise hold 1024 pieces of up to 64 KiB each.
type subscriber struct {
	ch chan []byte
	// sizes are those of the lines sent, oldest first; those the follower has not taken yet are
	// the last len(ch), and queued is their sum.
	sizes  []int
	queued int
	// dropped counts the lines dropped since the last one sent; a line saying so goes first
	// once there is room.
	dropped int
}

type span struct{ off, n int }

// addPieces records pieces, without the newline of those that end a line; ends are the offsets
// just past each piece.
func (h *history) addPieces(data []byte, ends []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Of a batch longer than the ring, only the last maxLines pieces can stay: the earlier ones
	// would be pushed out by the later before anyone could read them (Tail takes the lock), so
	// they are not copied in at all, which was most of the cost of a flood of short lines.
	// Followers still get every piece.
	keepFrom := max(len(ends)-h.maxLines, 0)
	start := 0
	for i, end := range ends {
		piece := data[start:end]
		start = end
		if piece[len(piece)-1] == '\n' {
			piece = piece[:len(piece)-1]
		}
		if i < keepFrom {
			if len(h.subscribers) > 0 && !h.gone {
				h.publish(piece)
			}
			continue
		}
		h.addLocked(piece)
	}
}

func (h *history) add(line []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addLocked(line)
}

func (h *history) addLocked(line []byte) {
	if h.gone {
		return
	}
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
	for _, sub := range h.subscribers {
		sub.offer(line)
	}
}

// offer queues line for the follower if it fits, and otherwise drops it: the readers never
// wait for a follower. The caller holds h.mu, the only sender's lock, so room now is still room
// at the send; the follower only ever makes more.
func (s *subscriber) offer(line []byte) {
	for len(s.sizes) > len(s.ch) {
		s.queued -= s.sizes[0]
		s.sizes = s.sizes[1:]
	}
	var mark []byte
	if s.dropped > 0 {
		mark = fmt.Appendf(nil, "uno: %d lines dropped here: this follower fell behind", s.dropped)
	}
	slots, size := 1, len(line)
	if mark != nil {
		slots, size = 2, size+len(mark)
	}
	if cap(s.ch)-len(s.ch) < slots || s.queued+size > subscriberBytes {
		s.dropped++
		return
	}
	if mark != nil {
		s.send(mark)
		s.dropped = 0
	}
	s.send(bytes.Clone(line))
}

func (s *subscriber) send(line []byte) {
	s.ch <- line
	s.sizes = append(s.sizes, len(line))
	s.queued += len(line)
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
	if h.gone {
		close(ch)
	} else {
		if h.subscribers == nil {
			h.subscribers = make(map[chan []byte]*subscriber)
		}
		h.subscribers[ch] = &subscriber{ch: ch}
	}
	h.mu.Unlock()
	cancel := func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subscribers[ch]; ok {
			delete(h.subscribers, ch)
			close(ch)
		}
	}
	return ch, cancel
}

// forget frees the lines kept and ends every subscription: their channels close.
func (h *history) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gone = true
	for ch := range h.subscribers {
		close(ch)
	}
	h.subscribers = nil
	h.data, h.spans = nil, nil
	h.head, h.used, h.first, h.count = 0, 0, 0, 0
}

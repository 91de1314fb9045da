package logmux

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestFollowerQueueBoundedInBytes: a follower that never reads holds at most 1 MiB of lines in
// uno, however long they are (1024 pieces of 64 KiB would be 64 MiB); once it reads again, a
// line says how many were dropped where they were, and lines flow again.
func TestFollowerQueueBoundedInBytes(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{})
	lines, cancel := m.Subscribe("svc")
	defer cancel()
	const total = 256
	long := strings.Repeat("x", 32<<10) + "\n"
	feed(t, m, "svc", Stdout, true, strings.Repeat(long, total)) // 8 MiB
	waitIdle(t, m)

	// What the follower has not read is all that uno keeps for it.
	queued, n := 0, 0
	for len(lines) > 0 {
		queued += len(<-lines)
		n++
	}
	if queued > 1<<20 || n == 0 {
		t.Fatalf("a follower that did not read had %d lines, %d bytes queued; want some, at most 1 MiB", n, queued)
	}

	feed(t, m, "svc", Stdout, true, "after\n")
	waitIdle(t, m)
	next := func() string {
		select {
		case l := <-lines:
			return string(l)
		case <-time.After(20 * time.Second):
			t.Fatal("no line")
		}
		return ""
	}
	var dropped int
	mark := next()
	if _, err := fmt.Sscanf(mark, "uno: %d lines dropped here: this follower fell behind", &dropped); err != nil || n+dropped < total {
		t.Errorf("after %d lines read of %d: %q, want the number dropped", n, total, mark)
	}
	if got := next(); got != "after" {
		t.Errorf("then %q, want \"after\"", got)
	}
}

// TestForgetFreesHistory: a forgotten service's lines are gone, its followers' channels closed,
// others untouched, and a service given its name later starts afresh.
func TestForgetFreesHistory(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{})
	feed(t, m, "gone", Stdout, true, "a\nb\n")
	feed(t, m, "kept", Stdout, true, "c\n")
	waitIdle(t, m)
	lines, cancel := m.Subscribe("gone")
	defer cancel()

	m.Forget("gone")
	select {
	case l, ok := <-lines:
		if ok {
			t.Errorf("a follower of a forgotten service got %q", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a follower of a forgotten service is still waiting")
	}
	cancel() // after the close: must not close again
	m.mu.Lock()
	_, kept := m.services["gone"]
	m.mu.Unlock()
	if kept || m.Tail("gone", 10) != nil {
		t.Errorf("the forgotten history is still there: %q", m.Tail("gone", 10))
	}
	if got := m.Tail("kept", 10); !equalLines(got, []string{"c"}) {
		t.Errorf("another service's history: %q", got)
	}
	feed(t, m, "gone", Stdout, true, "new\n")
	waitIdle(t, m)
	if got := m.Tail("gone", 10); !equalLines(got, []string{"new"}) {
		t.Errorf("a service of the same name added later: %q, want only its own line", got)
	}
}

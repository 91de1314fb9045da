package logmux

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uno-init/uno/internal/testkit"
)

// sharedDest is one destination for two services, "big" writing one huge line and "small"
// writing numbered lines, that checks every Write the Mux makes to it: whole output lines only,
// big's pieces marked and in order, small's lines whole and in order.
type sharedDest struct {
	mu      sync.Mutex
	big     []byte // big's line, put back together from its pieces
	pieces  int
	longest int   // the longest piece
	done    bool  // big's last piece arrived
	smallAt []int // big's progress when each small line arrived
	carry   []byte
	partial int // bytes of a line not yet ended
	err     error
}

func (d *sharedDest) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if (len(p) == 0 || p[len(p)-1] != '\n') && d.err == nil {
		d.err = fmt.Errorf("a write ends inside a line: ...%q", p[max(0, len(p)-40):])
	}
	// Checking goes on after a failure so that the test can report how long small lines waited.
	data := append(d.carry, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		d.check(data[:i])
		data = data[i+1:]
	}
	d.carry = append(d.carry[:0], data...)
	// The part of a line written so far counts as progress too.
	d.partial = len(d.carry)
	return len(p), nil
}

func (d *sharedDest) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *sharedDest) check(line []byte) {
	if body, ok := bytes.CutPrefix(line, []byte("small | line ")); ok {
		if string(body) != strconv.Itoa(len(d.smallAt)) {
			d.fail("small line %q, want %d", body, len(d.smallAt))
		}
		d.smallAt = append(d.smallAt, len(d.big)+d.partial)
		return
	}
	piece, cut := bytes.CutPrefix(line, []byte("big   + "))
	if !cut {
		var last bool
		if piece, last = bytes.CutPrefix(line, []byte("big   | ")); !last {
			d.fail("line without a known prefix: %.40q", line)
			return
		}
	}
	if d.done {
		d.fail("a piece after big's last one: %.40q", line)
	}
	d.big = append(d.big, piece...)
	d.pieces++
	d.longest = max(d.longest, len(piece))
	d.done = !cut
}

func (d *sharedDest) state() (bigBytes, smallLines int, done bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.big) + d.partial, len(d.smallAt), d.done
}

// TestLongLineIsCutSoOthersGetIn: a service writing a 10 MB line without a newline, in one write
// or slowly in small ones, does not hold the destination: another service's lines get in between
// its pieces. Each piece is a whole output line of at most 64 KiB, marked " + " but for the last,
// and the pieces put together are the line.
//
// The bound is counted in big's progress, not in time: while one small line waits to be written,
// big may write only a few pieces, however fast or slow the machine.
func TestLongLineIsCutSoOthersGetIn(t *testing.T) {
	line := make([]byte, 10_000_000)
	for i := range line {
		line[i] = byte('a' + i%26)
	}
	// maxWait is how much of big's line may pass while one small line waits for the destination.
	// By design that is a piece or two; a quarter of the line leaves room for a loaded machine
	// that takes small's reader off the CPU while big's streams on. Before pieces, small's line
	// waited for the whole of big's.
	maxWait := len(line) / 4
	for _, pace := range []struct {
		name  string
		chunk int
		pause time.Duration
	}{
		{"in one write", len(line), 0},
		{"slowly", 16 << 10, time.Millisecond},
	} {
		t.Run(pace.name, func(t *testing.T) {
			dest := &sharedDest{}
			m := New(dest, io.Discard, Options{Names: []string{"big", "small"}})
			big, err := m.Pipe("big", Stdout, true)
			if err != nil {
				t.Fatal(err)
			}
			small, err := m.Pipe("small", Stdout, true)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				defer big.Close()
				for rest := line; len(rest) > 0; {
					n := min(len(rest), pace.chunk)
					if _, err := big.Write(rest[:n]); err != nil {
						return
					}
					rest = rest[n:]
					time.Sleep(pace.pause) // a service that prints a bit at a time
				}
			}()
			// Small's first line goes once big's line is under way.
			testkit.AwaitProgress(t, "big's first piece", 10*time.Second, func() (int, bool) {
				n, _, _ := dest.state()
				return n, n > 0
			})
			// Small's line waits from when its reader has read it (the history has it): how long
			// the reader takes to wake up is the scheduler's business, not logmux's.
			read, cancel := m.Subscribe("small")
			defer cancel()
			worst, worstFromWrite, before := 0, 0, 0
			for i := 0; ; i++ {
				written, _, _ := dest.state()
				fmt.Fprintf(small, "line %d\n", i)
				testkit.AwaitProgress(t, fmt.Sprintf("small's line %d to be read", i), 10*time.Second, func() (int, bool) {
					select {
					case <-read:
						return 0, true
					default:
						n, _, _ := dest.state()
						return n, false
					}
				})
				sent, _, _ := dest.state()
				testkit.AwaitProgress(t, fmt.Sprintf("small's line %d", i), 10*time.Second, func() (int, bool) {
					n, lines, _ := dest.state()
					return n + lines, lines > i
				})
				dest.mu.Lock()
				arrived, done := dest.smallAt[i], dest.done
				dest.mu.Unlock()
				worst = max(worst, arrived-sent)
				worstFromWrite = max(worstFromWrite, arrived-written)
				if done {
					break
				}
				before++
			}
			small.Close()
			waitIdle(t, m)

			dest.mu.Lock()
			defer dest.mu.Unlock()
			if dest.err != nil {
				t.Error(dest.err)
			}
			t.Logf("%d pieces, the longest %d bytes; %d small lines got in before big's line ended; "+
				"at most %d bytes of big's passed while one waited once read (%d from its write to the pipe)",
				dest.pieces, dest.longest, before, worst, worstFromWrite)
			if worst > maxWait {
				t.Errorf("a small line waited while %d bytes of big's line passed, more than %d", worst, maxWait)
			}
			if !bytes.Equal(dest.big, line) {
				t.Errorf("big's pieces put together: %d bytes, not its line of %d", len(dest.big), len(line))
			}
			if dest.longest > readSize || dest.pieces < len(line)/readSize {
				t.Errorf("%d pieces, the longest %d bytes: want pieces of at most %d", dest.pieces, dest.longest, readSize)
			}
		})
	}
}

// TestStalledPartialLineIsFlushedAsPiece: a service that writes part of a line and then nothing
// has that part written out, marked as continued, once it has waited the hold time; the rest of
// the line follows as its last piece, and another service's line gets in meanwhile.
func TestStalledPartialLineIsFlushedAsPiece(t *testing.T) {
	var out testkit.Buffer
	m := New(&out, io.Discard, Options{Names: []string{"slow", "quick"}})
	m.hold = 20 * time.Millisecond

	slow, err := m.Pipe("slow", Stdout, true)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(slow, "checking the disk... ")
	pollUntil(t, "the partial line", func() bool { return out.String() != "" })
	feed(t, m, "quick", Stdout, true, "hello\n")
	pollUntil(t, "the other service's line", func() bool { return strings.Contains(out.String(), "quick | hello\n") })
	io.WriteString(slow, "ok\n")
	slow.Close()
	waitIdle(t, m)
	want := "slow  + checking the disk... \nquick | hello\nslow  | ok\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	if got := m.Tail("slow", 5); !equalLines(got, []string{"checking the disk... ", "ok"}) {
		t.Errorf("Tail = %q", got)
	}
}

// TestLoneCarriageReturnEndsPiece: a progress bar redrawn with "\r" comes out one redraw per
// output line, as it is drawn, each marked as continued; "\r\n" is an ordinary line end.
func TestLoneCarriageReturnEndsPiece(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{})
	feed(t, m, "svc", Stdout, true, "\r 10%\r 50%\r100%\ndone\r\nx 1%\ry")
	waitIdle(t, m)
	want := "svc + \r\nsvc +  10%\r\nsvc +  50%\r\nsvc | 100%\nsvc | done\r\nsvc + x 1%\r\nsvc | y\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}

// TestPiecesAreCutBetweenCharacters: a line of multi-byte characters longer than a piece is cut
// between characters, so that each piece is valid UTF-8 on its own.
func TestPiecesAreCutBetweenCharacters(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{})
	line := strings.Repeat("é€", readSize) // 5 bytes a pair: no cut falls on a boundary by luck
	feed(t, m, "svc", Stdout, true, line+"\n")
	waitIdle(t, m)
	var joined strings.Builder
	pieces := 0
	for l := range strings.Lines(out.String()) {
		pieces++
		piece, cut := strings.CutPrefix(l, "svc + ")
		if !cut {
			piece = strings.TrimPrefix(l, "svc | ")
		}
		piece = strings.TrimSuffix(piece, "\n")
		if len(piece) > readSize || cut == (joined.Len()+len(piece) == len(line)) {
			t.Fatalf("piece %d: %d bytes, marked as continued: %v", pieces, len(piece), cut)
		}
		if !utf8.ValidString(piece) {
			t.Fatalf("a piece is not valid UTF-8: ...%q", piece[max(0, len(piece)-8):])
		}
		joined.WriteString(piece)
	}
	if joined.String() != line {
		t.Errorf("pieces put together: %d bytes, want %d", joined.Len(), len(line))
	}
}

// TestPausedLongLineHoldsNothing: a service that has written more than a piece of a line and
// then nothing does not hold the destination while it pauses, however long: with the hold time
// out of the way, another service's line still gets in at once.
func TestPausedLongLineHoldsNothing(t *testing.T) {
	var out testkit.Buffer
	m := New(&out, io.Discard, Options{Names: []string{"big", "small"}})
	m.hold = time.Hour

	big, err := m.Pipe("big", Stdout, true)
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Repeat("h", readSize+100)
	io.WriteString(big, head)
	pollUntil(t, "big's first piece", func() bool { return len(out.String()) > readSize })
	feed(t, m, "small", Stdout, true, "hello\n")
	testkit.AwaitProgress(t, "small's line while big pauses", 10*time.Second, func() (int, bool) {
		return 0, strings.Contains(out.String(), "small | hello\n")
	})
	io.WriteString(big, "end\n")
	big.Close()
	waitIdle(t, m)
	want := "big   + " + head[:readSize] + "\nsmall | hello\nbig   | " + head[readSize:] + "end\n"
	if out.String() != want {
		t.Errorf("got %.120q..., want %.120q...", out.String(), want)
	}
}

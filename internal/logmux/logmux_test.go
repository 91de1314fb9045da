package logmux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/stdio"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testkit"
)

func waitIdle(t testing.TB, m *Mux) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// feed writes data to a new pipe of the service and closes the write end, as uno would once the
// child has exited.
func feed(t testing.TB, m *Mux, name string, s Stream, prefix bool, data string) {
	t.Helper()
	w, err := m.Pipe(name, s, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// pollUntil fails the test if cond does not become true before the deadline.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPrefixesArePaddedToLongestName(t *testing.T) {
	var out, errOut bytes.Buffer
	m := New(&out, &errOut, Options{Names: []string{"api", "nginx"}})
	feed(t, m, "api", Stdout, true, "hello\nworld\n")
	waitIdle(t, m)
	feed(t, m, "nginx", Stdout, true, "GET /\n")
	feed(t, m, "api", Stderr, true, "oops\n\n")
	waitIdle(t, m)

	if want := "api   | hello\napi   | world\nnginx | GET /\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
	if want := "api   | oops\napi   | \n"; errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut.String(), want)
	}
}

func TestUnlistedNameIsNotPaddedBeyondItsLength(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{Names: []string{"a"}})
	feed(t, m, "worker", Stdout, true, "x\n")
	waitIdle(t, m)
	if want := "worker | x\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestColourWrapsOnlyTheName(t *testing.T) {
	names := []string{"api", "nginx"}
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		m := New(&out, io.Discard, Options{Color: color, Names: names})
		feed(t, m, "api", Stdout, true, "a \x1b[1mbold\x1b[0m line\n")
		waitIdle(t, m)
		feed(t, m, "nginx", Stdout, true, "n\n")
		waitIdle(t, m)
		want := "api   | a \x1b[1mbold\x1b[0m line\nnginx | n\n"
		if color {
			want = "\x1b[36mapi\x1b[0m   | a \x1b[1mbold\x1b[0m line\n" +
				"\x1b[33mnginx\x1b[0m | n\n"
		}
		if out.String() != want {
			t.Errorf("Color %v: got %q, want %q", color, out.String(), want)
		}
	}
}

func TestColourIsStablePerName(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{Color: true, Names: []string{"a", "b"}})
	if !bytes.Equal(m.prefixFor("b", " | "), m.prefixFor("b", " | ")) || bytes.Equal(m.prefixFor("a", " | "), m.prefixFor("b", " | ")) {
		t.Errorf("prefixes: a %q, b %q", m.prefixFor("a", " | "), m.prefixFor("b", " | "))
	}
	if !bytes.Equal(m.prefixFor("unlisted", " | "), m.prefixFor("unlisted", " | ")) {
		t.Error("an unlisted name's colour changes")
	}
}

// body is line seq of writer w: its number and a filler of varying length, up to a few hundred
// bytes, so that lines straddle read boundaries at every offset.
func body(dst []byte, w, seq int) []byte {
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, ' ')
	for i := range (seq * 37) % 301 {
		dst = append(dst, byte('a'+(w+i)%26))
	}
	return dst
}

// lineChecker parses "name | body" lines as the Mux writes them and checks every writer's
// bodies arrive complete and in sequence. It has no lock of its own: the Mux must serialise
// writes, and the race detector says when it does not.
type lineChecker struct {
	names   []string
	prefix  map[string]int
	next    []int
	carry   []byte
	want    []byte
	writes  int
	partial int // Write calls that did not end on a newline
	err     error
}

func (c *lineChecker) Write(p []byte) (int, error) {
	c.writes++
	if len(p) > 0 && p[len(p)-1] != '\n' {
		c.partial++
	}
	data := append(c.carry, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		c.check(data[:i])
		data = data[i+1:]
	}
	c.carry = append(c.carry[:0], data...)
	return len(p), nil
}

func (c *lineChecker) check(line []byte) {
	if c.err != nil {
		return
	}
	name, rest, ok := bytes.Cut(line, []byte(" | "))
	w, known := c.prefix[string(bytes.TrimRight(name, " "))]
	if !ok || !known {
		c.err = fmt.Errorf("line without a known prefix: %.80q", line)
		return
	}
	c.want = body(c.want[:0], w, c.next[w])
	if !bytes.Equal(rest, c.want) {
		c.err = fmt.Errorf("%s line %d: got %.80q, want %.80q", c.names[w], c.next[w], rest, c.want)
		return
	}
	c.next[w]++
}

func TestConcurrentWritersNeverSplitOrInterleaveLines(t *testing.T) {
	const writers, lines = 8, 200_000
	names := make([]string, writers)
	checker := &lineChecker{prefix: map[string]int{}, next: make([]int, writers)}
	for i := range names {
		names[i] = "svc" + strconv.Itoa(i) + strings.Repeat("x", i)
		checker.prefix[names[i]] = i
	}
	checker.names = names
	m := New(checker, io.Discard, Options{Names: names})

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w, name := range names {
		pw, err := m.Pipe(name, Stdout, true)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer pw.Close()
			// An odd-sized chunk so that writes end at every possible place inside a line.
			chunk := make([]byte, 0, 7919)
			var line []byte
			for seq := range lines {
				line = append(body(line[:0], w, seq), '\n')
				for len(line) > 0 {
					n := min(cap(chunk)-len(chunk), len(line))
					chunk = append(chunk, line[:n]...)
					line = line[n:]
					if len(chunk) == cap(chunk) {
						if _, err := pw.Write(chunk); err != nil {
							errs <- err
							return
						}
						chunk = chunk[:0]
					}
				}
			}
			if _, err := pw.Write(chunk); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	waitIdle(t, m)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if checker.err != nil {
		t.Fatal(checker.err)
	}
	if len(checker.carry) != 0 {
		t.Errorf("output ends inside a line: %.80q", checker.carry)
	}
	for w, got := range checker.next {
		if got != lines {
			t.Errorf("%s: %d lines, want %d", names[w], got, lines)
		}
	}
	if checker.partial != 0 {
		t.Errorf("%d of %d writes ended inside a line", checker.partial, checker.writes)
	}
	// Batching is the point: far fewer writes than lines.
	if checker.writes > writers*lines/10 {
		t.Errorf("%d writes for %d lines", checker.writes, writers*lines)
	}
}

func TestLineLongerThanBufferIsCutIntoPieces(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{Names: []string{"big", "small"}})

	long := make([]byte, 5<<20)
	for i := range long {
		long[i] = byte('a' + i%26)
	}
	big, err := m.Pipe("big", Stdout, true)
	if err != nil {
		t.Fatal(err)
	}
	small, err := m.Pipe("small", Stdout, true)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer big.Close()
		big.Write([]byte("before\n"))
		// In pieces, as a program printing a huge value might.
		for rest := long; len(rest) > 0; {
			n := min(len(rest), 100_003)
			big.Write(rest[:n])
			rest = rest[n:]
		}
		big.Write([]byte("\nafter\n"))
	})
	wg.Go(func() {
		defer small.Close()
		for i := range 20_000 {
			fmt.Fprintf(small, "short %d\n", i)
		}
	})
	wg.Wait()
	waitIdle(t, m)

	var bigLines []string
	var line strings.Builder
	smallSeen := 0
	for l := range strings.Lines(out.String()) {
		if piece, ok := strings.CutPrefix(l, "big   + "); ok {
			if len(piece) > readSize+1 {
				t.Fatalf("a piece of %d bytes", len(piece)-1)
			}
			line.WriteString(strings.TrimSuffix(piece, "\n"))
			continue
		}
		switch {
		case strings.HasPrefix(l, "big   | "):
			line.WriteString(strings.TrimPrefix(l, "big   | "))
			bigLines = append(bigLines, line.String())
			line.Reset()
		case l == fmt.Sprintf("small | short %d\n", smallSeen):
			smallSeen++
		default:
			t.Fatalf("unexpected line %.80q", l)
		}
	}
	if smallSeen != 20_000 {
		t.Errorf("small: %d lines, want 20000", smallSeen)
	}
	if len(bigLines) != 3 || bigLines[0] != "before\n" || bigLines[1] != string(long)+"\n" || bigLines[2] != "after\n" {
		t.Errorf("big: %d lines, or the long one's pieces do not put it back together", len(bigLines))
	}
	// The history keeps pieces: the last ones of the long line, then "after".
	tail := m.Tail("big", 1000)
	if n := len(tail); n < 2 || string(tail[n-1]) != "after" || !bytes.HasSuffix(long, bytes.Join(tail[:n-1], nil)) {
		t.Errorf("Tail does not end with the long line's last pieces and \"after\": %d lines", n)
	}
}

func TestPartialLastLineIsFlushedWithNewline(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{})
	feed(t, m, "svc", Stdout, true, "one\ntwo")
	waitIdle(t, m)
	if want := "svc | one\nsvc | two\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	if got := m.Tail("svc", 5); len(got) != 2 || string(got[1]) != "two" {
		t.Errorf("Tail = %q", got)
	}
}

func TestLongPartialLastLineIsFlushedWithNewline(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{})
	piece := strings.Repeat("z", readSize)
	feed(t, m, "svc", Stdout, true, strings.Repeat(piece, 3)+"zzzzz")
	waitIdle(t, m)
	if want := strings.Repeat("svc + "+piece+"\n", 3) + "svc | zzzzz\n"; out.String() != want {
		t.Errorf("got %d bytes, want %d", out.Len(), len(want))
	}
}

func TestWithoutPrefixBytesPassUntouched(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, io.Discard, Options{Color: true, Names: []string{"raw"}})
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	// A stretch with no newline longer than the read buffer, and no newline at the end.
	for i := 1 << 20; i < 1<<20+3*readSize; i++ {
		if data[i] == '\n' {
			data[i] = 'x'
		}
	}
	data[len(data)-1] = '!'

	w, err := m.Pipe("raw", Stdout, false)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(200_000))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	w.Close()
	waitIdle(t, m)
	if !bytes.Equal(out.Bytes(), data) {
		t.Errorf("output differs from input (%d bytes, want %d)", out.Len(), len(data))
	}
	// The history is cut into pieces as prefixed output is, at a lone "\r" too.
	want := data[bytes.LastIndexByte(data, '\n')+1:]
	want = want[bytes.LastIndexByte(want[:len(want)-1], '\r')+1:]
	lines := m.Tail("raw", 1<<30)
	if last := lines[len(lines)-1]; !bytes.Equal(last, want) {
		t.Errorf("Tail's last line is %q, want %q", last, want)
	}
}

// gateWriter blocks every Write until released, like a terminal nobody scrolls or a full pipe.
type gateWriter struct {
	entered     chan struct{}
	enteredOnce sync.Once
	release     chan struct{}
	testkit.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.enteredOnce.Do(func() { close(g.entered) })
	<-g.release
	return g.Buffer.Write(p)
}

func TestBlockedDestinationBlocksOnlyItsServiceAndLosesNothing(t *testing.T) {
	gate := &gateWriter{entered: make(chan struct{}), release: make(chan struct{})}
	var errOut testkit.Buffer
	m := New(gate, &errOut, Options{Names: []string{"slow", "fast"}})

	slow, err := m.Pipe("slow", Stdout, true)
	if err != nil {
		t.Fatal(err)
	}
	const slowLines = 100_000 // about 4 MB: more than the pipe and the reader's buffers hold
	slowDone := make(chan error, 1)
	go func() {
		defer slow.Close()
		var b bytes.Buffer
		for i := range slowLines {
			fmt.Fprintf(&b, "line %06d of the slow service\n", i)
		}
		_, err := slow.Write(b.Bytes())
		slowDone <- err
	}()
	<-gate.entered

	feed(t, m, "fast", Stderr, true, strings.Repeat("fast line\n", 1000))
	pollUntil(t, "the other destination to keep flowing", func() bool {
		return strings.Count(errOut.String(), "fast | fast line\n") == 1000
	})
	tailed := make(chan [][]byte)
	go func() { tailed <- m.Tail("slow", 1) }()
	select {
	case got := <-tailed:
		if len(got) != 1 {
			t.Errorf("Tail while blocked = %q", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Tail waits for the blocked destination")
	}
	select {
	case err := <-slowDone:
		t.Fatalf("the service wrote everything while its destination was blocked (err %v)", err)
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context while blocked = %v", err)
	}

	close(gate.release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	i := 0
	for line := range strings.Lines(gate.String()) {
		if want := fmt.Sprintf("slow | line %06d of the slow service\n", i); line != want {
			t.Fatalf("line %d = %q, want %q", i, line, want)
		}
		i++
	}
	if i != slowLines {
		t.Errorf("%d lines, want %d", i, slowLines)
	}
}

func TestWaitReturnsContextErrorWhilePipeOpen(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{})
	if err := m.Wait(context.Background()); err != nil {
		t.Fatalf("Wait with no pipes = %v", err)
	}
	w, err := m.Pipe("svc", Stdout, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := m.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want deadline exceeded", err)
	}
	w.Close()
	waitIdle(t, m)
}

func TestPipeWriteEndIsBlockingAndLarge(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{})
	w, err := m.Pipe("svc", Stderr, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Close(); waitIdle(t, m) }()
	flags, err := unix.FcntlInt(w.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("the child's end is non-blocking")
	}
	size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if size != pipeSize {
		// Unprivileged processes are capped by fs/pipe-max-size and a per-user budget.
		if os.Geteuid() == 0 {
			t.Errorf("pipe size %d, want %d", size, pipeSize)
		} else {
			t.Logf("pipe size %d (not root)", size)
		}
	}
	if _, err := m.Pipe("svc", Stream(7), true); err == nil {
		t.Error("Pipe accepted an unknown stream")
	}
}

func TestSameFileSharesOneLock(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	dup, err := unix.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	again := os.NewFile(uintptr(dup), "again")
	defer again.Close()
	m := New(w, again, Options{})
	if m.dest[Stdout].mu != m.dest[Stderr].mu {
		t.Error("two *os.File for one pipe got separate locks")
	}
	var a, b bytes.Buffer
	if m := New(&a, &a, Options{}); m.dest[Stdout].mu != m.dest[Stderr].mu {
		t.Error("one writer got two locks")
	}
	if m := New(&a, &b, Options{}); m.dest[Stdout].mu == m.dest[Stderr].mu {
		t.Error("two writers share a lock")
	}
}

func TestTailKeepsLastLinesOfBothStreams(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{})
	if got := m.Tail("svc", 10); got != nil {
		t.Errorf("Tail of an unknown service = %q", got)
	}
	var b strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&b, "out %d\n", i)
	}
	feed(t, m, "svc", Stdout, true, b.String())
	waitIdle(t, m)
	feed(t, m, "svc", Stderr, false, "err 0\nerr 1\n")
	waitIdle(t, m)

	got := m.Tail("svc", 3)
	if want := []string{"out 1499", "err 0", "err 1"}; !equalLines(got, want) {
		t.Errorf("Tail(3) = %q, want %q", got, want)
	}
	all := m.Tail("svc", 5000)
	if len(all) != defaultTailLines || string(all[0]) != "out 502" {
		t.Errorf("Tail(5000): %d lines from %q, want %d from \"out 502\"", len(all), all[0], defaultTailLines)
	}
	// The caller owns what it got.
	all[0] = append(all[0], "!!!!"...)
	if string(all[1]) != "out 503" {
		t.Errorf("appending to one line changed the next: %q", all[1])
	}
}

func TestTailRespectsByteBound(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{TailBytes: 100})
	feed(t, m, "svc", Stdout, true, strings.Repeat("123456789\n", 50))
	waitIdle(t, m)
	if got := m.Tail("svc", 1000); len(got) != 11 {
		t.Errorf("Tail holds %d lines of 9 bytes within 100 bytes, want 11", len(got))
	}
	// A line longer than the whole bound is kept as its head, alone.
	feed(t, m, "svc", Stdout, true, strings.Repeat("x", 150)+"\n")
	waitIdle(t, m)
	if got, want := m.Tail("svc", 1000), []string{strings.Repeat("x", 100)}; !equalLines(got, want) {
		t.Errorf("Tail = %q, want %q", got, want)
	}
}

// The ring's wrap-around arithmetic against the obvious model: a slice of lines.
func TestHistoryMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bounds := range [][2]int{{1000, 1 << 20}, {7, 50}, {50, 7}, {1, 1}, {3, 4096}} {
		h := &history{maxLines: bounds[0], maxBytes: bounds[1]}
		var model []string
		for i := range 20_000 {
			line := strings.Repeat(string(rune('a'+i%26)), rng.IntN(60))
			if rng.IntN(10) == 0 {
				line = ""
			}
			var batch []string
			if rng.IntN(50) == 0 {
				// A batch, as a read hands on: as if each were added alone.
				for range rng.IntN(3 * bounds[0]) {
					batch = append(batch, strings.Repeat("b", rng.IntN(60)))
				}
				batch = append(batch, line)
				var data []byte
				var ends []int
				for _, l := range batch {
					data = append(append(data, l...), '\n')
					ends = append(ends, len(data))
				}
				h.addPieces(data, ends)
			} else {
				h.add([]byte(line))
				batch = []string{line}
			}
			for _, l := range batch {
				model = append(model, l[:min(len(l), bounds[1])])
				for total := totalLen(model); len(model) > bounds[0] || total > bounds[1]; total = totalLen(model) {
					model = model[1:]
				}
			}
			if n := 1 + rng.IntN(bounds[0]+2); i%97 == 0 || i == 19_999 {
				want := model[max(0, len(model)-n):]
				if got := h.tail(n); !equalLines(got, want) {
					t.Fatalf("bounds %v after %d lines: Tail(%d) = %q, want %q", bounds, i+1, n, got, want)
				}
			}
		}
	}
}

func totalLen(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return n
}

func equalLines(got [][]byte, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if string(got[i]) != want[i] {
			return false
		}
	}
	return true
}

func TestSubscribeDeliversNewLinesAndNeverBlocks(t *testing.T) {
	m := New(io.Discard, io.Discard, Options{})
	feed(t, m, "svc", Stdout, true, "old\n")
	waitIdle(t, m)

	lines, cancel := m.Subscribe("svc")
	slow, cancelSlow := m.Subscribe("svc")
	other, cancelOther := m.Subscribe("other")
	defer cancelOther()

	feed(t, m, "svc", Stdout, true, "new 1\nnew 2\n")
	for _, want := range []string{"new 1", "new 2"} {
		select {
		case got := <-lines:
			if string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no line %q", want)
		}
	}

	// Nobody reads slow: the reader must drop for it rather than wait.
	var b strings.Builder
	for i := range 3 * subscriberBuffer {
		fmt.Fprintf(&b, "burst %d\n", i)
	}
	feed(t, m, "svc", Stderr, true, b.String())
	waitIdle(t, m)
	if len(slow) != subscriberBuffer {
		t.Errorf("slow subscriber holds %d lines, want %d", len(slow), subscriberBuffer)
	}
	if first := <-slow; string(first) != "new 1" {
		t.Errorf("slow subscriber's first line = %q", first)
	}
	cancelSlow()
	cancelSlow()
	n := 0
	for range slow {
		n++
	}
	if n != subscriberBuffer-1 {
		t.Errorf("drained %d lines after cancel, want %d", n, subscriberBuffer-1)
	}

	cancel()
	for range lines {
	}
	if len(other) != 0 {
		t.Errorf("another service's subscriber got %d lines", len(other))
	}
}

// BenchmarkMux reports total lines per second for ten services writing to one stdout, which is
// /dev/null so that the write syscalls are counted.
func BenchmarkMux(b *testing.B) {
	const services = 10
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	names := make([]string, services)
	for i := range names {
		names[i] = "service-" + strconv.Itoa(i)
	}
	// 1000 lines of 20 to 100 bytes, written 1000 at a time as a buffered logger would.
	var chunk []byte
	for i := range 1000 {
		chunk = fmt.Appendf(chunk, "%s level=info request=%d %s\n", "2026-01-01T00:00:00Z", i, strings.Repeat("x", i%80))
	}
	m := New(devNull, io.Discard, Options{Names: names, Color: true})
	b.SetBytes(int64(len(chunk)) / 1000 * services)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, name := range names {
		w, err := m.Pipe(name, Stdout, true)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer w.Close()
			for left := b.N; left > 0; left -= 1000 {
				if left >= 1000 {
					w.Write(chunk)
				} else {
					w.Write(chunk[:lineEnd(chunk, left)])
				}
			}
		})
	}
	wg.Wait()
	waitIdle(b, m)
	b.ReportMetric(float64(services*b.N)/time.Since(start).Seconds(), "lines/s")
}

// lineEnd is the length of the first n lines of chunk.
func lineEnd(chunk []byte, n int) int {
	end := 0
	for range n {
		end += bytes.IndexByte(chunk[end:], '\n') + 1
	}
	return end
}

// TestSameDestinationThroughWrappers: uno hands the mux its stdout and stderr wrapped in
// stdio.Writers; when both are the same pipe they must still share one lock, or a line of
// stdout could cut into one of stderr.
func TestSameDestinationThroughWrappers(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd, err := syscall.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	dup := os.NewFile(uintptr(fd), "dup")
	defer dup.Close()
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer w2.Close()
	if !sameDestination(stdio.New(w), stdio.New(dup)) {
		t.Error("two wrappers of one pipe are taken for two destinations")
	}
	if sameDestination(stdio.New(w), stdio.New(w2)) {
		t.Error("two pipes are taken for one destination")
	}
}

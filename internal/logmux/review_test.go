package logmux

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
)

// Findings of the fresh-eyes review of issue 17 other than untrusted paths (hostile_test.go).

// TestPassthroughOnlyMergesWhatShippersParse: an object that is valid JSON syntax but that
// common parsers refuse (a number beyond float64, as Go's encoding/json and serde_json do; a
// lone UTF-16 surrogate, as serde_json does) must not be merged: one such field would make a
// shipper drop uno's whole line. It is a msg string instead.
func TestPassthroughOnlyMergesWhatShippersParse(t *testing.T) {
	var out syncBuffer
	m := New(&out, io.Discard, Options{})
	in := []string{
		`{"n":1e999}`,
		`{"n":-1e400}`,
		`{"s":"\ud800"}`,
		`{"s":"\udc00x"}`,
		`{"s":"\ud800\u0041"}`,
	}
	merged := []string{
		`{"n":1e308,"m":1e-999,"i":123456789012345678901234567890}`,
		`{"s":"\ud83d\ude00"}`,
	}
	feedRun(t, m, "api", config.Output{Format: config.FormatJSON, Passthrough: true}, 9, Stdout, strings.Join(append(in, merged...), "\n")+"\n")
	waitIdle(t, m)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(in)+len(merged) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(in)+len(merged), out.String())
	}
	for i, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Errorf("line %d is not parsed by encoding/json: %v: %s", i, err, l)
			continue
		}
		_, isMsg := obj["msg"]
		if i < len(in) && (!isMsg || strings.Contains(l, `\ud800"`) || strings.Contains(l, `"\udc00`)) {
			t.Errorf("line %d merged: %s", i, l)
		}
		if i >= len(in) && isMsg {
			t.Errorf("line %d not merged: %s", i, l)
		}
	}
}

// TestRateLimitKeepsOrDropsWholeLines: log_rate counts lines, not the pieces a long line is cut
// into: a line let through comes whole (all its pieces, to its last), and one dropped drops all
// its pieces. Counting pieces let a 1 MiB line through cut off after its fifth piece, so that
// the next line read as its continuation, and counted one line as a dozen dropped.
func TestRateLimitKeepsOrDropsWholeLines(t *testing.T) {
	var out syncBuffer
	m := New(&out, io.Discard, Options{Names: []string{"api"}})
	o := config.Output{Format: config.FormatPrefix, Rate: 1, RatePer: time.Hour, Burst: 3}
	long := strings.Repeat("x", 1<<20)
	// Lines 1 and 3 are let through, whole; 4 and 5 are dropped, whole.
	in := "first\n" + long + "\nthird\n" + long + "\nfifth\n"
	feedRun(t, m, "api", o, 1, Stdout, in)
	waitIdle(t, m)
	var lines []string // the pieces put together
	var cur strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "api + "):
			cur.WriteString(strings.TrimPrefix(l, "api + "))
		case strings.HasPrefix(l, "api | "):
			cur.WriteString(strings.TrimPrefix(l, "api | "))
			lines = append(lines, cur.String())
			cur.Reset()
		default:
			t.Fatalf("line %.40q", l)
		}
	}
	if cur.Len() > 0 {
		t.Errorf("a line of %d bytes without its last piece", cur.Len())
	}
	dropped := 0
	for i := 0; i < len(lines); i++ {
		var n int
		if _, err := fmt.Sscanf(lines[i], "uno: %d lines dropped by log_rate", &n); err == nil {
			dropped += n
			lines = append(lines[:i], lines[i+1:]...)
			i--
		}
	}
	if dropped != 2 {
		t.Errorf("summaries say %d lines dropped, want 2", dropped)
	}
	want := []string{"first", long, "third"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %.200q", len(lines), len(want), lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %d bytes %.60q, want %d bytes %.60q", i, len(lines[i]), lines[i], len(want[i]), want[i])
		}
	}
	if c := m.Counters("api"); c.Dropped != 2 {
		t.Errorf("%d dropped, want 2", c.Dropped)
	}
}

// TestFileTailCutsLongLines: in a raw log file a line is as long as the service made it; uno
// ctl logs --files sends each line as one message of the control protocol, which takes at most
// control.MaxMessage (1 MiB), so a 3 MiB line failed the whole command ("message longer than
// 1048576 bytes"). FileTail returns a long line in pieces, as Tail does.
func TestFileTailCutsLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	m := New(io.Discard, io.Discard, Options{})
	long := strings.Repeat("x", 3<<20)
	feedRun(t, m, "api", config.Output{Format: config.FormatRaw, File: path, MaxFiles: 2}, 1, Stdout, "before\n"+long+"\nshort\n")
	waitIdle(t, m)
	lines, err := m.FileTail("api", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var joined []byte
	for i, l := range lines {
		if len(l) > readSize {
			t.Fatalf("line %d of %d bytes, more than %d", i, len(l), readSize)
		}
		if i > 0 && i < len(lines)-1 {
			joined = append(joined, l...)
		}
	}
	if len(lines) < 3 || string(lines[0]) != "before" || string(lines[len(lines)-1]) != "short" {
		t.Fatalf("%d lines, first %.20q, last %.20q", len(lines), lines[0], lines[len(lines)-1])
	}
	if string(joined) != long {
		t.Errorf("the pieces make %d bytes, not the long line's %d", len(joined), len(long))
	}
}

// TestReopenDuringRotationFlood: uno ctl logs --reopen, again and again, while a flood rotates
// the file: every line is in the files exactly once, whole and in order.
func TestReopenDuringRotationFlood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	m := New(io.Discard, io.Discard, Options{Names: []string{"api"}})
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 64 << 10, MaxFiles: 1000, Compress: true}
	const total = 100000
	run, err := m.Start("api", o)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(1)
	run.Stderr.Close()
	stop := make(chan struct{})
	reopens := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				reopens <- n
				return
			default:
				m.Reopen(nil)
				n++
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for i := 0; i < total; i += 1000 {
		io.WriteString(run.Stdout, numberedLines("api", i, 1000, 60))
	}
	run.Stdout.Close()
	waitIdle(t, m)
	close(stop)
	if n := <-reopens; n < 10 {
		t.Logf("only %d reopens during the flood", n)
	}
	pollUntil(t, "every rotated file compressed", func() bool {
		all, _ := filepath.Glob(path + ".*")
		for _, f := range all {
			if !strings.HasSuffix(f, ".gz") {
				return false
			}
		}
		return true
	})
	lines, _ := readLogFiles(t, path)
	if n := checkSequence(t, lines, "api | ", "api", 0); n != total {
		t.Errorf("%d lines in the files, want %d", n, total)
	}
}

// TestCompressionRetriedAfterAFailure: a rotated file that could not be compressed (a full disk,
// here something in the way of NAME.gz-tmp) is tried again at the next rotation, once the cause
// is gone: it was left uncompressed for good, taking the room log_compress was to save.
func TestCompressionRetriedAfterAFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	if err := os.MkdirAll(filepath.Join(path+".gz-tmp", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	m, rep := newReporting(io.Discard, io.Discard)
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 4 << 10, MaxFiles: 100, Compress: true}
	run, err := m.Start("api", o)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(1)
	run.Stderr.Close()
	io.WriteString(run.Stdout, numberedLines("api", 0, 150, 40))
	pollUntil(t, "the compression's failure", func() bool { return rep.count("cannot compress") == 1 })
	if err := os.RemoveAll(path + ".gz-tmp"); err != nil {
		t.Fatal(err)
	}
	io.WriteString(run.Stdout, numberedLines("api", 150, 150, 40))
	run.Stdout.Close()
	waitIdle(t, m)
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, _ := filepath.Glob(path + ".*")
		var plain []string
		for _, f := range all {
			if !strings.HasSuffix(f, ".gz") {
				plain = append(plain, f)
			}
		}
		if len(plain) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still uncompressed after the next rotations: %q", plain)
		}
		time.Sleep(10 * time.Millisecond)
	}
	lines, _ := readLogFiles(t, path)
	if n := checkSequence(t, lines, "api | ", "api", 0); n != 300 {
		t.Errorf("%d lines, want 300", n)
	}
}

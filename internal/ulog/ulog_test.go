package ulog

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFormat(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, "uno", LevelFor(1))
	log.Debug("hidden")
	log.Info("started program", "pid", 7, "argv", []string{"sh", "-c", "x y"})
	log.Warn("reaped orphan", "status", "exit 0")
	log.With("service", "api").Error("exec /app: no such file or directory")
	log.WithGroup("g").Info("grouped", Group("a", "b", 1), "empty", "")
	want := `uno: started program pid=7 argv="[sh -c x y]"
uno: warning: reaped orphan status="exit 0"
uno: exec /app: no such file or directory service=api
uno: grouped g.a.b=1 g.empty=""
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestLevelFor(t *testing.T) {
	for v, want := range map[int]Level{-1: LevelWarn, 0: LevelWarn, 1: LevelInfo, 2: LevelDebug, 5: LevelDebug} {
		if got := LevelFor(v); got != want {
			t.Errorf("LevelFor(%d) = %v, want %v", v, got, want)
		}
	}
}

// TestJSONFormat: uno's own JSON lines parse, carry the fixed keys, and an attribute named like
// one keeps its name while uno's moves under "uno.".
func TestJSONFormat(t *testing.T) {
	var b bytes.Buffer
	log := NewWith(&b, "uno", LevelFor(2), Options{JSON: true})
	log.Info("service started", "service", "api", "pid", 12, "ok", true, "f", 1.5, "bad", "\xff\x01")
	log.With("service", "db").WithGroup("g").Warn("w", Group("a", "b", 2))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%q", b.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("%s: %v", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatalf("%s: %v", lines[1], err)
	}
	want := map[string]any{"uno.service": "uno", "stream": "stderr", "uno.pid": float64(os.Getpid()), "level": "info",
		"msg": "service started", "service": "api", "pid": 12.0, "ok": true, "f": 1.5, "bad": "\ufffd\x01"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v: %s", k, first[k], v, lines[0])
		}
	}
	if ts, _ := first["time"].(string); len(ts) != len("2026-11-29T18:25:44.123Z") {
		t.Errorf("time %q", ts)
	}
	if second["service"] != "db" || second["uno.service"] != "uno" || second["g.a.b"] != 2.0 || second["level"] != "warn" {
		t.Errorf("%s", lines[1])
	}
}

func TestTimestampedText(t *testing.T) {
	var b bytes.Buffer
	NewWith(&b, "uno", LevelFor(1), Options{Timestamps: true}).Info("hello", "k", "v")
	ts, rest, _ := strings.Cut(b.String(), " ")
	if _, err := time.Parse(time.RFC3339, ts); err != nil || rest != "uno: hello k=v\n" {
		t.Errorf("%q: %v", b.String(), err)
	}
}

// TestAppendStringMatchesEncodingJSON: every string of bytes comes back from encoding/json as
// itself, with U+FFFD for each invalid byte; the 8-byte fast path agrees with the slow one at
// every position of every special byte.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	specials := []byte{0, 1, 0x1f, ' ', '"', '\\', '/', 0x7f, 0x80, 0xc3, 0xff, 'a', '\n', '\r', '\t'}
	for n := 0; n <= 17; n++ {
		for pos := 0; pos < n; pos++ {
			for _, sp := range specials {
				in := bytes.Repeat([]byte{'x'}, n)
				in[pos] = sp
				out := AppendString(nil, in)
				var got string
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("%q -> %s: %v", in, out, err)
				}
				if want := strings.ToValidUTF8(string(in), "\uFFFD"); got != want {
					t.Fatalf("%q -> %s -> %q, want %q", in, out, got, want)
				}
				if sp < 0x20 && bytes.IndexByte(out, sp) >= 0 {
					t.Fatalf("%q: %q unescaped in %s", in, sp, out)
				}
			}
		}
	}
	for _, s := range []string{"é漢字😀", "\u2028\u2029", "\xe2\x82", "ok \xf0\x9f\x98"} {
		out := AppendString(nil, []byte(s))
		var got string
		if err := json.Unmarshal(out, &got); err != nil || !utf8.Valid(out) || bytes.Contains(out, []byte("\u2028")) {
			t.Errorf("%q -> %s (%v)", s, out, err)
		}
	}
}

// blockedWriter blocks every Write until released.
type blockedWriter struct {
	release chan struct{}
	buf     bytes.Buffer
}

func (b *blockedWriter) Write(p []byte) (int, error) {
	<-b.release
	return b.buf.Write(p)
}

// TestAsyncDroppedLineInJSON: with SetJSON the count of dropped lines is a JSON line too.
func TestAsyncDroppedLineInJSON(t *testing.T) {
	w := &blockedWriter{release: make(chan struct{})}
	a := NewAsync(w, 1)
	a.SetJSON()
	for range 10 {
		a.Write([]byte("{}\n"))
	}
	close(w.release)
	a.Close(time.Minute)
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	var rec struct {
		Service, Level string
		Dropped        int
	}
	// The count comes after the line being written when the queue filled: not always last.
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if rec.Dropped > 0 {
			break
		}
	}
	if rec.Service != "uno" || rec.Level != "warn" || rec.Dropped+len(lines)-1 != 10 {
		t.Errorf("lines %q: the count %+v", lines, rec)
	}
}

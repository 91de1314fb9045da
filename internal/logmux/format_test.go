package logmux

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uno-init/uno/internal/config"
)

// syncBuffer is a destination the test reads while readers write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// feedRun writes data to one run's stream (and nothing to the other) with the given pid, as
// the supervisor would, and closes both write ends.
func feedRun(t testing.TB, m *Mux, name string, out config.Output, pid int, s Stream, data string) {
	t.Helper()
	run, err := m.Start(name, out)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(pid)
	w := run.Stdout
	if s == Stderr {
		w = run.Stderr
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	run.Stdout.Close()
	run.Stderr.Close()
}

type jsonLine struct {
	Time    string `json:"time"`
	Service string `json:"service"`
	Stream  string `json:"stream"`
	Pid     int    `json:"pid"`
	Msg     string `json:"msg"`
	Partial bool   `json:"partial"`
}

func parseJSONLines(t *testing.T, out string) []jsonLine {
	t.Helper()
	var lines []jsonLine
	for _, l := range strings.SplitAfter(out, "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			t.Fatalf("output does not end in a newline: %q", l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line is not valid UTF-8: %q", l)
		}
		var j jsonLine
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", j.Time); err != nil || !strings.HasSuffix(j.Time, "Z") || len(j.Time) != len("2026-11-29T18:25:44.123Z") {
			t.Errorf("time %q is not RFC 3339 UTC with milliseconds: %v", j.Time, err)
		}
		lines = append(lines, j)
	}
	return lines
}

// TestJSONRoundTrip: each line comes back, parsed by encoding/json, with its service, stream,
// pid and text, whatever bytes it held: quotes, backslashes, control characters, invalid UTF-8
// (as U+FFFD), U+2028, a "\r\n" end; a line longer than a read comes as pieces marked partial.
func TestJSONRoundTrip(t *testing.T) {
	var out, errOut syncBuffer
	m := New(&out, &errOut, Options{})
	texts := []string{
		"plain",
		`quotes " and \ backslash`,
		"tab\tbell\x07 esc\x1b[31m nul\x00 del\x7f",
		"bad \xff\xfe utf-8 \xe2\x82",
		"sep \u2028 \u2029 and é ü 漢字 😀",
		"",
		`{"not":"passthrough"}`,
	}
	long := strings.Repeat("x", readSize+100)
	feedRun(t, m, "api", config.Output{Format: config.FormatJSON}, 4242, Stdout, strings.Join(texts, "\n")+"\ncrlf\r\n"+long+"\nlast")
	feedRun(t, m, `we"ird`, config.Output{Format: config.FormatJSON}, 7, Stderr, "e\n")
	waitIdle(t, m)

	got := parseJSONLines(t, out.String())
	want := append([]string{}, texts...)
	for i, w := range want {
		want[i] = strings.ToValidUTF8(w, "\uFFFD")
	}
	// ToValidUTF8 replaces a run of bad bytes with one U+FFFD; uno writes one per byte.
	want[3] = "bad \uFFFD\uFFFD utf-8 \uFFFD\uFFFD"
	want = append(want, "crlf")
	var msgs []string
	var partial int
	var joined strings.Builder
	for _, l := range got {
		if l.Service != "api" || l.Stream != "stdout" || l.Pid != 4242 {
			t.Errorf("line %+v: want service api, stream stdout, pid 4242", l)
		}
		if strings.HasPrefix(l.Msg, "xxx") || l.Partial {
			joined.WriteString(l.Msg)
			if l.Partial {
				partial++
			}
			continue
		}
		msgs = append(msgs, l.Msg)
	}
	want = append(want, "last")
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("messages:\n got %q\nwant %q", msgs, want)
	}
	if joined.String() != long || partial == 0 {
		t.Errorf("the long line: %d bytes in pieces (%d partial), want %d", joined.Len(), partial, len(long))
	}
	e := parseJSONLines(t, errOut.String())
	if len(e) != 1 || e[0].Service != `we"ird` || e[0].Stream != "stderr" || e[0].Msg != "e" || e[0].Pid != 7 {
		t.Errorf("stderr: %+v", e)
	}
}

// TestJSONWithoutPidOmitsIt: a pipe made without a run (Pipe) has no pid field.
func TestJSONWithoutPidOmitsIt(t *testing.T) {
	var out syncBuffer
	m := New(&out, io.Discard, Options{})
	w, err := m.pipe("a", Stdout, config.Output{Format: config.FormatJSON}, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "x\n")
	w.Close()
	waitIdle(t, m)
	if strings.Contains(out.String(), `"pid"`) {
		t.Errorf("%q has a pid", out.String())
	}
}

// TestPassthroughMergesObjects: an object's fields are merged, its bytes kept; where it has
// uno's keys, uno's go under "uno." (and "uno.uno." if that is taken too); anything that is not
// exactly one valid object is a msg.
func TestPassthroughMergesObjects(t *testing.T) {
	var out syncBuffer
	m := New(&out, io.Discard, Options{})
	in := []string{
		`{"level":"info","n":1,"nested":{"a":[1,2,{"b":null}]}}`,
		`{"time":"app's","service":"app's","uno.time":"taken","pid":"x"}`,
		`  { "stream" : true }  `,
		`{}`,
		`{"\u0074ime":"escaped key"}`,
		`{"a":1} trailing`,
		`{"a":01}`,
		`{"a":"bad` + "\xff" + `"}`,
		`[1,2]`,
		`{"a":1,}`,
	}
	feedRun(t, m, "api", config.Output{Format: config.FormatJSON, Passthrough: true}, 9, Stdout, strings.Join(in, "\n")+"\n")
	waitIdle(t, m)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(in) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(in), out.String())
	}
	objs := make([]map[string]any, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &objs[i]); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not valid JSON", i)
		}
	}
	check := func(i int, key string, want any) {
		t.Helper()
		got, ok := objs[i][key]
		if !ok || !jsonEqual(got, want) {
			t.Errorf("line %d %s: %v (present %v), want %v; line %s", i, key, got, ok, want, lines[i])
		}
	}
	check(0, "level", "info")
	check(0, "n", 1.0)
	check(0, "service", "api")
	check(0, "stream", "stdout")
	check(0, "pid", 9.0)
	if _, ok := objs[0]["msg"]; ok {
		t.Errorf("a merged object has msg: %s", lines[0])
	}
	check(1, "time", "app's")
	check(1, "service", "app's")
	check(1, "uno.time", "taken")
	check(1, "pid", "x")
	check(1, "uno.service", "api")
	check(1, "uno.pid", 9.0)
	if ts, ok := objs[1]["uno.uno.time"].(string); !ok || len(ts) != len("2026-11-29T18:25:44.123Z") {
		t.Errorf("uno's time not under uno.uno.time: %s", lines[1])
	}
	check(2, "stream", true)
	check(2, "uno.stream", "stdout")
	check(3, "service", "api")
	check(4, "time", "escaped key")
	if _, ok := objs[4]["uno.time"]; !ok {
		t.Errorf("an escaped key equal to time did not move uno's: %s", lines[4])
	}
	for i := 5; i < len(in); i++ {
		check(i, "msg", strings.ToValidUTF8(in[i], "\uFFFD"))
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestPrefixTimestampsParseAndAreMonotonic: with log_timestamps each prefixed line starts with
// an RFC 3339 UTC time with milliseconds, and a service's times never go back on a stream, over
// its runs. (Between its two streams written to one destination, a batch of one can be stamped
// just before a batch of the other but written just after it.)
func TestPrefixTimestampsParseAndAreMonotonic(t *testing.T) {
	var out, errOut syncBuffer
	m := New(&out, &errOut, Options{Names: []string{"api"}})
	var data strings.Builder
	for i := range 20000 {
		data.WriteString("line ")
		data.WriteString(strings.Repeat("y", i%50))
		data.WriteString("\n")
	}
	o := config.Output{Format: config.FormatPrefix, Timestamps: true}
	for range 3 {
		feedRun(t, m, "api", o, 1, Stdout, data.String())
		feedRun(t, m, "api", o, 1, Stderr, data.String())
		waitIdle(t, m) // the next run starts after this one ended
	}
	waitIdle(t, m)
	n := 0
	for _, dest := range []*syncBuffer{&out, &errOut} {
		var last time.Time
		for _, l := range strings.Split(strings.TrimSuffix(dest.String(), "\n"), "\n") {
			ts, rest, ok := strings.Cut(l, " ")
			if !ok || !strings.HasPrefix(rest, "api | line ") {
				t.Fatalf("line %q", l)
			}
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil || len(ts) != len("2026-11-29T18:25:44.123Z") || !strings.HasSuffix(ts, "Z") {
				t.Fatalf("timestamp %q: %v", ts, err)
			}
			if at.Before(last) {
				t.Fatalf("time went back: %v after %v", at, last)
			}
			last = at
			n++
		}
		if d := time.Since(last); d < -time.Second || d > time.Minute {
			t.Errorf("last timestamp %v is %v from now", last, d)
		}
	}
	if n != 6*20000 {
		t.Errorf("%d lines, want %d", n, 6*20000)
	}
}

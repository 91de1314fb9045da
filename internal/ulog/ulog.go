// Package ulog writes uno's own log: one line per event on stderr, "uno: message key=value ..."
// (optionally after a timestamp) or one JSON object per line in the format logmux gives the
// services' lines, never on stdout, which belongs to the program. It also owns that JSON
// encoding (jsonenc.go), which logmux uses for every line.
//
// Its Logger (logger.go) has log/slog's API without log/slog, which would cost the binary
// encoding/json's encoder; the handlers here own the line format and the verbosity threshold.
package ulog

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// LevelFor maps a -v count to a level: warnings and errors by default, -v adds what uno does,
// -vv adds debug detail.
func LevelFor(verbosity int) Level {
	switch {
	case verbosity <= 0:
		return LevelWarn
	case verbosity == 1:
		return LevelInfo
	default:
		return LevelDebug
	}
}

// New returns a logger writing lines prefixed with name (usually "uno") to w at level and above.
func New(w io.Writer, name string, level Leveler) *Logger {
	return NewLogger(&handler{out: &output{w: w}, prefix: name + ": ", level: level})
}

type output struct {
	mu sync.Mutex
	w  io.Writer
}

type handler struct {
	out    *output
	prefix string
	level  Leveler
	attrs  string // pre-formatted With attributes
	// timestamps starts each line with the time.
	timestamps bool
}

func (h *handler) Enabled(l Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(r Record) error {
	var b strings.Builder
	if h.timestamps {
		t := r.Time
		if t.IsZero() {
			t = time.Now()
		}
		b.Write(AppendTime(make([]byte, 0, 25), t.UnixMilli()))
		b.WriteByte(' ')
	}
	b.WriteString(h.prefix)
	// Errors end uno, so they read like any tool's last word ("uno: exec /app: ..."); warnings
	// are marked because the program goes on.
	if r.Level >= LevelWarn && r.Level < LevelError {
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	for _, a := range r.Attrs {
		appendAttr(&b, a)
	}
	b.WriteByte('\n')
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := io.WriteString(h.out.w, b.String())
	return err
}

func (h *handler) WithAttrs(attrs []Attr) Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, a)
	}
	h2 := *h
	h2.attrs = b.String()
	return &h2
}

func appendAttr(b *strings.Builder, a Attr) {
	b.WriteByte(' ')
	b.WriteString(a.Key)
	b.WriteByte('=')
	s := valueString(a.Value)
	if needsQuote(s) {
		s = strconv.Quote(s)
	}
	b.WriteString(s)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if unicode.IsSpace(r) || r == '"' || r == '=' || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// Package ulog writes uno's own log: one line per event on stderr, "uno: message key=value ..."
// (optionally after a timestamp) or one JSON object per line in the format logmux gives the
// services' lines, never on stdout, which belongs to the program. It also owns that JSON
// encoding (jsonenc.go), which logmux uses for every line.
//
// It is a log/slog handler so that callers use slog's API; it owns only the line format and the
// verbosity threshold.
package ulog

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// LevelFor maps a -v count to a level: warnings and errors by default, -v adds what uno does,
// -vv adds debug detail.
func LevelFor(verbosity int) slog.Level {
	switch {
	case verbosity <= 0:
		return slog.LevelWarn
	case verbosity == 1:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// New returns a logger writing lines prefixed with name (usually "uno") to w at level and above.
func New(w io.Writer, name string, level slog.Leveler) *slog.Logger {
	return slog.New(&handler{out: &output{w: w}, prefix: name + ": ", level: level})
}

type output struct {
	mu sync.Mutex
	w  io.Writer
}

type handler struct {
	out    *output
	prefix string
	level  slog.Leveler
	attrs  string // pre-formatted With attributes
	group  string
	// timestamps starts each line with the time.
	timestamps bool
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
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
	if r.Level >= slog.LevelWarn && r.Level < slog.LevelError {
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	b.WriteByte('\n')
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := io.WriteString(h.out.w, b.String())
	return err
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	h2 := *h
	h2.attrs = b.String()
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	h2 := *h
	h2.group = h.group + name + "."
	return &h2
}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, ga := range a.Value.Group() {
			appendAttr(b, group+a.Key+".", ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	s := a.Value.String()
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

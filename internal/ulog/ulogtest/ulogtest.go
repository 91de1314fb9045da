// Package ulogtest lets tests record uno's log lines with a log/slog handler: ulog.Logger has
// slog's methods but not its types. It imports log/slog, so only tests may import it (jsonwire's
// TestNoEncodingJSON fails if cmd/uno comes to depend on log/slog).
package ulogtest

import (
	"context"
	"log/slog"

	"github.com/uno-init/uno/internal/ulog"
)

// FromSlog returns a ulog logger that hands every line to h as a slog.Record, with the same
// level, message, time and attributes (each value as slog.Any makes it).
func FromSlog(h slog.Handler) *ulog.Logger { return ulog.NewLogger(handler{h}) }

type handler struct{ h slog.Handler }

func (a handler) Enabled(l ulog.Level) bool {
	return a.h.Enabled(context.Background(), slog.Level(l))
}

func (a handler) Handle(r ulog.Record) error {
	rec := slog.NewRecord(r.Time, slog.Level(r.Level), r.Message, 0)
	rec.AddAttrs(attrs(r.Attrs)...)
	return a.h.Handle(context.Background(), rec)
}

func (a handler) WithAttrs(as []ulog.Attr) ulog.Handler { return handler{a.h.WithAttrs(attrs(as))} }

func attrs(as []ulog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Any(a.Key, a.Value)
	}
	return out
}

package ulog

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"
)

// Options choose the format of uno's own lines, to match the services' output on the same
// stream: one stream, one format.
type Options struct {
	// JSON writes one object per line, as logmux writes the services' lines, with "service":
	// "uno".
	JSON bool
	// Timestamps starts each text line with the time, as logmux's prefixed lines.
	Timestamps bool
}

// NewWith returns a logger writing uno's lines to w in the format opts choose.
func NewWith(w io.Writer, name string, level slog.Leveler, opts Options) *slog.Logger {
	if opts.JSON {
		return slog.New(&jsonHandler{out: &output{w: w}, name: name, level: level, pid: os.Getpid()})
	}
	return slog.New(&handler{out: &output{w: w}, prefix: name + ": ", level: level, timestamps: opts.Timestamps})
}

// fixedKeys are the keys every JSON line starts with; an attribute of the same name is written
// as "attr.NAME" so that no object has a key twice.
var fixedKeys = []string{"time", "service", "stream", "pid", "level", "msg"}

// jsonHandler writes {"time":...,"service":"uno","stream":"stderr","pid":1,"level":"warn",
// "msg":"...", attributes...}.
type jsonHandler struct {
	out   *output
	name  string
	level slog.Leveler
	pid   int
	attrs []byte // pre-encoded With attributes, each starting with a comma
	group string
}

func (h *jsonHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *jsonHandler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"time":"`...)
	b = AppendTime(b, t.UnixMilli())
	b = append(b, `","service":`...)
	b = AppendString(b, []byte(h.name))
	b = append(b, `,"stream":"stderr","pid":`...)
	b = strconv.AppendInt(b, int64(h.pid), 10)
	b = append(b, `,"level":`...)
	b = AppendString(b, []byte(levelName(r.Level)))
	b = append(b, `,"msg":`...)
	b = AppendString(b, []byte(r.Message))
	b = append(b, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendJSONAttr(b, h.group, a)
		return true
	})
	b = append(b, "}\n"...)
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := h.out.w.Write(b)
	return err
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}

func (h *jsonHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = slices.Clone(h.attrs)
	for _, a := range attrs {
		h2.attrs = appendJSONAttr(h2.attrs, h.group, a)
	}
	return &h2
}

func (h *jsonHandler) WithGroup(name string) slog.Handler {
	h2 := *h
	h2.group = h.group + name + "."
	return &h2
}

// appendJSONAttr writes an attribute as ,"key":value; groups flatten to dotted keys, as in the
// text format.
func appendJSONAttr(b []byte, group string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, ga := range a.Value.Group() {
			b = appendJSONAttr(b, group+a.Key+".", ga)
		}
		return b
	}
	key := group + a.Key
	if slices.Contains(fixedKeys, key) {
		key = "attr." + key
	}
	b = append(b, ',')
	b = AppendString(b, []byte(key))
	b = append(b, ':')
	switch a.Value.Kind() {
	case slog.KindInt64:
		return strconv.AppendInt(b, a.Value.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, a.Value.Uint64(), 10)
	case slog.KindBool:
		return strconv.AppendBool(b, a.Value.Bool())
	case slog.KindFloat64:
		if f := a.Value.Float64(); f == f && f-f == 0 { // finite: JSON has no NaN or Inf
			return strconv.AppendFloat(b, f, 'g', -1, 64)
		}
	}
	return AppendString(b, []byte(a.Value.String()))
}

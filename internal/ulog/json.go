package ulog

import (
	"io"
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
func NewWith(w io.Writer, name string, level Leveler, opts Options) *Logger {
	if opts.JSON {
		return NewLogger(&jsonHandler{out: &output{w: w}, name: name, level: level, pid: os.Getpid()})
	}
	return NewLogger(&handler{out: &output{w: w}, prefix: name + ": ", level: level, timestamps: opts.Timestamps})
}

// fixedKeys are the keys every JSON line has. An attribute of the same name keeps it ("service"
// for the service an event is about, "pid" for its process), and uno's key moves under "uno."
// ("uno.service": "uno"), as json_passthrough does with a service's own keys: one rule for
// every line of the stream.
var fixedKeys = [...]string{"time", "service", "stream", "pid", "level", "msg"}

// jsonHandler writes {"time":...,"service":"uno","stream":"stderr","pid":1,"level":"warn",
// "msg":"...", attributes...}.
type jsonHandler struct {
	out   *output
	name  string
	level Leveler
	pid   int
	attrs []byte   // pre-encoded With attributes, each starting with a comma
	keys  []string // their keys
}

func (h *jsonHandler) Enabled(l Level) bool { return l >= h.level.Level() }

func (h *jsonHandler) Handle(r Record) error {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	attrs := slices.Clone(h.attrs)
	keys := slices.Clone(h.keys)
	for _, a := range r.Attrs {
		attrs, keys = appendJSONAttr(attrs, keys, a)
	}
	var values [len(fixedKeys)][]byte
	values[0] = append(append([]byte{'"'}, AppendTime(nil, t.UnixMilli())...), '"')
	values[1] = AppendString(nil, []byte(h.name))
	values[2] = []byte(`"stderr"`)
	values[3] = strconv.AppendInt(nil, int64(h.pid), 10)
	values[4] = AppendString(nil, []byte(levelName(r.Level)))
	values[5] = AppendString(nil, []byte(r.Message))
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for i, k := range fixedKeys {
		if i > 0 {
			b = append(b, ',')
		}
		for slices.Contains(keys, k) {
			k = "uno." + k
		}
		b = AppendString(b, []byte(k))
		b = append(b, ':')
		b = append(b, values[i]...)
	}
	b = append(b, attrs...)
	b = append(b, "}\n"...)
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := h.out.w.Write(b)
	return err
}

func levelName(l Level) string {
	switch {
	case l >= LevelError:
		return "error"
	case l >= LevelWarn:
		return "warn"
	case l >= LevelInfo:
		return "info"
	}
	return "debug"
}

func (h *jsonHandler) WithAttrs(attrs []Attr) Handler {
	h2 := *h
	h2.attrs, h2.keys = slices.Clone(h.attrs), slices.Clone(h.keys)
	for _, a := range attrs {
		h2.attrs, h2.keys = appendJSONAttr(h2.attrs, h2.keys, a)
	}
	return &h2
}

// appendJSONAttr writes an attribute as ,"key":value and adds its key to keys; groups arrive
// flattened to dotted keys, as in the text format.
func appendJSONAttr(b []byte, keys []string, a Attr) ([]byte, []string) {
	keys = append(keys, a.Key)
	b = append(b, ',')
	b = AppendString(b, []byte(a.Key))
	b = append(b, ':')
	switch v := a.Value.(type) {
	case int64:
		return strconv.AppendInt(b, v, 10), keys
	case uint64:
		return strconv.AppendUint(b, v, 10), keys
	case bool:
		return strconv.AppendBool(b, v), keys
	case float64:
		if v == v && v-v == 0 { // finite: JSON has no NaN or Inf
			return strconv.AppendFloat(b, v, 'g', -1, 64), keys
		}
	}
	return AppendString(b, []byte(valueString(a.Value))), keys
}

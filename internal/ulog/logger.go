package ulog

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Logger is uno's logger. Its methods have log/slog's names and signatures, so that code written
// against *slog.Logger compiles against *ulog.Logger once the types are switched (see the recipe
// below); it is uno's own because log/slog, through the default handler it installs, keeps
// encoding/json's whole encoder in any binary that imports it: about 176 KB of uno's 4 MiB.
//
// Converting code written against *slog.Logger (issue 19):
//
//	sed -i -e 's/\*slog\.Logger/*ulog.Logger/g' -e 's/slog\.Level\b/ulog.Level/g' \
//	    -e 's/slog\.Leveler/ulog.Leveler/g' -e 's/slog\.Attr\b/ulog.Attr/g' \
//	    -e 's/slog\.\(LevelDebug\|LevelInfo\|LevelWarn\|LevelError\|Group\)\b/ulog.\1/g' FILE.go
//	goimports -w FILE.go   # or: replace the "log/slog" import with ".../internal/ulog"
//
// and in tests, a logger made from a slog.Handler (a recorder) becomes one line:
//
//	sed -i 's/slog\.New(/ulogtest.FromSlog(/g' FILE_test.go   # import internal/ulog/ulogtest
//
// The calls themselves (log.Info("msg", "key", v), With, Log, Enabled, WithGroup) are unchanged.
type Logger struct {
	h     Handler
	group string // WithGroup's prefix for the keys that follow, "g." (groups are flattened)
}

// Level is a log level, with slog's values, so that a level counts the same in both.
type Level int

// The levels uno logs at.
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// Level makes a Level its own Leveler.
func (l Level) Level() Level { return l }

// A Leveler gives the lowest level a handler writes.
type Leveler interface{ Level() Level }

// Attr is a key and its value. Groups are flattened before a handler sees them: a handler gets
// dotted keys and never a group.
type Attr struct {
	Key string
	// Value is normalized as slog's AnyValue does: int64 for every signed integer, uint64 for
	// every unsigned one, float64 for both floats; time.Duration, time.Time, string and bool as
	// they are; anything else is formatted with fmt when written.
	Value any
}

// group is the value of an Attr made by Group.
type group []Attr

// Group makes an attribute whose members are written under key: "key.member=value".
func Group(key string, args ...any) Attr {
	var g group
	for len(args) > 0 {
		var a Attr
		a, args = argsToAttr(args)
		g = append(g, a)
	}
	return Attr{Key: key, Value: g}
}

// Record is one line to be written.
type Record struct {
	Time    time.Time
	Level   Level
	Message string
	// Attrs are the call's attributes, flattened, after those of With.
	Attrs []Attr
}

// Handler writes records: the text and JSON formats in this package, and ulogtest's adapter to a
// slog.Handler for tests.
type Handler interface {
	Enabled(Level) bool
	Handle(Record) error
	// WithAttrs returns a handler that writes attrs (flattened) on every line.
	WithAttrs(attrs []Attr) Handler
}

// NewLogger returns a logger writing through h.
func NewLogger(h Handler) *Logger { return &Logger{h: h} }

// Handler returns the logger's handler.
func (l *Logger) Handler() Handler { return l.h }

// With returns a logger that adds args (key/value pairs or Attrs) to every line.
func (l *Logger) With(args ...any) *Logger {
	if len(args) == 0 {
		return l
	}
	return &Logger{h: l.h.WithAttrs(l.attrs(args)), group: l.group}
}

// WithGroup returns a logger whose later keys are written under name: "name.key".
func (l *Logger) WithGroup(name string) *Logger {
	if name == "" {
		return l
	}
	return &Logger{h: l.h, group: l.group + name + "."}
}

// Enabled says whether a line at level would be written.
func (l *Logger) Enabled(_ context.Context, level Level) bool { return l.h.Enabled(level) }

// Debug logs at LevelDebug.
func (l *Logger) Debug(msg string, args ...any) { l.log(LevelDebug, msg, args) }

// Info logs at LevelInfo.
func (l *Logger) Info(msg string, args ...any) { l.log(LevelInfo, msg, args) }

// Warn logs at LevelWarn.
func (l *Logger) Warn(msg string, args ...any) { l.log(LevelWarn, msg, args) }

// Error logs at LevelError.
func (l *Logger) Error(msg string, args ...any) { l.log(LevelError, msg, args) }

// Log logs at level. The context is there for slog's signature; uno's handlers do not use it.
func (l *Logger) Log(_ context.Context, level Level, msg string, args ...any) {
	l.log(level, msg, args)
}

func (l *Logger) log(level Level, msg string, args []any) {
	if !l.h.Enabled(level) {
		return
	}
	_ = l.h.Handle(Record{Time: time.Now(), Level: level, Message: msg, Attrs: l.attrs(args)})
}

// attrs turns key/value pairs into flat attributes, as slog does: a string key takes the next
// argument as its value, an Attr stands alone, and anything else (or a key without a value) is
// written under "!BADKEY".
func (l *Logger) attrs(args []any) []Attr {
	out := make([]Attr, 0, len(args)/2)
	for len(args) > 0 {
		var a Attr
		a, args = argsToAttr(args)
		out = appendFlat(out, l.group, a)
	}
	return out
}

const badKey = "!BADKEY"

func argsToAttr(args []any) (Attr, []any) {
	switch x := args[0].(type) {
	case string:
		if len(args) == 1 {
			return Attr{Key: badKey, Value: x}, nil
		}
		return Attr{Key: x, Value: normalize(args[1])}, args[2:]
	case Attr:
		return x, args[1:]
	default:
		return Attr{Key: badKey, Value: normalize(x)}, args[1:]
	}
}

// appendFlat appends a under prefix, its members one by one if it is a group; the empty Attr is
// dropped, as slog's handlers drop it.
func appendFlat(out []Attr, prefix string, a Attr) []Attr {
	if g, ok := a.Value.(group); ok {
		for _, m := range g {
			out = appendFlat(out, prefix+a.Key+".", m)
		}
		return out
	}
	if a.Key == "" && a.Value == nil {
		return out
	}
	a.Key = prefix + a.Key
	return append(out, a)
}

// normalize gives v the type slog's AnyValue would give it.
func normalize(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint:
		return uint64(v)
	case uint8:
		return uint64(v)
	case uint16:
		return uint64(v)
	case uint32:
		return uint64(v)
	case uintptr:
		return uint64(v)
	case float32:
		return float64(v)
	case []Attr:
		return group(v)
	}
	return v
}

// valueString formats a normalized value as slog's Value.String does.
func valueString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Duration:
		return v.String()
	case time.Time:
		return v.Round(0).String() // slog keeps no monotonic reading
	}
	return fmt.Sprint(v)
}

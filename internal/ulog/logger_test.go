package ulog

import (
	"errors"
	"log/slog"
	"math"
	"syscall"
	"testing"
	"time"
)

// TestValuesAsSlog: every kind of value a call site may pass is written as slog wrote it when
// ulog was a slog handler (Value.String of AnyValue), and the argument rules (a key without a
// value, a value without a key, an Attr) make the same attributes as slog's.
func TestValuesAsSlog(t *testing.T) {
	var nilErr error
	tm := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	values := []any{"s", "", 7, int8(-3), int16(4), int32(5), int64(-6), uint(7), uint8(8), uint16(9),
		uint32(10), uint64(math.MaxUint64), uintptr(12), float32(1.5), 1e21, 1e-7, math.NaN(),
		math.Inf(-1), true, 1500 * time.Millisecond, tm, time.Now(), errors.New("boom"), nilErr, nil,
		syscall.SIGTERM, []string{"a", "b c"}, struct{ A int }{1}, map[string]int{"b": 2, "a": 1}}
	for _, v := range values {
		want := slog.AnyValue(v)
		got := normalize(v)
		if s := valueString(got); s != want.String() {
			t.Errorf("%T %v: %q, slog %q", v, v, s, want.String())
		}
		// The JSON format writes these kinds as numbers and booleans, everything else as a string.
		kinds := map[slog.Kind]bool{slog.KindInt64: true, slog.KindUint64: true, slog.KindFloat64: true, slog.KindBool: true}
		switch got.(type) {
		case int64, uint64, float64, bool:
			if !kinds[want.Kind()] {
				t.Errorf("%T: a JSON number here, slog kind %v", v, want.Kind())
			}
		default:
			if kinds[want.Kind()] {
				t.Errorf("%T: a JSON string here, slog kind %v", v, want.Kind())
			}
		}
	}
	args := []any{"k", 1, 42, "lonely"}
	var gotAttrs []Attr
	for rest := args; len(rest) > 0; {
		var a Attr
		a, rest = argsToAttr(rest)
		gotAttrs = append(gotAttrs, a)
	}
	var r slog.Record
	r.Add(args...)
	var wantAttrs []slog.Attr
	r.Attrs(func(a slog.Attr) bool { wantAttrs = append(wantAttrs, a); return true })
	if len(gotAttrs) != len(wantAttrs) {
		t.Fatalf("%v, slog %v", gotAttrs, wantAttrs)
	}
	for i, a := range gotAttrs {
		if a.Key != wantAttrs[i].Key || valueString(a.Value) != wantAttrs[i].Value.String() {
			t.Errorf("attr %d: %s=%v, slog %v", i, a.Key, a.Value, wantAttrs[i])
		}
	}
}

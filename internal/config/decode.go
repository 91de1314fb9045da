// The loader's typed getters: each reads one node of the tree as what a key wants (a table, a
// string, a duration, one of a few words...) and reports a node of the wrong kind or value at
// its file, line and key.

package config

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// known reports every key of t that is not one of allowed.
func (l *loader) known(file, prefix string, t *table, allowed ...string) {
	for _, k := range t.keys {
		if !slices.Contains(allowed, k) {
			l.errorf(file, t.get(k).line, prefix+keyName(k), "unknown key (known: %s)", strings.Join(allowed, ", "))
		}
	}
}

// wrongType is kept out of line, as errorf is: it is called from everywhere.
//
//go:noinline
func (l *loader) wrongType(file, key string, n *node, want string) {
	l.errorf(file, n.line, key, "want %s, got %s", want, n.kind)
}

//go:noinline
func (l *loader) table(file, key string, n *node) *table {
	if n.kind != kindTable {
		l.wrongType(file, key, n, "a table")
		return nil
	}
	return n.table
}

//go:noinline
func (l *loader) str(file, key string, n *node) (string, bool) {
	if n.kind != kindString {
		l.wrongType(file, key, n, "a string")
		return "", false
	}
	return n.str, true
}

//go:noinline
func (l *loader) boolean(file, key string, n *node, def bool) bool {
	if n.kind != kindBool {
		l.wrongType(file, key, n, "true or false")
		return def
	}
	return n.bool
}

func (l *loader) integer(file, key string, n *node, def int) int {
	if n.kind != kindInteger || n.num < 0 || n.num > 1<<31 {
		l.errorf(file, n.line, key, "want a non-negative integer")
		return def
	}
	return int(n.num)
}

// strings reads a string or an array of strings.
func (l *loader) strings(file, key string, n *node) []string {
	if n.kind == kindString {
		return []string{n.str}
	}
	if n.kind != kindArray {
		l.wrongType(file, key, n, "a string or an array of strings")
		return nil
	}
	out := make([]string, 0, len(n.array))
	for _, e := range n.array {
		if e.kind != kindString {
			l.wrongType(file, key, e, "strings in the array")
			return nil
		}
		out = append(out, e.str)
	}
	return out
}

// scalar reads an environment value: strings, and numbers and booleans as written.
func (l *loader) scalar(file, key string, n *node) (string, bool) {
	switch n.kind {
	case kindString:
		return n.str, true
	case kindInteger:
		return strconv.FormatInt(n.num, 10), true
	case kindFloat:
		return strconv.FormatFloat(n.float, 'g', -1, 64), true
	case kindBool:
		return strconv.FormatBool(n.bool), true
	}
	l.wrongType(file, key, n, "a string, number or boolean")
	return "", false
}

func (l *loader) oneOf(file, key string, n *node, allowed ...string) string {
	s, ok := l.str(file, key, n)
	if !ok {
		return allowed[0]
	}
	if !slices.Contains(allowed, s) {
		l.errorf(file, n.line, key, "want one of %s, got %q", strings.Join(allowed, ", "), s)
		return allowed[0]
	}
	return s
}

// maxSeconds is the longest duration, in seconds, that time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// duration reads "1m30s", "250ms" or a number of seconds.
func (l *loader) duration(file, key string, n *node, def time.Duration) time.Duration {
	var d time.Duration
	switch n.kind {
	case kindString:
		var err error
		if d, err = time.ParseDuration(n.str); err != nil {
			l.errorf(file, n.line, key, "want a duration such as \"10s\" or \"250ms\", got %q", n.str)
			return def
		}
	case kindInteger:
		// Checked before multiplying: a large count of seconds would wrap around silently.
		if n.num > maxSeconds || n.num < -maxSeconds {
			l.errorf(file, n.line, key, "%d seconds is out of range", n.num)
			return def
		}
		d = time.Duration(n.num) * time.Second
	case kindFloat:
		// nan, inf and huge values convert to arbitrary durations rather than failing.
		if math.IsNaN(n.float) || math.Abs(n.float) >= float64(maxSeconds) {
			l.errorf(file, n.line, key, "%v seconds is out of range", n.float)
			return def
		}
		d = time.Duration(n.float * float64(time.Second))
	default:
		l.wrongType(file, key, n, "a duration")
		return def
	}
	if d < 0 {
		l.errorf(file, n.line, key, "must not be negative")
		return def
	}
	return d
}

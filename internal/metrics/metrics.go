// Package metrics writes the Prometheus text exposition format (version 0.0.4): metric
// families with their HELP and TYPE lines, samples with escaped label values, histograms.
//
// It is written by hand, a few hundred bytes of code, where a client library would cost far
// more of uno's binary. It keeps no state and reads nothing: callers render what they hold.
package metrics

import (
	"math"
	"os"
	"strconv"
	"strings"
)

// ContentType is the exposition format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Writer builds one exposition. Each family's samples must follow its Family call.
type Writer struct {
	b []byte
}

// Family starts a metric family: typ is counter, gauge or histogram.
func (w *Writer) Family(name, typ, help string) {
	w.b = append(w.b, "# HELP "+name+" "...)
	w.b = escape(w.b, help, false)
	w.b = append(w.b, "\n# TYPE "+name+" "+typ+"\n"...)
}

// Sample writes one sample; labels are name, value pairs.
func (w *Writer) Sample(name string, value float64, labels ...string) {
	w.b = append(w.b, name...)
	sep := byte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		w.b = append(w.b, sep)
		w.b = append(w.b, labels[i]+`="`...)
		w.b = append(escape(w.b, labels[i+1], true), '"')
		sep = ','
	}
	if len(labels) > 0 {
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ' ')
	w.b = append(w.b, formatValue(value)...)
	w.b = append(w.b, '\n')
}

// Bool is 1 for true, 0 for false.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escape appends s with backslash and newline escaped, and with quotes, double quotes: what
// the format asks of HELP texts and label values (a strings.Replacer would cost kilobytes).
func escape(b []byte, s string, quotes bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '"' && quotes:
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// SortStrings sorts a few strings in place (insertion sort: the generic sorts cost kilobytes
// of binary per element type, for lists of a few names).
func SortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Histogram is a cumulative histogram over fixed upper bounds.
type Histogram struct {
	// Bounds are the buckets' upper bounds, increasing; +Inf is implied.
	Bounds []float64
	// Counts[i] counts the observations at most Bounds[i] and above Bounds[i-1]; the last,
	// one more than Bounds, those above every bound.
	Counts []uint64
	Sum    float64
}

// NewHistogram is an empty histogram over bounds.
func NewHistogram(bounds []float64) Histogram {
	return Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)+1)}
}

// Observe adds one observation.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.Bounds) && v > h.Bounds[i] {
		i++
	}
	h.Counts[i]++
	h.Sum += v
}

// Clone is a copy that further observations of h do not change.
func (h Histogram) Clone() Histogram {
	h.Counts = append([]uint64(nil), h.Counts...)
	return h
}

// Histogram writes h's _bucket, _sum and _count samples; labels are added to each.
func (w *Writer) Histogram(name string, h Histogram, labels ...string) {
	var total uint64
	for i, c := range h.Counts {
		total += c
		le := "+Inf"
		if i < len(h.Bounds) {
			le = formatValue(h.Bounds[i])
		}
		w.Sample(name+"_bucket", float64(total), append(labels[:len(labels):len(labels)], "le", le)...)
	}
	w.Sample(name+"_sum", h.Sum, labels...)
	w.Sample(name+"_count", float64(total), labels...)
}

// Bytes is the exposition so far.
func (w *Writer) Bytes() []byte { return w.b }

// ResidentMemory is this process's resident set, from /proc/self/statm.
func ResidentMemory() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}

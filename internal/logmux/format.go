package logmux

import (
	"strconv"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/ulog"
)

// The formats of an output line. A piece (see copier.go) is one of:
//
//	whole  a line read up to its "\n" (text excludes it)
//	cut    a piece that its line continues after
//	last   the end of the output without a "\n"
//
// prefix: "[TIME ]name | text\n", " + " instead of " | " for a cut piece.
// raw:    the bytes as they came: text, and its "\n" if it had one.
// json:   {"time":"...","service":"name","stream":"stdout","pid":12,"msg":"text"}, with
//         "partial":true for a cut piece; with passthrough, a text that is a JSON object has its
//         fields merged in instead of msg (passthrough.go).

type pieceKind int

const (
	whole pieceKind = iota
	cut
	last
)

// lineFormat is a copier's format, with what it builds once per run.
type lineFormat struct {
	format      config.LogFormat
	timestamps  bool
	passthrough bool
	// prefix and cutPrefix follow the timestamp in prefixed lines.
	prefix, cutPrefix []byte
	// jsonName and jsonStream are the service's and stream's encoded JSON strings.
	jsonName, jsonStream []byte
	// pid is the run's, once known (0: not yet asked, -1: asked, unknown).
	pid int64
	// jsonHead is what follows the time on every JSON line without renamed keys, built once
	// the pid is known: `","service":"api","stream":"stdout","pid":12`.
	jsonHead []byte
}

// appendPiece appends one piece as an output line; ts is the batch's time, already formatted.
func (c *copier) appendPiece(out, text []byte, kind pieceKind, ts []byte) []byte {
	f := &c.f
	switch f.format {
	case config.FormatRaw:
		out = append(out, text...)
		if kind == whole {
			out = append(out, '\n')
		}
		return out
	case config.FormatJSON:
		return c.appendJSON(out, text, kind, ts)
	}
	if f.timestamps {
		out = append(out, ts...)
		out = append(out, ' ')
	}
	if kind == cut {
		out = append(out, f.cutPrefix...)
	} else {
		out = append(out, f.prefix...)
	}
	out = append(out, text...)
	return append(out, '\n')
}

func (c *copier) appendJSON(out, text []byte, kind pieceKind, ts []byte) []byte {
	f := &c.f
	if f.jsonHead == nil {
		if f.pid == 0 {
			f.pid = c.thisRun.waitPID()
			if f.pid == 0 {
				f.pid = -1
			}
		}
		f.jsonHead = c.appendJSONHead(nil, nil, nil)[len(`{"time":"`):]
	}
	if kind != cut && len(text) > 0 && text[len(text)-1] == '\r' {
		text = text[:len(text)-1] // a "\r\n" line end
	}
	if f.passthrough && kind != cut {
		if merged, ok := c.appendMerged(out, text, ts); ok {
			return merged
		}
	}
	out = append(out, `{"time":"`...)
	out = append(out, ts...)
	out = append(out, f.jsonHead...)
	out = append(out, `,"msg":"`...)
	out = ulog.AppendStringBody(out, text)
	if kind == cut {
		return append(out, `","partial":true}`+"\n"...)
	}
	return append(out, "\"}\n"...)
}

// unoKeys are the keys uno writes on every JSON line, in order.
var unoKeys = [...]string{"time", "service", "stream", "pid"}

// appendJSONHead appends "{" and uno's keys, each named by names when given (a passthrough
// object that has keys of the same names).
func (c *copier) appendJSONHead(out, ts []byte, names *[len(unoKeys)]string) []byte {
	f := &c.f
	key := func(i int) {
		out = append(out, '"')
		if names != nil {
			out = ulog.AppendStringBody(out, []byte(names[i]))
		} else {
			out = append(out, unoKeys[i]...)
		}
		out = append(out, '"', ':')
	}
	out = append(out, '{')
	key(0)
	out = append(out, '"')
	out = append(out, ts...)
	out = append(out, '"', ',')
	key(1)
	out = append(out, f.jsonName...)
	out = append(out, ',')
	key(2)
	out = append(out, f.jsonStream...)
	if f.pid > 0 {
		out = append(out, ',')
		key(3)
		out = strconv.AppendInt(out, f.pid, 10)
	}
	return out
}

// needsTime says whether the format writes a time on each line.
func (f *lineFormat) needsTime() bool {
	return f.format == config.FormatJSON || f.format == config.FormatPrefix && f.timestamps
}

package logmux

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/uno-init/uno/internal/jsonwire"
)

// json_passthrough: a line that is itself one JSON object has its fields merged into uno's
// line instead of being quoted as msg. uno's keys come first; where the object has a key of the
// same name, uno's is written under "uno." before it ("uno.time"), and again until no key of the
// object has that name, so that every key of the object keeps its value and uno's are all there
// too. The object's own bytes are copied as they came: only a valid object, in valid UTF-8, on
// one line, is merged; anything else is a msg like any other line.

// appendMerged appends the merged object, or reports that text is not one to merge.
func (c *copier) appendMerged(out, text []byte, ts []byte) ([]byte, bool) {
	body, keys, ok := scanObject(text, c.bufs.keys[:0])
	c.bufs.keys = keys
	if !ok {
		return out, false
	}
	var names [len(unoKeys)]string
	renamed := false
	for i, k := range unoKeys {
		names[i] = k
		for hasKey(text, keys, names[i]) {
			names[i] = "uno." + names[i]
			renamed = true
		}
	}
	if renamed {
		out = c.appendJSONHead(out, ts, &names)
	} else {
		out = append(out, `{"time":"`...)
		out = append(out, ts...)
		out = append(out, c.f.jsonHead...)
	}
	if len(keys) > 0 {
		out = append(out, ',')
		out = append(out, body...)
	}
	return append(out, "}\n"...), true
}

// keySpan is one top-level key of an object: its bytes between the quotes, and whether they
// hold an escape.
type keySpan struct {
	from, to int
	escaped  bool
}

func hasKey(text []byte, keys []keySpan, name string) bool {
	for _, k := range keys {
		raw := text[k.from:k.to]
		if !k.escaped {
			if string(raw) == name {
				return true
			}
			continue
		}
		// Rare (a key written with escapes): the control protocol's JSON decoding (jsonwire),
		// rather than one more string decoder.
		var s string
		if jsonwire.Unmarshal(text[k.from-1:k.to+1], &s) == nil && s == name {
			return true
		}
	}
	return false
}

// scanObject checks that text is exactly one JSON object (surrounding blanks allowed) and
// returns what is between its braces, trimmed, and its top-level keys.
func scanObject(text []byte, keys []keySpan) ([]byte, []keySpan, bool) {
	s := scanner{data: text}
	s.skipSpace()
	if !s.take('{') {
		return nil, keys, false
	}
	s.skipSpace()
	bodyFrom := s.at
	bodyTo := s.at
	if !s.take('}') {
		for {
			s.skipSpace()
			from := s.at + 1
			escaped, ok := s.str()
			if !ok {
				return nil, keys, false
			}
			keys = append(keys, keySpan{from: from, to: s.at - 1, escaped: escaped})
			s.skipSpace()
			if !s.take(':') {
				return nil, keys, false
			}
			s.skipSpace()
			if !s.value(0) {
				return nil, keys, false
			}
			bodyTo = s.at
			s.skipSpace()
			if s.take('}') {
				break
			}
			if !s.take(',') {
				return nil, keys, false
			}
		}
	}
	s.skipSpace()
	if s.at != len(text) {
		return nil, keys, false
	}
	return text[bodyFrom:bodyTo], keys, true
}

// maxDepth bounds nesting, so that a line of a million "[" costs no more stack than it must.
const maxDepth = 512

type scanner struct {
	data []byte
	at   int
}

func (s *scanner) skipSpace() {
	for s.at < len(s.data) {
		switch s.data[s.at] {
		case ' ', '\t', '\n', '\r':
			s.at++
		default:
			return
		}
	}
}

func (s *scanner) take(b byte) bool {
	if s.at < len(s.data) && s.data[s.at] == b {
		s.at++
		return true
	}
	return false
}

func (s *scanner) value(depth int) bool {
	if depth > maxDepth || s.at >= len(s.data) {
		return false
	}
	switch b := s.data[s.at]; {
	case b == '"':
		_, ok := s.str()
		return ok
	case b == '{':
		s.at++
		s.skipSpace()
		if s.take('}') {
			return true
		}
		for {
			s.skipSpace()
			if _, ok := s.str(); !ok {
				return false
			}
			s.skipSpace()
			if !s.take(':') {
				return false
			}
			s.skipSpace()
			if !s.value(depth + 1) {
				return false
			}
			s.skipSpace()
			if s.take('}') {
				return true
			}
			if !s.take(',') {
				return false
			}
		}
	case b == '[':
		s.at++
		s.skipSpace()
		if s.take(']') {
			return true
		}
		for {
			s.skipSpace()
			if !s.value(depth + 1) {
				return false
			}
			s.skipSpace()
			if s.take(']') {
				return true
			}
			if !s.take(',') {
				return false
			}
		}
	case b == 't':
		return s.word("true")
	case b == 'f':
		return s.word("false")
	case b == 'n':
		return s.word("null")
	default:
		return s.number()
	}
}

func (s *scanner) word(w string) bool {
	if len(s.data)-s.at >= len(w) && string(s.data[s.at:s.at+len(w)]) == w {
		s.at += len(w)
		return true
	}
	return false
}

func (s *scanner) digits() int {
	n := 0
	for s.at < len(s.data) && '0' <= s.data[s.at] && s.data[s.at] <= '9' {
		s.at++
		n++
	}
	return n
}

func (s *scanner) number() bool {
	from := s.at
	s.take('-')
	if s.take('0') {
		// no leading zeros
	} else if s.digits() == 0 {
		return false
	}
	if s.take('.') && s.digits() == 0 {
		return false
	}
	exp := s.at < len(s.data) && (s.data[s.at] == 'e' || s.data[s.at] == 'E')
	if exp {
		s.at++
		if !s.take('+') {
			s.take('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	// Valid JSON, but a number beyond float64 (1e999) is refused by encoding/json and
	// serde_json, and a shipper would drop the whole line for it: not merged.
	if exp || s.at-from > 300 {
		f, _ := strconv.ParseFloat(string(s.data[from:s.at]), 64)
		return !math.IsInf(f, 0)
	}
	return true
}

// str scans a string at s.at, quotes included, and says whether it holds an escape.
func (s *scanner) str() (escaped, ok bool) {
	if !s.take('"') {
		return false, false
	}
	for s.at < len(s.data) {
		b := s.data[s.at]
		switch {
		case b == '"':
			s.at++
			return escaped, true
		case b == '\\':
			escaped = true
			s.at++
			if s.at >= len(s.data) {
				return false, false
			}
			switch s.data[s.at] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.at++
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return false, false
				}
				// A lone UTF-16 surrogate is refused by serde_json (Vector's): merged only
				// as a pair.
				if utf16.IsSurrogate(r) {
					if r >= 0xDC00 || !s.take('\\') || !s.take('u') {
						return false, false
					}
					s.at--
					if low, ok := s.hex4(); !ok || low < 0xDC00 || low > 0xDFFF {
						return false, false
					}
				}
			default:
				return false, false
			}
		case b < 0x20:
			return false, false
		case b < utf8.RuneSelf:
			s.at++
		default:
			r, size := utf8.DecodeRune(s.data[s.at:])
			if r == utf8.RuneError && size == 1 {
				return false, false
			}
			s.at += size
		}
	}
	return false, false
}

// hex4 reads the four hex digits after the 'u' at s.at and moves past them.
func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.at < 5 || !isHex4(s.data[s.at+1:s.at+5]) {
		return 0, false
	}
	v, _ := strconv.ParseUint(string(s.data[s.at+1:s.at+5]), 16, 32)
	s.at += 5
	return rune(v), true
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

package jsonwire

// The lexical layer of decoding: stepping over a value, and reading literals, numbers and
// strings (escapes, surrogate pairs, invalid UTF-8) as encoding/json reads them.

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// skip checks the next value and steps over it, reporting where it ended.
func (d *decoder) skip() (int, error) {
	switch d.peek() {
	case '{':
		if err := d.enter(); err != nil {
			return 0, err
		}
		d.off++
		if d.peek() == '}' {
			d.off++
			d.depth--
			return d.off, nil
		}
		for {
			if d.peek() != '"' {
				return 0, d.syntax("looking for an object key")
			}
			if _, err := d.str(); err != nil {
				return 0, err
			}
			if d.peek() != ':' {
				return 0, d.syntax("after object key")
			}
			d.off++
			if _, err := d.skip(); err != nil {
				return 0, err
			}
			switch d.peek() {
			case ',':
				d.off++
			case '}':
				d.off++
				d.depth--
				return d.off, nil
			default:
				return 0, d.syntax("after object value")
			}
		}
	case '[':
		if err := d.enter(); err != nil {
			return 0, err
		}
		d.off++
		if d.peek() == ']' {
			d.off++
			d.depth--
			return d.off, nil
		}
		for {
			if _, err := d.skip(); err != nil {
				return 0, err
			}
			switch d.peek() {
			case ',':
				d.off++
			case ']':
				d.off++
				d.depth--
				return d.off, nil
			default:
				return 0, d.syntax("after array element")
			}
		}
	case '"':
		_, err := d.str()
		return d.off, err
	case 't':
		return d.off, d.literal("true")
	case 'f':
		return d.off, d.literal("false")
	case 'n':
		return d.off, d.literal("null")
	default:
		_, err := d.number()
		return d.off, err
	}
}

// skipOne reports where the one value at the start of b ends (blanks after it included).
func skipOne(b []byte) (int, error) {
	d := decoder{data: b}
	if _, err := d.skip(); err != nil {
		return 0, err
	}
	d.skipSpace()
	return d.off, nil
}

func (d *decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.off >= len(d.data) || d.data[d.off] != word[i] {
			return d.syntax("in literal " + word)
		}
		d.off++
	}
	return nil
}

// number checks a number against JSON's grammar and returns its text.
func (d *decoder) number() (string, error) {
	start := d.off
	digits := func() int {
		n := 0
		for d.off < len(d.data) && '0' <= d.data[d.off] && d.data[d.off] <= '9' {
			d.off++
			n++
		}
		return n
	}
	at := func(c byte) bool { return d.off < len(d.data) && d.data[d.off] == c }
	if at('-') {
		d.off++
	}
	switch {
	case at('0'):
		d.off++
	case digits() == 0:
		return "", d.syntax("looking for a value")
	}
	if at('.') {
		d.off++
		if digits() == 0 {
			return "", d.syntax("after decimal point in number")
		}
	}
	if at('e') || at('E') {
		d.off++
		if at('+') || at('-') {
			d.off++
		}
		if digits() == 0 {
			return "", d.syntax("in exponent of number")
		}
	}
	return string(d.data[start:d.off]), nil
}

// str reads a string at d.off and returns it unescaped.
func (d *decoder) str() (string, error) {
	d.off++ // "
	var b []byte
	start := d.off
	for d.off < len(d.data) {
		c := d.data[d.off]
		switch {
		case c == '"':
			var s string
			if b == nil {
				s = string(d.data[start:d.off])
			} else {
				s = string(append(b, d.data[start:d.off]...))
			}
			d.off++
			if !utf8.ValidString(s) {
				s = fixUTF8(s)
			}
			return s, nil
		case c < 0x20:
			return "", d.syntax("in string literal")
		case c == '\\':
			b = append(b, d.data[start:d.off]...)
			d.off++
			if d.off >= len(d.data) {
				return "", d.syntax("in string escape")
			}
			switch e := d.data[d.off]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4(d.off + 1)
				if !ok {
					return "", d.syntax("in \\u escape")
				}
				d.off += 4
				if utf16.IsSurrogate(r) {
					r2, ok := d.hex4(d.off + 3)
					if ok && d.data[d.off+1] == '\\' && d.data[d.off+2] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							d.off += 7
							start = d.off
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", d.syntax("in string escape")
			}
			d.off++
			start = d.off
		default:
			d.off++
		}
	}
	return "", d.syntax("in string literal")
}

// hex4 reads the four hex digits at i, if they are there.
func (d *decoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// fixUTF8 replaces each byte of invalid UTF-8 by U+FFFD, as encoding/json does.
func fixUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

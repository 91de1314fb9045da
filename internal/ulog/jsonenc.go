package ulog

import (
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// The JSON encoding of log lines, by hand: encoding/json's reflection would cost a line's worth
// of time for each field, and these run for every line a service writes.

const hexDigits = "0123456789abcdef"

// safeASCII[b] says b is written as itself inside a JSON string.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return
}()

// AppendString appends s as a JSON string, quotes included. Control characters are escaped,
// and so are U+2028 and U+2029 (which some JavaScript parsers take as line ends); each byte of
// invalid UTF-8 becomes U+FFFD, so that the output is always valid JSON in valid UTF-8.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = AppendStringBody(dst, s)
	return append(dst, '"')
}

// AppendStringBody is AppendString without the quotes.
func AppendStringBody(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look: most log text is plain ASCII.
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if safeASCII[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			switch r {
			case '\u2028':
				dst = append(dst, `\u2028`...)
			case '\u2029':
				dst = append(dst, `\u2029`...)
			default:
				dst = append(dst, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 says that none of the eight bytes of w is a control character, '"', '\\' or
// non-ASCII: the bit tricks of "Bit Twiddling Hacks" (haszero, hasless).
func plain8(w uint64) bool {
	low := (w - ones*0x20) & ^w // high bit set in a byte < 0x20 (or a byte above one)
	q := w ^ (ones * '"')       // zero where a byte is '"'
	bs := w ^ (ones * '\\')     // zero where a byte is '\\'
	quote := (q - ones) & ^q    // high bit set in a zero byte (or above one)
	slash := (bs - ones) & ^bs
	return (low|quote|slash|w)&highs == 0
}

// AppendTime appends a time given in Unix milliseconds as RFC 3339 in UTC with milliseconds,
// "2026-11-29T18:25:44.123Z", without quotes. Callers format it once per batch of lines.
func AppendTime(dst []byte, unixMilli int64) []byte {
	return time.UnixMilli(unixMilli).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
}

package config

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// PosError is a configuration error at a place in a file: it prints as "file:line: key: msg"
// (key omitted when empty, line omitted when 0).
type PosError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *PosError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File == "" {
			// A bare number would read as part of the message.
			b.WriteString("line ")
		} else {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// quoteExcerpt quotes text for an error message, cut short so that one bad line of a large file
// does not flood the log.
func quoteExcerpt(text string) string {
	const limit = 60
	if len(text) <= limit {
		return strconv.Quote(text)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return strconv.Quote(text[:cut]) + "..."
}

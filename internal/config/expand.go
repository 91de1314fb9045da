package config

import (
	"fmt"
	"strings"
)

// Expand replaces variable references in s as compose does: $VAR and ${VAR} by lookup's value
// (empty when lookup does not know the name), ${VAR:-default} by default when VAR is unset or
// empty, ${VAR-default} by default when VAR is unset; $$ is a literal $. A $ that starts none of
// these is kept, so that prices and regular expressions survive. A default may itself contain
// references; it is expanded, and lookup asked, only when it is used.
func Expand(s string, lookup func(name string) (string, bool)) (string, error) {
	return expandReporting(s, lookup, nil)
}

// expandReporting is Expand that also calls unset, if not nil, with each $VAR or ${VAR} (no
// default) that lookup does not know: most often a shell's $var in a command that should
// have been written $$var.
func expandReporting(s string, lookup func(name string) (string, bool), unset func(name string)) (string, error) {
	e := expander{src: s, lookup: lookup, unset: unset}
	out, _, err := e.expandFrom(0, false, true)
	return out, err
}

type expander struct {
	src    string
	lookup func(name string) (string, bool)
	unset  func(name string)
}

// plain looks up a reference without a default.
func (e *expander) plain(name string) string {
	value, ok := e.lookup(name)
	if !ok && e.unset != nil {
		e.unset(name)
	}
	return value
}

// expandFrom expands from i to the end of the input or, inside a default, to the "}" that closes
// it, and returns the index where it stopped. With eval false it only checks the syntax, for a
// default that is not used.
func (e *expander) expandFrom(i int, inDefault, eval bool) (string, int, error) {
	var b strings.Builder
	for i < len(e.src) {
		c := e.src[i]
		if c == '}' && inDefault {
			break
		}
		if c != '$' || i+1 == len(e.src) {
			b.WriteByte(c)
			i++
			continue
		}
		switch next := e.src[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			value, end, err := e.braced(i, eval)
			if err != nil {
				return "", 0, err
			}
			b.WriteString(value)
			i = end
		case isVarNameStart(next):
			end := i + 2
			for end < len(e.src) && isVarNameChar(e.src[end]) {
				end++
			}
			if eval {
				b.WriteString(e.plain(e.src[i+1 : end]))
			}
			i = end
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), i, nil
}

// braced expands the ${...} starting at start and returns the index just after its "}".
func (e *expander) braced(start int, eval bool) (string, int, error) {
	nameEnd := start + 2
	for nameEnd < len(e.src) && isVarNameChar(e.src[nameEnd]) {
		nameEnd++
	}
	if nameEnd == len(e.src) {
		return "", 0, e.unterminated(start)
	}
	name := e.src[start+2 : nameEnd]
	if !isVarName(name) {
		return "", 0, e.invalid(start)
	}
	var defaultStart int
	emptyIsUnset := false
	switch rest := e.src[nameEnd:]; {
	case rest[0] == '}':
		var value string
		if eval {
			value = e.plain(name)
		}
		return value, nameEnd + 1, nil
	case strings.HasPrefix(rest, ":-"):
		defaultStart, emptyIsUnset = nameEnd+2, true
	case rest[0] == '-':
		defaultStart = nameEnd + 1
	default:
		return "", 0, e.invalid(start)
	}
	var value string
	useDefault := false
	if eval {
		var set bool
		value, set = e.lookup(name)
		useDefault = !set || (emptyIsUnset && value == "")
	}
	fallback, end, err := e.expandFrom(defaultStart, true, useDefault)
	if err != nil {
		return "", 0, err
	}
	if end == len(e.src) {
		return "", 0, e.unterminated(start)
	}
	if useDefault {
		value = fallback
	}
	return value, end + 1, nil
}

func (e *expander) unterminated(start int) error {
	return fmt.Errorf(`unterminated variable reference %s: missing "}"`, quoteExcerpt(e.src[start:]))
}

// invalid names the reference up to its first "}", which is the whole of it in all but
// contrived cases.
func (e *expander) invalid(start int) error {
	text := e.src[start:]
	if n := strings.IndexByte(text, '}'); n >= 0 {
		text = text[:n+1]
	}
	return fmt.Errorf("invalid variable reference %s: want ${NAME}, ${NAME:-default} or ${NAME-default}", quoteExcerpt(text))
}

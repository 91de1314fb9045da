package config

import (
	"errors"
	"fmt"
	"strings"
)

// SplitCommand splits a command string into argv the way sh splits words, without a shell:
// quotes and backslashes work as in sh, nothing is expanded. What only a shell could do (pipes,
// redirections, lists, command substitution, comments, leading variable assignments) is an
// error rather than passed on as a literal argument, which would fail in a confusing way at run
// time.
func SplitCommand(s string) ([]string, error) {
	var argv []string
	var word strings.Builder
	inWord := false
	// firstQuote is where, in word, the first quoted or escaped byte went, or -1; sh only treats
	// a word as an assignment when the name and "=" are unquoted.
	firstQuote := -1
	endWord := func() error {
		if len(argv) == 0 {
			if name, _, found := strings.Cut(word.String(), "="); found && isVarName(name) &&
				(firstQuote < 0 || firstQuote > len(name)) {
				return fmt.Errorf("command starts with variable assignment %s: set %s in the environment instead", quoteExcerpt(word.String()), name)
			}
		}
		argv = append(argv, word.String())
		word.Reset()
		inWord, firstQuote = false, -1
		return nil
	}
	markQuoted := func() {
		if firstQuote < 0 {
			firstQuote = word.Len()
		}
		inWord = true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n':
			if inWord {
				if err := endWord(); err != nil {
					return nil, err
				}
			}
		case '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] == '\n' {
				continue // a line continuation joins, it does not separate
			}
			markQuoted()
			word.WriteByte(s[i])
		case '\'':
			n := strings.IndexByte(s[i+1:], '\'')
			if n < 0 {
				return nil, errors.New("unterminated single quote")
			}
			markQuoted()
			word.WriteString(s[i+1 : i+1+n])
			i += 1 + n
		case '"':
			markQuoted()
			end, err := splitDoubleQuoted(s, i+1, &word)
			if err != nil {
				return nil, err
			}
			i = end
		default:
			if op := shellOperatorAt(s, i, inWord); op != "" {
				return nil, shellOperatorError(op)
			}
			inWord = true
			word.WriteByte(c)
		}
	}
	if inWord {
		if err := endWord(); err != nil {
			return nil, err
		}
	}
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	return argv, nil
}

// splitDoubleQuoted appends the inside of a double-quoted string starting at start to word and
// returns the index of the closing quote.
func splitDoubleQuoted(s string, start int, word *strings.Builder) (int, error) {
	for i := start; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(s) {
				switch next := s[i+1]; next {
				case '\n':
					i++
					continue
				case '\\', '"', '$', '`':
					i++
					word.WriteByte(next)
					continue
				}
			}
			word.WriteByte(c)
		case '$', '`':
			// sh substitutes commands inside double quotes too, so these would not mean
			// what they mean to a shell; \$ and \` write them.
			if op := shellOperatorAt(s, i, true); op != "" {
				return 0, shellOperatorError(op)
			}
			word.WriteByte(c)
		default:
			word.WriteByte(c)
		}
	}
	return 0, errors.New("unterminated double quote")
}

// shellOperatorAt returns the unquoted shell operator starting at s[i], or "".
func shellOperatorAt(s string, i int, inWord bool) string {
	switch c := s[i]; c {
	case '|', '&', ';', '>', '<':
		if i+1 < len(s) && s[i+1] == c {
			return s[i : i+2]
		}
		return s[i : i+1]
	case '(', ')', '`':
		return s[i : i+1]
	case '$':
		if strings.HasPrefix(s[i:], "$(") {
			return "$("
		}
	case '#':
		// sh starts a comment only at the start of a word: a#b is one word.
		if !inWord {
			return "#"
		}
	}
	return ""
}

func shellOperatorError(op string) error {
	return fmt.Errorf(`command contains shell operator %q: use command = ["/bin/sh", "-c", "..."] to run a shell`, op)
}

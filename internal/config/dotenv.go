package config

import (
	"fmt"
	"strings"
)

// EnvVar is one variable read from an env file.
type EnvVar struct {
	Name string
	// Value is written in Expand's syntax, ready for the caller to expand: a `$` the file meant
	// literally (single quotes, or \$ inside double quotes) comes out as `$$`. Without this, the
	// caller could not tell 'a$b' from a$b.
	Value string
	// Line is where the variable's line starts; a quoted value may continue on later lines.
	Line int
}

// ParseDotenv reads an env file the way docker compose's env_file and the dotenv libraries do:
// NAME=value lines, # comments, an optional leading "export ", single quotes literal, double
// quotes with a few backslash escapes and possibly several lines. Variables are returned in file
// order, repeats included, so that applying them in order lets the last one win as in compose.
// Errors are *PosError naming file and line.
func ParseDotenv(file string, data []byte) ([]EnvVar, error) {
	p := dotenvParser{file: file, src: normalizeText(data), line: 1}
	var vars []EnvVar
	for p.pos < len(p.src) {
		v, ok, err := p.entry()
		if err != nil {
			return nil, err
		}
		if ok {
			vars = append(vars, v)
		}
		// entry stops at the newline that ends its last line.
		p.pos++
		p.line++
	}
	return vars, nil
}

// normalizeText drops what Windows editors add, so that a file saved there reads the same.
func normalizeText(data []byte) string {
	text := strings.TrimPrefix(string(data), "\ufeff")
	return strings.ReplaceAll(text, "\r\n", "\n")
}

type dotenvParser struct {
	file string
	src  string
	pos  int // always inside the line numbered line, or at the newline that ends it
	line int
}

func (p *dotenvParser) errorf(line int, format string, args ...any) *PosError {
	return &PosError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lineEnd is the index of the newline ending the current line, or the end of the input.
func (p *dotenvParser) lineEnd() int {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		return p.pos + i
	}
	return len(p.src)
}

// entry reads the variable starting on the current line; ok is false for blank and comment
// lines.
func (p *dotenvParser) entry() (v EnvVar, ok bool, err error) {
	end := p.lineEnd()
	text := strings.TrimLeft(p.src[p.pos:end], " \t")
	if text == "" || text[0] == '#' {
		p.pos = end
		return EnvVar{}, false, nil
	}
	text = trimExport(text)
	rawName, rawValue, found := strings.Cut(text, "=")
	if !found {
		return EnvVar{}, false, p.errorf(p.line, `missing "=" in %s: want NAME=value`, quoteExcerpt(strings.TrimRight(text, " \t")))
	}
	name := strings.TrimRight(rawName, " \t")
	if !isVarName(name) {
		return EnvVar{}, false, p.errorf(p.line, "invalid variable name %s", quoteExcerpt(name))
	}
	v = EnvVar{Name: name, Line: p.line}
	p.pos = end - len(rawValue)
	v.Value, err = p.value()
	return v, err == nil, err
}

// trimExport drops the "export " that lets the same file be sourced by a shell.
func trimExport(text string) string {
	rest, found := strings.CutPrefix(text, "export")
	if !found || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return text
	}
	rest = strings.TrimLeft(rest, " \t")
	if strings.HasPrefix(rest, "=") {
		// "export = x" sets a variable named export.
		return text
	}
	return rest
}

// value reads from just after the "=" to the end of the value, leaving pos at the newline that
// ends the value's last line.
func (p *dotenvParser) value() (string, error) {
	end := p.lineEnd()
	raw := p.src[p.pos:end]
	trimmed := strings.TrimLeft(raw, " \t")
	if trimmed != "" {
		switch trimmed[0] {
		case '\'':
			p.pos = end - len(trimmed)
			return p.singleQuoted()
		case '"':
			p.pos = end - len(trimmed)
			return p.doubleQuoted()
		}
	}
	// A # starts a comment only after whitespace, so that A=#fff keeps its value; the search
	// starts at 1 because the blank before a value is not part of it: A= #x is empty.
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && (raw[i-1] == ' ' || raw[i-1] == '\t') {
			raw = raw[:i]
			break
		}
	}
	p.pos = end
	return strings.Trim(raw, " \t"), nil
}

func (p *dotenvParser) singleQuoted() (string, error) {
	startLine := p.line
	body := p.src[p.pos+1:]
	n := strings.IndexByte(body, '\'')
	if n < 0 {
		return "", p.errorf(startLine, "unterminated single-quoted value")
	}
	literal := body[:n]
	p.line += strings.Count(literal, "\n")
	p.pos += 1 + n + 1
	return strings.ReplaceAll(literal, "$", "$$"), p.afterClosingQuote()
}

func (p *dotenvParser) doubleQuoted() (string, error) {
	startLine := p.line
	var b strings.Builder
	for i := p.pos + 1; i < len(p.src); i++ {
		c := p.src[i]
		switch c {
		case '"':
			p.pos = i + 1
			return b.String(), p.afterClosingQuote()
		case '\n':
			p.line++
		case '\\':
			if i+1 < len(p.src) {
				if escaped, ok := dotenvEscapes[p.src[i+1]]; ok {
					b.WriteString(escaped)
					i++
					continue
				}
			}
			// Any other backslash stays, as inside double quotes in sh: "C:\dir" means what
			// it says.
		}
		b.WriteByte(c)
	}
	return "", p.errorf(startLine, "unterminated double-quoted value")
}

var dotenvEscapes = map[byte]string{
	'n':  "\n",
	't':  "\t",
	'\\': `\`,
	'"':  `"`,
	'$':  "$$", // still literal once the caller expands the value
}

// afterClosingQuote checks that only blanks and a comment follow a quoted value: text there
// would otherwise be silently lost or glued on, and either way it is most likely a quoting
// mistake.
func (p *dotenvParser) afterClosingQuote() error {
	end := p.lineEnd()
	rest := strings.TrimLeft(p.src[p.pos:end], " \t")
	if rest != "" && rest[0] != '#' {
		return p.errorf(p.line, "unexpected %s after closing quote", quoteExcerpt(rest))
	}
	p.pos = end
	return nil
}

// isVarName reports whether name is a variable name as sh and compose accept it.
func isVarName(name string) bool {
	if name == "" || !isVarNameStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isVarNameChar(name[i]) {
			return false
		}
	}
	return true
}

func isVarNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isVarNameChar(c byte) bool {
	return isVarNameStart(c) || ('0' <= c && c <= '9')
}

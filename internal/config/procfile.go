package config

import (
	"fmt"
	"strings"
)

// ProcfileEntry is one process of a Procfile.
type ProcfileEntry struct {
	Name    string
	Command string
	Line    int
}

// ParseProcfile reads a Procfile as foreman and heroku do: "name: command" lines, blank lines
// and # comments ignored. The command is returned as written, for the caller to split. Errors are
// *PosError naming file and line.
func ParseProcfile(file string, data []byte) ([]ProcfileEntry, error) {
	var entries []ProcfileEntry
	firstLine := map[string]int{}
	for i, text := range strings.Split(normalizeText(data), "\n") {
		line := i + 1
		fail := func(format string, args ...any) error {
			return &PosError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
		}
		text = strings.TrimSpace(text)
		if text == "" || text[0] == '#' {
			continue
		}
		name, command, found := strings.Cut(text, ":")
		if !found {
			return nil, fail(`missing ":" in %s: want name: command`, quoteExcerpt(text))
		}
		name = strings.TrimSpace(name)
		if !isProcessName(name) {
			return nil, fail("invalid process name %s: use letters, digits, _ and -", quoteExcerpt(name))
		}
		command = strings.TrimSpace(command)
		if command == "" {
			return nil, fail("process %q has an empty command", name)
		}
		if first, seen := firstLine[name]; seen {
			return nil, fail("process %q defined twice (first on line %d)", name, first)
		}
		firstLine[name] = line
		entries = append(entries, ProcfileEntry{Name: name, Command: command, Line: line})
	}
	if len(entries) == 0 {
		return nil, &PosError{File: file, Msg: "no processes defined: want name: command lines"}
	}
	return entries, nil
}

func isProcessName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isVarNameChar(c) && c != '-' {
			return false
		}
	}
	return true
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// The TOML document is read into a small tree of its own, rather than decoded into structs by
// reflection, because every error uno reports must name the line of the key at fault: an
// unknown service in depends_on, a user that does not exist, a duration that does not parse.
// Decoding libraries know those lines only while they parse; this tree keeps them.

type kind int

const (
	kindString kind = iota
	kindInteger
	kindFloat
	kindBool
	kindArray
	kindTable
	kindDatetime
)

func (k kind) String() string {
	return [...]string{"a string", "an integer", "a float", "a boolean", "an array", "a table", "a date-time"}[k]
}

// node is one TOML value and the line it was written on.
type node struct {
	kind  kind
	line  int
	str   string
	num   int64
	float float64
	bool  bool
	array []*node
	table *table
	// arrayOfTables marks an array made by [[header]]s: only those may be appended to or have
	// their last element extended by later headers, never an array written as a value.
	arrayOfTables bool
}

// table is a TOML table with its keys in the order they were written.
type table struct {
	keys    []string
	entries map[string]*node
	// defined is set once a [header] or an inline table has defined the table; tables that
	// only exist as the prefix of a dotted key or header may still be defined once.
	defined bool
	inline  bool
	// dotted is set on a table made by a dotted key (a.b = 1 makes a): TOML lets later dotted
	// keys of the same table add to it, and headers add sub-tables to it, but no header may
	// define it again, and dotted keys may not add to a table a header made.
	dotted bool
}

func newTable() *table { return &table{entries: map[string]*node{}} }

func (t *table) get(key string) *node { return t.entries[key] }

func (t *table) set(key string, n *node) {
	t.keys = append(t.keys, key)
	t.entries[key] = n
}

// parseTree reads a TOML document. Errors are *PosError naming file and line.
func parseTree(file string, data []byte) (*table, error) {
	// As for env files and Procfiles, a byte order mark from a Windows editor is dropped:
	// TOML does not allow one, and the error go-toml gives for it names an invisible character.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var p unstable.Parser
	p.Reset(data)
	root := newTable()
	root.defined = true
	current := root
	// currentPath prefixes the keys in error messages, so that a duplicate key under
	// [services.api] is reported as services.api.command rather than command.
	var currentPath []string
	lineOf := func(r unstable.Range, fallback int) int {
		if r.Length == 0 {
			return fallback
		}
		return p.Shape(r).Start.Line
	}
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys, line := keyParts(expr.Key(), lineOf)
			t, err := openTable(root, keys, expr.Kind == unstable.ArrayTable, line)
			if err != nil {
				return nil, &PosError{File: file, Line: line, Key: joinKeys(keys), Msg: err.Error()}
			}
			current, currentPath = t, keys
		case unstable.KeyValue:
			if err := setKeyValue(current, expr, lineOf, currentPath); err != nil {
				err.File = file
				return nil, err
			}
		}
	}
	if err := p.Error(); err != nil {
		line := 0
		var perr *unstable.ParserError
		if errors.As(err, &perr) && len(perr.Highlight) > 0 {
			line = p.Shape(p.Range(perr.Highlight)).Start.Line
		}
		return nil, &PosError{File: file, Line: line, Msg: "invalid TOML: " + err.Error()}
	}
	return root, nil
}

func keyParts(it unstable.Iterator, lineOf func(unstable.Range, int) int) (keys []string, line int) {
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = lineOf(k.Raw, 0)
		}
		keys = append(keys, string(k.Data))
	}
	return keys, line
}

// openTable finds or creates the table a [header] or [[header]] names.
func openTable(root *table, keys []string, arrayTable bool, line int) (*table, error) {
	t := root
	for i, key := range keys {
		last := i == len(keys)-1
		n := t.get(key)
		if n == nil {
			if last && arrayTable {
				n = &node{kind: kindArray, line: line, arrayOfTables: true}
			} else {
				n = &node{kind: kindTable, line: line, table: newTable()}
			}
			t.set(key, n)
		}
		switch {
		case last && arrayTable:
			if n.kind != kindArray || !n.arrayOfTables {
				return nil, fmt.Errorf("already defined as %s on line %d", n.kind, n.line)
			}
			elem := &node{kind: kindTable, line: line, table: newTable()}
			elem.table.defined = true
			n.array = append(n.array, elem)
			return elem.table, nil
		case !last && n.kind == kindArray && n.arrayOfTables:
			// [a.b] after [[a]] extends the last element of a; [a] itself would define a
			// again, which the default case below refuses.
			t = n.array[len(n.array)-1].table
			continue
		case n.kind != kindTable:
			return nil, fmt.Errorf("already defined as %s on line %d", n.kind, n.line)
		case n.table.inline:
			return nil, fmt.Errorf("inline table on line %d cannot be extended", n.line)
		}
		if last {
			if n.table.defined {
				return nil, fmt.Errorf("table defined twice (first on line %d)", n.line)
			}
			if n.table.dotted {
				return nil, fmt.Errorf("already defined by a dotted key on line %d", n.line)
			}
			n.table.defined = true
			n.line = line
		}
		t = n.table
	}
	return t, nil
}

// setKeyValue stores key = value (the key possibly dotted) in t.
func setKeyValue(t *table, expr *unstable.Node, lineOf func(unstable.Range, int) int, prefix []string) *PosError {
	keys, line := keyParts(expr.Key(), lineOf)
	full := joinKeys(append(append([]string(nil), prefix...), keys...))
	for _, key := range keys[:len(keys)-1] {
		n := t.get(key)
		if n == nil {
			n = &node{kind: kindTable, line: line, table: newTable()}
			n.table.dotted = true
			t.set(key, n)
		}
		if n.kind != kindTable || n.table.inline || !n.table.dotted {
			return &PosError{Line: line, Key: full, Msg: fmt.Sprintf("%q is already defined on line %d", key, n.line)}
		}
		t = n.table
	}
	last := keys[len(keys)-1]
	if prev := t.get(last); prev != nil {
		return &PosError{Line: line, Key: full, Msg: fmt.Sprintf("defined twice (first on line %d)", prev.line)}
	}
	value, err := convert(expr.Value(), line, lineOf, append(append([]string(nil), prefix...), keys...))
	if err != nil {
		return err
	}
	t.set(last, value)
	return nil
}

func convert(v *unstable.Node, line int, lineOf func(unstable.Range, int) int, path []string) (*node, *PosError) {
	line = lineOf(v.Raw, line)
	n := &node{line: line}
	bad := func(msg string) *PosError {
		return &PosError{Line: line, Key: joinKeys(path), Msg: msg}
	}
	switch v.Kind {
	case unstable.String:
		n.kind, n.str = kindString, string(v.Data)
	case unstable.Bool:
		n.kind, n.bool = kindBool, string(v.Data) == "true"
	case unstable.Integer:
		i, err := strconv.ParseInt(string(v.Data), 0, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("invalid integer %s", v.Data))
		}
		n.kind, n.num = kindInteger, i
	case unstable.Float:
		text := strings.ReplaceAll(string(v.Data), "_", "")
		if strings.TrimLeft(text, "+-") == "nan" {
			// TOML allows a sign on nan; strconv.ParseFloat does not.
			text = "nan"
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("invalid float %s", v.Data))
		}
		n.kind, n.float = kindFloat, f
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		n.kind, n.str = kindDatetime, string(v.Data)
	case unstable.Array:
		n.kind = kindArray
		it := v.Children()
		for it.Next() {
			elem, err := convert(it.Node(), line, lineOf, path)
			if err != nil {
				return nil, err
			}
			n.array = append(n.array, elem)
		}
	case unstable.InlineTable:
		n.kind, n.table = kindTable, newTable()
		it := v.Children()
		for it.Next() {
			if err := setKeyValue(n.table, it.Node(), lineOf, path); err != nil {
				return nil, err
			}
		}
		n.table.defined, n.table.inline = true, true
	default:
		return nil, bad(fmt.Sprintf("unsupported value %s", v.Kind))
	}
	return n, nil
}

// keyName writes one part of a dotted key as TOML would need it written: bare when it can be,
// quoted otherwise, so that a key holding a newline or a dot cannot make an error message span
// lines or name a different key.
func keyName(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isVarNameChar(c) && c != '-' {
			return strconv.Quote(k)
		}
	}
	return k
}

func joinKeys(keys []string) string {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = keyName(k)
	}
	return strings.Join(quoted, ".")
}

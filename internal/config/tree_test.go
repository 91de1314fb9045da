package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"
)

// flatten lists every value of t as "path: kind line N", depth first in the order written, so
// that a test can state where each value of a document was found in one readable list.
func flatten(t *table) []string {
	var out []string
	var walk func(path string, n *node)
	walk = func(path string, n *node) {
		out = append(out, fmt.Sprintf("%s: %s line %d", path, n.kind, n.line))
		switch n.kind {
		case kindTable:
			for _, k := range n.table.keys {
				walk(path+"."+keyName(k), n.table.get(k))
			}
		case kindArray:
			for i, e := range n.array {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	for _, k := range t.keys {
		walk(keyName(k), t.get(k))
	}
	return out
}

func mustParseTree(t *testing.T, doc string) *table {
	t.Helper()
	root, err := parseTree("f.toml", []byte(doc))
	if err != nil {
		t.Fatalf("parseTree:\n%s\nerror: %v", doc, err)
	}
	return root
}

func TestParseTreeLines(t *testing.T) {
	doc := `# a comment
title = "x"
[server]
host.name = "h"
ports = [
  8080,
  "8081",
]
motd = """
hello
world"""
limits = { cpu = 2, mem.max = 0x10 }

[[job]]
name = "a"
[job.retry]
max = 3
[[job]]
name = "b"

[a.b.c]
d = 1
[a]
e = 2
"quoted key" = 'literal'
'with.dot' = true
multi = {
  x = 1,
  y = [
    2 ],
}
`
	got := flatten(mustParseTree(t, doc))
	want := []string{
		"title: a string line 2",
		"server: a table line 3",
		// A table made by a dotted key is on the key's line.
		"server.host: a table line 4",
		"server.host.name: a string line 4",
		"server.ports: an array line 5",
		// Each element of a multi-line array is on its own line.
		"server.ports[0]: an integer line 6",
		"server.ports[1]: a string line 7",
		// A multi-line string is on the line of its key, not of its text.
		"server.motd: a string line 9",
		"server.limits: a table line 12",
		"server.limits.cpu: an integer line 12",
		"server.limits.mem: a table line 12",
		"server.limits.mem.max: an integer line 12",
		"job: an array line 14",
		"job[0]: a table line 14",
		"job[0].name: a string line 15",
		"job[0].retry: a table line 16",
		"job[0].retry.max: an integer line 17",
		"job[1]: a table line 18",
		"job[1].name: a string line 19",
		// [a.b.c] made a and a.b on its line; [a] then defined a, which moves it to its header.
		"a: a table line 23",
		"a.b: a table line 21",
		"a.b.c: a table line 21",
		"a.b.c.d: an integer line 22",
		"a.e: an integer line 24",
		`a."quoted key": a string line 25`,
		`a."with.dot": a boolean line 26`,
		// go-toml reads TOML 1.1's multi-line inline tables; each key keeps its own line.
		"a.multi: a table line 27",
		"a.multi.x: an integer line 28",
		"a.multi.y: an array line 29",
		"a.multi.y[0]: an integer line 30",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestParseTreeValues(t *testing.T) {
	root := mustParseTree(t, `
dec = 1_000
neg = -17
hex = 0xDEAD_beef
oct = 0o755
bin = 0b1101
zero = +0
float = 6.626e-34
under = 1_000.5
inf = -inf
nan = +nan
yes = true
no = false
basic = "tab\there \u00e9 \"q\""
literal = 'C:\path\$x'
folded = """\
  one \
  two"""
raw = '''
first
second'''
odt = 1979-05-27T07:32:00Z
ldt = 1979-05-27T07:32:00.999
ld = 1979-05-27
lt = 07:32:00
`)
	integers := map[string]int64{"dec": 1000, "neg": -17, "hex": 0xdeadbeef, "oct": 0o755, "bin": 13, "zero": 0}
	for key, want := range integers {
		if n := root.get(key); n.kind != kindInteger || n.num != want {
			t.Errorf("%s = %s %d, want the integer %d", key, n.kind, n.num, want)
		}
	}
	floats := map[string]float64{"float": 6.626e-34, "under": 1000.5, "inf": math.Inf(-1)}
	for key, want := range floats {
		if n := root.get(key); n.kind != kindFloat || n.float != want {
			t.Errorf("%s = %s %v, want the float %v", key, n.kind, n.float, want)
		}
	}
	// TOML allows a sign on nan, which strconv.ParseFloat does not read.
	if n := root.get("nan"); n.kind != kindFloat || !math.IsNaN(n.float) {
		t.Errorf("nan = %s %v, want NaN", n.kind, n.float)
	}
	for key, want := range map[string]bool{"yes": true, "no": false} {
		if n := root.get(key); n.kind != kindBool || n.bool != want {
			t.Errorf("%s = %s %v, want %v", key, n.kind, n.bool, want)
		}
	}
	strs := map[string]string{
		"basic":   "tab\there é \"q\"",
		"literal": `C:\path\$x`,
		"folded":  "one two",
		// The newline right after the opening quotes is not part of the string.
		"raw": "first\nsecond",
	}
	for key, want := range strs {
		if n := root.get(key); n.kind != kindString || n.str != want {
			t.Errorf("%s = %s %q, want the string %q", key, n.kind, n.str, want)
		}
	}
	datetimes := map[string]string{
		"odt": "1979-05-27T07:32:00Z", "ldt": "1979-05-27T07:32:00.999", "ld": "1979-05-27", "lt": "07:32:00",
	}
	for key, want := range datetimes {
		if n := root.get(key); n.kind != kindDatetime || n.str != want {
			t.Errorf("%s = %s %q, want the date-time %q", key, n.kind, n.str, want)
		}
	}
}

func TestParseTreeKeepsKeyOrder(t *testing.T) {
	root := mustParseTree(t, "z = 1\na = 2\n[m]\n[b]\nt = { y = 1, c = 2, x = 3 }\n")
	if want := []string{"z", "a", "m", "b"}; !slices.Equal(root.keys, want) {
		t.Errorf("root keys %q, want %q", root.keys, want)
	}
	inline := root.get("b").table.get("t").table
	if want := []string{"y", "c", "x"}; !slices.Equal(inline.keys, want) {
		t.Errorf("inline table keys %q, want %q", inline.keys, want)
	}
}

// TestParseTreeValid holds documents that look like redefinitions but are valid TOML.
func TestParseTreeValid(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"implicit table defined later", "[a.b]\nx = 1\n[a]\ny = 2\n"},
		{"dotted keys add to their own table", "a.b.c = 1\na.b.d = 2\n"},
		{"header adds a sub-table to a dotted-key table", "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n"},
		{"sub-table of the last array element", "[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]\nx = 2\n"},
		{"nested arrays of tables", "[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[a.b]]\n"},
		{"array of tables under an implicit table", "[[a.b]]\n[a]\nx = 1\n"},
		{"dotted keys inside an inline table", "a = { b.c = 1, b.d = 2 }\n"},
		{"dotted keys under a header", "[a]\nb.c = 1\nb.d = 2\n"},
		{"same key in two array elements", "[[a]]\nx = 1\n[[a]]\nx = 2\n"},
		{"empty document", ""},
		{"byte order mark and CRLF", "\ufeffa = 1\r\n[b]\r\nc = 2\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustParseTree(t, tt.doc)
		})
	}
}

func TestParseTreeErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string
	}{
		{"duplicate key", "a = 1\na = 2\n", "f.toml:2: a: defined twice (first on line 1)"},
		{"duplicate key in a table names the table", "[s.t]\nx = 1\n\nx = 2\n", "f.toml:4: s.t.x: defined twice (first on line 2)"},
		{"duplicate key in an array of tables", "[[s]]\nx = 1\nx = 2\n", "f.toml:3: s.x: defined twice (first on line 2)"},
		{"duplicate key inside an inline table", "a = { b = 1, b = 2 }\n", "f.toml:1: a.b: defined twice (first on line 1)"},
		{"duplicate dotted key", "a.b = 1\na.b = 2\n", "f.toml:2: a.b: defined twice (first on line 1)"},
		{"table defined twice", "[a]\nx = 1\n\n[a]\n", "f.toml:4: a: table defined twice (first on line 1)"},
		{"table over a value", "a = 1\n[a]\n", "f.toml:2: a: already defined as an integer on line 1"},
		{"sub-table under a value", "[a]\nb = 'x'\n[a.b.c]\n", "f.toml:3: a.b.c: already defined as a string on line 2"},
		{"dotted key through a value", "a = 1\na.b = 2\n", `f.toml:2: a.b: "a" is already defined on line 1`},
		{"inline table redefined", "a = { b = 1 }\na = { c = 2 }\n", "f.toml:2: a: defined twice (first on line 1)"},
		{"inline table extended by a header", "a = { b = 1 }\n[a]\n", "f.toml:2: a: inline table on line 1 cannot be extended"},
		{"inline table extended by a sub-table", "a = { b = { c = 1 } }\n[a.b.d]\n", "f.toml:2: a.b.d: inline table on line 1 cannot be extended"},
		{"inline table extended by a dotted key", "a = { b = 1 }\na.c = 2\n", `f.toml:2: a.c: "a" is already defined on line 1`},
		{"table over an array of tables", "[[a]]\nx = 1\n[a]\ny = 2\n", "f.toml:3: a: already defined as an array on line 1"},
		{"array of tables over a table", "[a]\n[[a]]\n", "f.toml:2: a: already defined as a table on line 1"},
		{"array of tables over a static array", "a = []\n[[a]]\n", "f.toml:2: a: already defined as an array on line 1"},
		{"sub-table in a static array", "a = [{ b = 1 }]\n[a.c]\n", "f.toml:2: a.c: already defined as an array on line 1"},
		{"header over a dotted-key table", "[fruit]\napple.color = 'red'\n[fruit.apple]\n", "f.toml:3: fruit.apple: already defined by a dotted key on line 2"},
		{"dotted key into a header's table", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", `f.toml:4: a.b.c.t: "b" is already defined on line 1`},
		{"dotted key into an array of tables", "[[a.b]]\n[a]\nb.c = 1\n", `f.toml:3: a.b.c: "b" is already defined on line 1`},
		{"integer out of range", "[a]\nn = 9223372036854775808\n", "f.toml:2: a.n: invalid integer 9223372036854775808"},
		{"float out of range", "f = 1e400\n", "f.toml:1: f: invalid float 1e400"},
		// Keys are written back as TOML would need them, so a message stays on one line and
		// names one key.
		{"quoted key with a newline", "\"a\\nb\" = 1\n\"a\\nb\" = 2\n", `f.toml:2: "a\nb": defined twice (first on line 1)`},
		{"quoted key with a dot", "[\"a.b\"]\n[\"a.b\"]\n", `f.toml:2: "a.b": table defined twice (first on line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTree("f.toml", []byte(tt.doc))
			if err == nil || err.Error() != tt.want {
				t.Errorf("parseTree(%q)\n got %v\nwant %s", tt.doc, err, tt.want)
			}
		})
	}
}

// TestParseTreeSyntaxErrors checks only the place: the wording is go-toml's.
func TestParseTreeSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
	}{
		{"missing value", "a = 1\nb =\n", 2},
		{"unterminated string", "[a]\nb = 1\nc = \"x\n", 3},
		{"unterminated header", "[a\nb = 1\n", 1},
		{"two pairs on a line", "a = 1 b = 2\n", 1},
		{"leading zero", "\n\nmode = 0755\n", 3},
		{"sign on a hex integer", "a = +0x10\n", 1},
		{"underscore at the end", "a = 1_\n", 1},
		{"bare key with a space", "\n\nmy key = 1\n", 3},
		{"invalid escape", "a = 1\nb = \"\\q\"\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTree("f.toml", []byte(tt.doc))
			prefix := fmt.Sprintf("f.toml:%d: invalid TOML: ", tt.line)
			if err == nil || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("parseTree(%q) = %v, want an error starting %q", tt.doc, err, prefix)
			}
		})
	}
}

// TestParseTreeAgreesWithGoToml holds the tree to go-toml's decoder, which passes the TOML test
// suite, on whether each document of these tests is valid: the tree does its own checks of
// redefinitions, and go-toml's unstable parser does none of them. Date-times are left out:
// no uno setting takes one, so the tree does not check their ranges.
func TestParseTreeAgreesWithGoToml(t *testing.T) {
	docs := []string{
		"[a.b]\n[a]\n", "a.b.c = 1\na.b.d = 2\n", "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\n",
		"[[a]]\n[a.b]\n[[a]]\n[a.b]\n", "[[a.b]]\n[a]\nx = 1\n", "a = { b.c = 1, b.d = 2 }\n",
		"a = 1\na = 2\n", "[a]\n[a]\n", "a = 1\n[a]\n", "a = { b = 1 }\n[a]\n", "a = { b = 1 }\na.c = 2\n",
		"a = { b = { c = 1 } }\n[a.b.d]\n", "[[a]]\n[a]\n", "[a]\n[[a]]\n", "a = []\n[[a]]\n",
		"a = [{ b = 1 }]\n[a.c]\n", "[fruit]\napple.color = 'red'\n[fruit.apple]\n", "[a.b.c]\n[a]\nb.c.t = 1\n",
		"[[a.b]]\n[a]\nb.c = 1\n", "[a]\nb.c = 1\n[a.b.d]\n", "a = +nan\nb = -nan\nc = -inf\n",
		"a = 9223372036854775807\nb = -9223372036854775808\n", "a = 9223372036854775808\n", "a = 1e400\n",
		"a = 0755\n", "a = 0o755\n", "a = 1__0\n", "a = {}\na.b = 1\n", "[a]\nb = {}\n[a.b.c]\n",
	}
	for _, doc := range docs {
		_, treeErr := parseTree("f.toml", []byte(doc))
		var m map[string]any
		tomlErr := toml.Unmarshal([]byte(doc), &m)
		if (treeErr == nil) != (tomlErr == nil) {
			t.Errorf("%q: tree says %v, go-toml says %v", doc, treeErr, tomlErr)
		}
	}
}

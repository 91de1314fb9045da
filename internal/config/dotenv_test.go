package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []EnvVar
	}{
		{"empty file", "", nil},
		{"blank lines and comments", "\n  \n# comment\n   # indented comment\n\t\n", nil},
		{"simple", "A=1\nB=two\n", []EnvVar{{"A", "1", 1}, {"B", "two", 2}}},
		{"no final newline", "A=1", []EnvVar{{"A", "1", 1}}},
		{"line numbers skip comments", "# c\n\nA=1\n", []EnvVar{{"A", "1", 3}}},
		{"empty value", "A=\nB=   \n", []EnvVar{{"A", "", 1}, {"B", "", 2}}},
		{"name characters", "_a_B9=x\n", []EnvVar{{"_a_B9", "x", 1}}},
		{"whitespace around name and value", "  A  =  x y  \n\tB\t=\tz\t\n", []EnvVar{{"A", "x y", 1}, {"B", "z", 2}}},
		{"export", "export A=1\nexport\tB=2\nexport   C = 3\n", []EnvVar{{"A", "1", 1}, {"B", "2", 2}, {"C", "3", 3}}},
		{"variable named export", "export=1\nexport = 2\n", []EnvVar{{"export", "1", 1}, {"export", "2", 2}}},
		{"name starting with export", "exporter=1\n", []EnvVar{{"exporter", "1", 1}}},
		{"inline comment", "A=1 # one\nB=2\t# two\n", []EnvVar{{"A", "1", 1}, {"B", "2", 2}}},
		{"hash without blank before is value", "COLOR=#fff\nURL=http://x/#frag\n", []EnvVar{{"COLOR", "#fff", 1}, {"URL", "http://x/#frag", 2}}},
		{"comment right after equals blank", "A= # nothing\n", []EnvVar{{"A", "", 1}}},
		{"equals in value", "A=b=c\n", []EnvVar{{"A", "b=c", 1}}},
		{"quotes inside unquoted value", `A=it's "x"` + "\n", []EnvVar{{"A", `it's "x"`, 1}}},
		{"unquoted keeps backslashes and dollars", `A=C:\dir $HOME ${X}` + "\n", []EnvVar{{"A", `C:\dir $HOME ${X}`, 1}}},
		{"single quoted literal", `A='  x \n "y" # z  '` + "\n", []EnvVar{{"A", `  x \n "y" # z  `, 1}}},
		{"single quoted dollar doubled", `A='$HOME $$ ${X}'`, []EnvVar{{"A", "$$HOME $$$$ $${X}", 1}}},
		{"single quoted empty", "A=''\n", []EnvVar{{"A", "", 1}}},
		{"single quoted several lines", "A='one\ntwo'\nB=3\n", []EnvVar{{"A", "one\ntwo", 1}, {"B", "3", 3}}},
		{"double quoted", `A="  x  "`, []EnvVar{{"A", "  x  ", 1}}},
		{"double quoted empty", `A=""`, []EnvVar{{"A", "", 1}}},
		{"double quoted escapes", `A="a\nb\tc\\d\"e\$f"`, []EnvVar{{"A", "a\nb\tc\\d\"e$$f", 1}}},
		{"double quoted unknown escape kept", `A="C:\dir\x"`, []EnvVar{{"A", `C:\dir\x`, 1}}},
		{"double quoted keeps references", `A="$HOME ${X:-y}"`, []EnvVar{{"A", "$HOME ${X:-y}", 1}}},
		{"double quoted single quote", `A="it's"`, []EnvVar{{"A", "it's", 1}}},
		{"double quoted several lines", "A=\"one\ntwo\n\nthree\"\nB=4\n", []EnvVar{{"A", "one\ntwo\n\nthree", 1}, {"B", "4", 5}}},
		{"double quoted hash", `A="x # y"`, []EnvVar{{"A", "x # y", 1}}},
		{"comment after quotes", "A=\"x\" # c\nB='y'   #c\nC=\"z\"#c\n", []EnvVar{{"A", "x", 1}, {"B", "y", 2}, {"C", "z", 3}}},
		{"blanks after quotes", "A=\"x\"  \t\n", []EnvVar{{"A", "x", 1}}},
		{"blank before quote", `A=   "x"`, []EnvVar{{"A", "x", 1}}},
		{"CRLF", "A=1\r\nB=\"x\r\ny\"\r\n", []EnvVar{{"A", "1", 1}, {"B", "x\ny", 2}}},
		{"byte order mark", "\ufeffA=1\n", []EnvVar{{"A", "1", 1}}},
		{"repeats kept in order", "A=1\nA=2\n", []EnvVar{{"A", "1", 1}, {"A", "2", 2}}},
		{"utf-8 value", "A=héllo wörld\n", []EnvVar{{"A", "héllo wörld", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDotenv("app.env", []byte(tt.in))
			if err != nil {
				t.Fatalf("ParseDotenv(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseDotenv(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDotenvErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"name starts with digit", "A=1\n\n1X=2\n", 3, `invalid variable name "1X"`},
		{"name with dash", "MY-VAR=1", 1, `invalid variable name "MY-VAR"`},
		{"name with space", "MY VAR=1", 1, `invalid variable name "MY VAR"`},
		{"empty name", "=1", 1, `invalid variable name ""`},
		{"missing equals", "A=1\nJUSTNAME\n", 2, `missing "=" in "JUSTNAME"`},
		{"export without assignment", "export A\n", 1, `missing "="`},
		{"unterminated double quote", "A=1\nB=2\n\n# c\nC=\"abc\nD=4\n", 5, "unterminated double-quoted value"},
		{"unterminated double quote by escape", `A="abc\"`, 1, "unterminated double-quoted value"},
		{"unterminated single quote", "A='abc", 1, "unterminated single-quoted value"},
		{"text after double quote", `A="x"y`, 1, `unexpected "y" after closing quote`},
		{"text after single quote", "A='x' 'y'", 1, `unexpected "'y'" after closing quote`},
		{"text after quote on later line", "A=\"x\ny\" z\n", 2, `unexpected "z"`},
		{"error after multi-line value", "A=\"x\ny\"\n2B=1\n", 3, `invalid variable name "2B"`},
		{"long line shortened", "A" + strings.Repeat("x", 200) + "\n", 1, `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDotenv("app.env", []byte(tt.in))
			if err == nil {
				t.Fatalf("ParseDotenv(%q) = %#v, want error", tt.in, got)
			}
			checkPosError(t, err, "app.env", tt.line, tt.msg)
		})
	}
}

// Values come out in Expand's syntax: expanding them gives what the file meant.
func TestParseDotenvThenExpand(t *testing.T) {
	in := "LIT='$HOME ${X}'\nESC=\"\\$HOME $HOME\"\nREF=$HOME/bin\nDEF=${NOPE:-none}\n"
	want := map[string]string{
		"LIT": "$HOME ${X}",
		"ESC": "$HOME /root",
		"REF": "/root/bin",
		"DEF": "none",
	}
	vars, err := ParseDotenv("app.env", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) (string, bool) {
		if name == "HOME" {
			return "/root", true
		}
		return "", false
	}
	for _, v := range vars {
		got, err := Expand(v.Value, lookup)
		if err != nil {
			t.Errorf("%s: Expand(%q): %v", v.Name, v.Value, err)
		}
		if got != want[v.Name] {
			t.Errorf("%s: Expand(%q) = %q, want %q", v.Name, v.Value, got, want[v.Name])
		}
	}
}

func FuzzParseDotenv(f *testing.F) {
	for _, seed := range []string{
		"",
		"A=1\nB=2\n",
		"# comment\n\nexport A=1 # inline\n",
		"A='single $quoted'\n",
		"A=\"double\\n\\\"escaped\\$\"\n",
		"A=\"multi\nline\"\nB=x\n",
		"A=\"unterminated\n",
		"A='unterminated\n",
		"1X=bad\n",
		"NOEQUALS\n",
		"A=\"x\" trailing\n",
		"\ufeffA=1\r\nB=2\r\n",
		"export = 1\nexport\tB=\"\\",
		"A=#fff # comment\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := ParseDotenv("fuzz.env", data)
		if err != nil {
			var pe *PosError
			if !errors.As(err, &pe) || pe.File != "fuzz.env" || pe.Line < 1 {
				t.Fatalf("error %v (%T) does not name fuzz.env and a line", err, err)
			}
			return
		}
		lines := strings.Count(normalizeText(data), "\n") + 1
		prev := 0
		for _, v := range vars {
			if !isVarName(v.Name) {
				t.Errorf("invalid name %q", v.Name)
			}
			if v.Line < 1 || v.Line > lines || v.Line <= prev {
				t.Errorf("%s: line %d, previous %d, file has %d", v.Name, v.Line, prev, lines)
			}
			prev = v.Line
			if _, err := Expand(v.Value, func(string) (string, bool) { return "", false }); err != nil && !strings.Contains(string(data), "${") {
				t.Errorf("%s: value %q does not expand: %v", v.Name, v.Value, err)
			}
		}
	})
}

package config

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"nginx", []string{"nginx"}},
		{"nginx -g 'daemon off;'", []string{"nginx", "-g", "daemon off;"}},
		{"  a \t b\n c  ", []string{"a", "b", "c"}},
		{"a\\\nb", []string{"ab"}},
		{"a \\\n b", []string{"a", "b"}},
		{`a\ b`, []string{"a b"}},
		{`\|\&\;\>\<\(\)\$\(\#`, []string{"|&;><()$(#"}},
		{`'a\b'`, []string{`a\b`}},
		{`'it'\''s'`, []string{"it's"}},
		{`'$(x) | y > z'`, []string{"$(x) | y > z"}},
		{`"a b"`, []string{"a b"}},
		{`"a\"b\\c\$d\` + "`" + `e"`, []string{"a\"b\\c$d`e"}},
		{`"a\nb\'c"`, []string{`a\nb\'c`}},
		{"\"a\\\nb\"", []string{"ab"}},
		{"\"a\nb\"", []string{"a\nb"}},
		{`"it's"`, []string{"it's"}},
		{`'say "hi"'`, []string{`say "hi"`}},
		{`a"b"'c'd`, []string{"abcd"}},
		{`''`, []string{""}},
		{`"" x ''`, []string{"", "x", ""}},
		{`a ''`, []string{"a", ""}},
		{`echo $HOME ${X:-y} $`, []string{"echo", "$HOME", "${X:-y}", "$"}},
		{`"$HOME ${X}"`, []string{"$HOME ${X}"}},
		{`a#b c`, []string{"a#b", "c"}},
		{`''#`, []string{"#"}},
		{`"#"`, []string{"#"}},
		{`x =y a=b`, []string{"x", "=y", "a=b"}},
		{`'A'=b c`, []string{"A=b", "c"}},
		{`A"="b c`, []string{"A=b", "c"}},
		{`1A=b`, []string{"1A=b"}},
		{`--opt=value`, []string{"--opt=value"}},
		{`*.go ~ {a,b} ! [x]`, []string{"*.go", "~", "{a,b}", "!", "[x]"}},
		{"héllo 'wörld'", []string{"héllo", "wörld"}},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if err != nil {
			t.Errorf("SplitCommand(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitCommandErrors(t *testing.T) {
	const useShell = `: use command = ["/bin/sh", "-c", "..."] to run a shell`
	tests := []struct {
		in   string
		want string
	}{
		{"", "empty command"},
		{" \t\n ", "empty command"},
		{"\\\n", "empty command"},
		{"'abc", "unterminated single quote"},
		{"a 'b", "unterminated single quote"},
		{`"abc`, "unterminated double quote"},
		{`"abc\"`, "unterminated double quote"},
		{`abc\`, "trailing backslash"},
		{"ps aux | grep x", `command contains shell operator "|"` + useShell},
		{"a||b", `command contains shell operator "||"`},
		{"make && run", `command contains shell operator "&&"`},
		{"server &", `command contains shell operator "&"`},
		{"a; b", `command contains shell operator ";"`},
		{"a;", `command contains shell operator ";"`},
		{"echo > out", `command contains shell operator ">"`},
		{"echo >> out", `command contains shell operator ">>"`},
		{"run 2>&1", `command contains shell operator ">"`},
		{"cat < in", `command contains shell operator "<"`},
		{"cat <<EOF", `command contains shell operator "<<"`},
		{"echo $(date)", `command contains shell operator "$("`},
		{"echo x$(date)", `command contains shell operator "$("`},
		{`echo "$(date)"`, `command contains shell operator "$("`},
		{"echo `date`", "command contains shell operator \"`\""},
		{"echo \"`date`\"", "command contains shell operator \"`\""},
		{"(cd x)", `command contains shell operator "("`},
		{"run # comment", `command contains shell operator "#"`},
		{"#run", `command contains shell operator "#"`},
		{"FOO=bar run", `command starts with variable assignment "FOO=bar": set FOO in the environment instead`},
		{"_X= run", `command starts with variable assignment "_X="`},
		{`A=b\ c run`, `command starts with variable assignment "A=b c"`},
		{`A='b c' run`, `command starts with variable assignment "A=b c"`},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if err == nil {
			t.Errorf("SplitCommand(%q) = %q, want error %q", tt.in, got, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SplitCommand(%q): error %q, want %q", tt.in, err, tt.want)
		}
	}
}

// shSingleQuote quotes a word for sh so that it splits back to itself whatever it contains.
func shSingleQuote(word string) string {
	return "'" + strings.ReplaceAll(word, "'", `'\''`) + "'"
}

func FuzzSplitCommand(f *testing.F) {
	for _, seed := range []string{
		"nginx -g 'daemon off;'",
		`a "b c" d\ e`,
		`'it'\''s' "say \"hi\""`,
		"a\\\nb \"c\\\nd\"",
		`"" ''`,
		`"\$HOME \` + "`" + `x\` + "`" + `"`,
		"a | b",
		"echo $(date) `date`",
		"FOO=bar run",
		`'A'=b run`,
		"run # comment",
		`"unterminated`,
		"'unterminated",
		`trailing\`,
		"\t\n ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, err := SplitCommand(s)
		if err != nil {
			return
		}
		if len(argv) == 0 {
			t.Fatalf("SplitCommand(%q) returned no words and no error", s)
		}
		quoted := make([]string, len(argv))
		for i, w := range argv {
			quoted[i] = shSingleQuote(w)
		}
		requoted := strings.Join(quoted, " ")
		again, err := SplitCommand(requoted)
		if err != nil {
			t.Fatalf("SplitCommand(%q) = %q, requoted %q: %v", s, argv, requoted, err)
		}
		if !slices.Equal(again, argv) {
			t.Fatalf("SplitCommand(%q) = %q, requoted %q splits to %q", s, argv, requoted, again)
		}
	})
}

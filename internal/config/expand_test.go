package config

import (
	"strings"
	"testing"
)

// expandTestEnv has a set variable, a set but empty one, and nothing else.
func expandTestEnv(name string) (string, bool) {
	switch name {
	case "HOME":
		return "/root", true
	case "EMPTY":
		return "", true
	case "NESTED":
		return "${HOME}", true
	case "B":
		return "b", true
	}
	return "", false
}

func TestExpand(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"plain text", "plain text"},
		{"${HOME}", "/root"},
		{"${HOME}/bin", "/root/bin"},
		{"a${HOME}b", "a/rootb"},
		{"$HOME", "/root"},
		{"$HOME/bin", "/root/bin"},
		{"$HOMEx", ""},
		{"$HOME.x", "/root.x"},
		{"$HOME$HOME", "/root/root"},
		{"${UNSET}", ""},
		{"$UNSET", ""},
		{"x${UNSET}y", "xy"},
		{"${EMPTY}", ""},
		{"$_", ""},
		{"$$", "$"},
		{"$$HOME", "$HOME"},
		{"$${HOME}", "${HOME}"},
		{"$$$HOME", "$/root"},
		{"$$$$", "$$"},
		{"$", "$"},
		{"a$", "a$"},
		{"$ x", "$ x"},
		{"$1", "$1"},
		{"$1.50", "$1.50"},
		{"^a$|b$", "^a$|b$"},
		{"$-", "$-"},
		{"$}", "$}"},
		{"}", "}"},
		{"{HOME}", "{HOME}"},
		{"${UNSET:-default}", "default"},
		{"${EMPTY:-default}", "default"},
		{"${HOME:-default}", "/root"},
		{"${UNSET-default}", "default"},
		{"${EMPTY-default}", ""},
		{"${HOME-default}", "/root"},
		{"${UNSET:-}", ""},
		{"${UNSET-}", ""},
		{"${UNSET:-a b c}", "a b c"},
		{"${UNSET:-a:-b}", "a:-b"},
		{"${UNSET:-x$}", "x$"},
		{"${UNSET:-$$}", "$"},
		{"${UNSET:-{a}", "{a"},
		{"${UNSET:-{a}}", "{a}"},
		{"${UNSET:-${HOME}}", "/root"},
		{"${UNSET:-$HOME}", "/root"},
		{"${UNSET:-${OTHER:-${HOME}/x}/y}z", "/root/x/yz"},
		{"${HOME:-${UNSET:-ignored}}", "/root"},
		{"${UNSET-${EMPTY-x}}", ""},
		{"${NESTED}", "${HOME}"},
		{"${UNSET:-${NESTED}}", "${HOME}"},
		{"${B}${B}$B-$B", "bbb-b"},
		{"héllo ${B} wörld", "héllo b wörld"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, expandTestEnv)
		if err != nil {
			t.Errorf("Expand(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"${", `unterminated variable reference "${"`},
		{"x ${HOME", `unterminated variable reference "${HOME"`},
		{"${HOME:-abc", `unterminated variable reference "${HOME:-abc"`},
		{"${A:-${B}", `unterminated variable reference "${A:-${B}"`},
		{"${A:-${B:-x}", `unterminated variable reference "${A:-${B:-x}"`},
		{"${}", `invalid variable reference "${}"`},
		{"${1A}", `invalid variable reference "${1A}"`},
		{"${A B}", `invalid variable reference "${A B}"`},
		{"${A:=x}", `invalid variable reference "${A:=x}"`},
		{"${A:?x}", `invalid variable reference "${A:?x}"`},
		{"${A+x}", `invalid variable reference "${A+x}"`},
		{"${#A}", `invalid variable reference "${#A}"`},
		{"${A-x${1}}", `invalid variable reference "${1}"`},
		{"${A:", `invalid variable reference "${A:"`},
		{"${HOME:-${}}", `invalid variable reference "${}"`},
		{"${" + strings.Repeat("x", 100), `"...`},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, expandTestEnv)
		if err == nil {
			t.Errorf("Expand(%q) = %q, want error %q", tt.in, got, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Expand(%q): error %q, want %q", tt.in, err, tt.want)
		}
	}
}

// A default that is not used is not evaluated: lookup is not asked for the names it mentions.
func TestExpandUnusedDefaultNotLookedUp(t *testing.T) {
	var asked []string
	lookup := func(name string) (string, bool) {
		asked = append(asked, name)
		return "set", true
	}
	got, err := Expand("${A:-${B}$C}", lookup)
	if err != nil || got != "set" {
		t.Fatalf("got %q, %v", got, err)
	}
	if strings.Join(asked, ",") != "A" {
		t.Errorf("looked up %q, want only A", asked)
	}
}

func FuzzExpand(f *testing.F) {
	for _, seed := range []string{
		"plain",
		"${HOME}/bin",
		"$HOME$B",
		"$$ $ $1 $- $}",
		"${UNSET:-default}",
		"${EMPTY-default}",
		"${UNSET:-${OTHER:-${HOME}/x}/y}z",
		"${UNSET:-{a}}",
		"${",
		"${1A}",
		"${}",
		"${A:-${B}",
		"${NESTED}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Expand(s, expandTestEnv)
		if !strings.Contains(s, "$") && (err != nil || got != s) {
			t.Fatalf("Expand(%q) = %q, %v; want it unchanged", s, got, err)
		}
		// Doubling every $ is how to write any text literally.
		escaped := strings.ReplaceAll(s, "$", "$$")
		if got, err := Expand(escaped, expandTestEnv); err != nil || got != s {
			t.Fatalf("Expand(%q) = %q, %v; want %q", escaped, got, err, s)
		}
	})
}

package config

import (
	"regexp"
	"testing"
)

// The hand-written name checks against the regular expressions they replaced, on every short
// string over an alphabet that holds each class of character.
func TestNameChecksMatchTheirRegexps(t *testing.T) {
	service := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	env := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	alphabet := []string{"a", "Z", "0", "9", "_", ".", "-", " ", "é", "$", "="}
	var walk func(s string, depth int)
	walk = func(s string, depth int) {
		if got, want := isServiceName(s), service.MatchString(s); got != want {
			t.Errorf("isServiceName(%q) = %v, want %v", s, got, want)
		}
		if got, want := isEnvName(s), env.MatchString(s); got != want {
			t.Errorf("isEnvName(%q) = %v, want %v", s, got, want)
		}
		if depth == 0 {
			return
		}
		for _, c := range alphabet {
			walk(s+c, depth-1)
		}
	}
	walk("", 3)
}

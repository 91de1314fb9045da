package config

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestPosErrorString(t *testing.T) {
	tests := []struct {
		err  PosError
		want string
	}{
		{PosError{File: "uno.toml", Line: 3, Key: "services.web.command", Msg: "empty command"}, "uno.toml:3: services.web.command: empty command"},
		{PosError{File: "uno.toml", Line: 3, Msg: "bad"}, "uno.toml:3: bad"},
		{PosError{File: "uno.toml", Key: "services", Msg: "bad"}, "uno.toml: services: bad"},
		{PosError{File: "uno.toml", Msg: "bad"}, "uno.toml: bad"},
		{PosError{Line: 7, Msg: "bad"}, "line 7: bad"},
		{PosError{Key: "k", Msg: "bad"}, "k: bad"},
		{PosError{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestPosErrorQuoteExcerpt(t *testing.T) {
	if got := quoteExcerpt("short"); got != `"short"` {
		t.Errorf("got %s", got)
	}
	long := strings.Repeat("é", 100) // two bytes each: a cut in the middle of one would show \xc3
	got := quoteExcerpt(long)
	if !strings.HasSuffix(got, `"...`) || strings.Contains(got, `\x`) || len(got) > 70 {
		t.Errorf("got %s", got)
	}
}

// checkPosError checks that err is a *PosError printing as file:line and containing msg.
func checkPosError(t *testing.T, err error, file string, line int, msg string) {
	t.Helper()
	var pe *PosError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *PosError", err, err)
	}
	if pe.File != file || pe.Line != line {
		t.Errorf("error %q at %s:%d, want %s:%d", err, pe.File, pe.Line, file, line)
	}
	prefix := file + ": "
	if line > 0 {
		prefix = file + ":" + strconv.Itoa(line) + ": "
	}
	if s := err.Error(); !strings.HasPrefix(s, prefix) || !strings.Contains(s, msg) {
		t.Errorf("error %q, want %q...%q", s, prefix, msg)
	}
}

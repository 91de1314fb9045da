package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseProcfile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []ProcfileEntry
	}{
		{"one", "web: nginx -g 'daemon off;'\n", []ProcfileEntry{{"web", "nginx -g 'daemon off;'", 1}}},
		{"several in order", "web: a\nworker: b\nclock: c", []ProcfileEntry{{"web", "a", 1}, {"worker", "b", 2}, {"clock", "c", 3}}},
		{"blank lines and comments", "# procs\n\n  # indented\nweb: a\n\n", []ProcfileEntry{{"web", "a", 4}}},
		{"name characters", "web_2-x: a\nA9: b\n", []ProcfileEntry{{"web_2-x", "a", 1}, {"A9", "b", 2}}},
		{"digit first name", "1: a\n", []ProcfileEntry{{"1", "a", 1}}},
		{"command trimmed", "web:    a b   \t\n", []ProcfileEntry{{"web", "a b", 1}}},
		{"no space after colon", "web:a", []ProcfileEntry{{"web", "a", 1}}},
		{"blanks around name", "  web  : a\n", []ProcfileEntry{{"web", "a", 1}}},
		{"colons in command", "web: bundle exec rails s -b 0.0.0.0:3000\n", []ProcfileEntry{{"web", "bundle exec rails s -b 0.0.0.0:3000", 1}}},
		{"hash in command kept", "web: run # not a comment to us\n", []ProcfileEntry{{"web", "run # not a comment to us", 1}}},
		{"CRLF", "web: a\r\nworker: b\r\n", []ProcfileEntry{{"web", "a", 1}, {"worker", "b", 2}}},
		{"byte order mark", "\ufeffweb: a\n", []ProcfileEntry{{"web", "a", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcfile("Procfile", []byte(tt.in))
			if err != nil {
				t.Fatalf("ParseProcfile(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseProcfile(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseProcfileErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"empty file", "", 0, "no processes defined"},
		{"only comments", "# nothing\n\n", 0, "no processes defined"},
		{"missing colon", "web: a\nworker b\n", 2, `missing ":" in "worker b"`},
		{"empty name", ": a\n", 1, `invalid process name ""`},
		{"name with space", "my web: a\n", 1, `invalid process name "my web"`},
		{"name with dot", "web.1: a\n", 1, `invalid process name "web.1"`},
		{"empty command", "web: a\nworker:   \n", 2, `process "worker" has an empty command`},
		{"duplicate", "web: a\n\nweb: b\n", 3, `process "web" defined twice (first on line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcfile("Procfile", []byte(tt.in))
			if err == nil {
				t.Fatalf("ParseProcfile(%q) = %#v, want error", tt.in, got)
			}
			checkPosError(t, err, "Procfile", tt.line, tt.msg)
		})
	}
}

func FuzzParseProcfile(f *testing.F) {
	for _, seed := range []string{
		"",
		"web: nginx -g 'daemon off;'\n",
		"web: a\nworker: b\n",
		"# comment\n\nweb: a\n",
		"web: a\nweb: b\n",
		"web:\n",
		"no colon\n",
		"bad name: x\n",
		"web: a:b:c\r\n",
		"\ufeff  web-1_x :  cmd  \n",
		": x\n",
		"web: a\n#worker: b\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseProcfile("Procfile", data)
		if err != nil {
			var pe *PosError
			if !errors.As(err, &pe) || pe.File != "Procfile" {
				t.Fatalf("error %v (%T) does not name the Procfile", err, err)
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("no entries and no error")
		}
		seen := map[string]bool{}
		prev := 0
		for _, e := range entries {
			if !isProcessName(e.Name) || seen[e.Name] {
				t.Errorf("bad or repeated name %q", e.Name)
			}
			seen[e.Name] = true
			if e.Command == "" || e.Command != strings.TrimSpace(e.Command) {
				t.Errorf("%s: command %q not trimmed or empty", e.Name, e.Command)
			}
			if e.Line <= prev {
				t.Errorf("%s: line %d after line %d", e.Name, e.Line, prev)
			}
			prev = e.Line
		}
	})
}

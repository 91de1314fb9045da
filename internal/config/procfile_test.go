package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
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

func TestLoadProcfile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"Procfile": "# processes\nweb: bundle exec puma -p $PORT\n\nworker: ./worker --queue 'a b'\n",
		".env":     "PORT=5000\nGREETING='hi $USER'\nPATH=/opt/bin:${PATH}\n",
	})
	path := filepath.Join(dir, "Procfile")
	cfg, err := LoadProcfile(path, testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File != path || cfg.Grace != DefaultGrace || cfg.LogFormat != FormatPrefix {
		t.Errorf("config %s %v %s", cfg.File, cfg.Grace, cfg.LogFormat)
	}
	env := []string{"PATH=/opt/bin:/usr/bin:/bin", "HOME=/root", "GOMAXPROCS=8", "LANG=C.UTF-8", "PORT=5000", "GREETING=hi $USER"}
	want := []*Service{
		{
			Name: "web", File: "Procfile", Line: 2, Type: Simple,
			// The shell, not uno, expands $PORT, as foreman's does.
			Command: []string{"/bin/sh", "-c", "bundle exec puma -p $PORT"},
			Env:     env, Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: DefaultGrace, KillMode: KillGroup,
			Essential: true, LogPrefix: true, Output: Output{Format: FormatPrefix},
		},
		{
			Name: "worker", File: "Procfile", Line: 4, Type: Simple,
			Command: []string{"/bin/sh", "-c", "./worker --queue 'a b'"},
			Env:     env, Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: DefaultGrace, KillMode: KillGroup,
			Essential: true, LogPrefix: true, Output: Output{Format: FormatPrefix},
		},
	}
	if len(cfg.Services) != len(want) {
		t.Fatalf("services %q", serviceNames(cfg.Services))
	}
	for i := range want {
		if !reflect.DeepEqual(cfg.Services[i], want[i]) {
			t.Errorf("service %d:\n got %s\nwant %s", i, describeService(cfg.Services[i]), describeService(want[i]))
		}
	}
}

func TestLoadProcfileWithoutDotenv(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Procfile": "web: run\n"})
	cfg, err := LoadProcfile(filepath.Join(dir, "Procfile"), testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Services[0].Env; !slices.Equal(got, testEnviron) {
		t.Errorf("env %q, want uno's %q", got, testEnviron)
	}
}

func TestLoadProcfileDotenvInDirectoryWithDollar(t *testing.T) {
	// The .env path is a real path: a $ in it must not be taken for a reference.
	dir := writeFiles(t, map[string]string{"a$HOME/Procfile": "web: run\n", "a$HOME/.env": "X=1\n"})
	cfg, err := LoadProcfile(filepath.Join(dir, "a$HOME", "Procfile"), testEnviron)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.Services[0].Env, "X=1") {
		t.Errorf("env %q lacks X=1", cfg.Services[0].Env)
	}
}

func TestLoadProcfileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"Procfile error", map[string]string{"Procfile": "web: a\nworker b\n"}, `Procfile:2: missing ":" in "worker b": want name: command`},
		{".env syntax error", map[string]string{"Procfile": "web: a\n", ".env": "A=1\nB='x\n"}, ".env:2: unterminated single-quoted value"},
		{".env bad reference", map[string]string{"Procfile": "web: a\n", ".env": "A=${B\n"}, `.env:1: A: unterminated variable reference "${B": missing "}"`},
		{"no Procfile", map[string]string{}, "cannot read Procfile: Procfile: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := LoadProcfile(filepath.Join(dir, "Procfile"), testEnviron)
			if got := errorLines(dir, err); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

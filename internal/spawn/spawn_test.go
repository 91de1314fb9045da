package spawn

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	noX, withX, sub := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "sub")
	for _, d := range []string{noX, withX, sub} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, mode os.FileMode) {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(noX, "prog"), 0o644)
	write(filepath.Join(withX, "prog"), 0o755)
	write(filepath.Join(noX, "only"), 0o644)
	if err := os.Mkdir(filepath.Join(withX, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
		code             int
		err              error
	}{
		// execvp: a later executable wins over an earlier one that is not executable.
		{"prog", noX + ":" + withX, filepath.Join(withX, "prog"), 0, nil},
		{"only", noX + ":" + withX, "", CodeNotExecutable, syscall.EACCES},
		{"missing", noX + ":" + withX, "", CodeNotFound, syscall.ENOENT},
		{"adir", withX, "", CodeNotExecutable, syscall.EISDIR},
		{filepath.Join(withX, "prog"), "", filepath.Join(withX, "prog"), 0, nil},
		{filepath.Join(withX, "prog", "x"), "", "", CodeNotFound, syscall.ENOTDIR},
		{sub, "", "", CodeNotExecutable, syscall.EISDIR},
		{"", withX, "", CodeNotFound, nil},
	}
	for _, c := range cases {
		got, err := LookPath(c.name, c.path)
		if c.code == 0 {
			if err != nil || got != c.want {
				t.Errorf("LookPath(%q) = %q, %v; want %q", c.name, got, err, c.want)
			}
			continue
		}
		var ee *ExecError
		if !errors.As(err, &ee) || ee.Code != c.code || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("LookPath(%q) = %q, %v; want code %d (%v)", c.name, got, err, c.code, c.err)
		}
	}
}

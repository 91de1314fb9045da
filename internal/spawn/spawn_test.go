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

// TestFindInDir: a relative program or $PATH entry is looked up where the program will run
// (dir, which it changes to before exec), not in uno's directory; and a user that cannot execute
// a file is told so although uno could.
func TestFindInDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"run.sh": 0o755, "bin/tool": 0o755, "owner-only": 0o744} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=bin:/nonexistent"}
	if got, err := Find("./run.sh", env, dir, nil); err != nil || got != filepath.Join(dir, "run.sh") {
		t.Errorf("./run.sh: %q, %v", got, err)
	}
	if got, err := Find("tool", env, dir, nil); err != nil || got != filepath.Join(dir, "bin/tool") {
		t.Errorf("tool on a relative PATH: %q, %v", got, err)
	}
	if _, err := Find("./run.sh", env, filepath.Join(dir, "bin"), nil); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("./run.sh from another directory: %v, want ENOENT", err)
	}
	if got := SearchPath(nil); got != defaultPath {
		t.Errorf("no PATH: %q, want %q", got, defaultPath)
	}

	st, err := os.Stat(filepath.Join(dir, "owner-only"))
	if err != nil {
		t.Fatal(err)
	}
	owner := st.Sys().(*syscall.Stat_t)
	other := &syscall.Credential{Uid: owner.Uid + 1, Gid: owner.Gid + 1}
	var ee *ExecError
	if _, err := Find(filepath.Join(dir, "owner-only"), nil, "", other); !errors.As(err, &ee) || ee.Code != CodeNotExecutable || !errors.Is(err, syscall.EACCES) {
		t.Errorf("another user: %v, want permission denied (126)", err)
	}
	if _, err := Find(filepath.Join(dir, "run.sh"), nil, "", other); err != nil {
		t.Errorf("another user, mode 0755: %v", err)
	}
	if _, err := Find(filepath.Join(dir, "owner-only"), nil, "", &syscall.Credential{Uid: owner.Uid, Gid: owner.Gid}); err != nil {
		t.Errorf("the owner: %v", err)
	}
}

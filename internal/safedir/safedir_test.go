package safedir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: only uno's own real directory, no more open than asked, passes; every way another
// user could plant it is refused with the path and the reason.
func TestCheck(t *testing.T) {
	base := t.TempDir()
	mkdir := func(name string, perm os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	good := mkdir("good", 0o700)
	if err := Check(good, 0o700); err != nil {
		t.Errorf("a private directory of our own: %v", err)
	}
	if err := Check(mkdir("tighter", 0o500), 0o750); err != nil {
		t.Errorf("a directory tighter than asked: %v", err)
	}
	if err := Check(mkdir("notify", 0o711), 0o711); err != nil {
		t.Errorf("0711 where 0711 is asked: %v", err)
	}

	link := filepath.Join(base, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	others := mkdir("others", 0o700)
	if os.Geteuid() == 0 {
		if err := os.Chown(others, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	bad := []struct {
		path, want string
	}{
		{link, "it is a symbolic link"},
		{file, "it is not a directory"},
		{mkdir("open", 0o755), "its mode is 0755, more open than 0700"},
		{mkdir("group-writable", 0o770), "its mode is 0770, more open than 0700"},
	}
	if os.Geteuid() == 0 {
		bad = append(bad, struct{ path, want string }{others, "it is owned by uid 65534, not 0"})
	} else {
		t.Log("not root: the test cannot make a directory owned by another uid")
	}
	for _, c := range bad {
		err := Check(c.path, 0o700)
		if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s) = %v, want an error naming it and saying %q", filepath.Base(c.path), err, c.want)
		}
	}
	if err := Check(filepath.Join(base, "missing"), 0o700); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing directory: %v, want fs.ErrNotExist", err)
	}
}

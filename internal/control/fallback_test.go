package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFallbackDirPlanted: where /run is not writable the socket goes to a per-user directory in a
// place other users can write ($XDG_RUNTIME_DIR here, /tmp/uno-UID without it). Another user who
// made that directory first, or a symlink by its name, must get neither uno's socket nor the
// client's trust: Listen refuses the directory, and so does the client, though a forged uno
// answers in it.
func TestFallbackDirPlanted(t *testing.T) {
	base := socketDir(t)
	t.Setenv("XDG_RUNTIME_DIR", base)
	dir := filepath.Join(base, "uno")
	path := filepath.Join(dir, SocketName)
	if userRuntimeDir() != dir {
		t.Fatalf("the fallback directory is %s, want %s", userRuntimeDir(), dir)
	}
	// The attacker's own directory, open to all as theirs would be.
	attacker := func() string {
		d, err := os.MkdirTemp(base, "attacker")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	cases := []struct {
		name  string
		plant func()
		want  string
	}{
		{"symlink", func() {
			if err := os.Symlink(attacker(), dir); err != nil {
				t.Fatal(err)
			}
		}, "it is a symbolic link"},
		{"open to all", func() {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
		}, "its mode is 0777, more open than 07"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, struct {
			name  string
			plant func()
			want  string
		}{"another user's", func() {
			if err := os.Rename(attacker(), dir); err != nil {
				t.Fatal(err)
			}
		}, "it is owned by uid 65534, not 0"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			tc.plant()
			if s, err := Listen(path, -1, newFake(), discard); err == nil {
				s.Close()
				t.Errorf("Listen used the planted directory")
			} else if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Listen: %v, want an error naming %s and saying %q", err, dir, tc.want)
			}
			// The attacker listens there, answering as uno would.
			ln := fakeServer(t, path, func([]byte) string { return `{"v":1,"ok":true,"message":"ready: forged"}` + "\n" })
			defer ln.Close()
			c := Client{Path: path, Timeout: patience}
			if r, err := c.Do(Request{Command: CmdReady}); err == nil {
				t.Errorf("the client trusted a socket in the planted directory: %+v", r)
			} else if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("client: %v, want an error naming %s and saying %q", err, dir, tc.want)
			}
		})
	}
	t.Run("absent: made private", func(t *testing.T) {
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		s, err := Listen(path, -1, newFake(), discard)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if fi, err := os.Lstat(dir); err != nil || fi.Mode() != os.ModeDir|0o700 {
			t.Errorf("the fallback directory: %v, %v; want a 0700 directory", fi.Mode(), err)
		}
		c := Client{Path: path, Timeout: patience}
		if r, err := c.Do(Request{Command: CmdReady}); err != nil || !r.OK {
			t.Errorf("ready: %+v, %v", r, err)
		}
	})
}

// Package safedir checks a directory uno keeps sockets in before it trusts it: the control
// socket's per-user fallback (/tmp/uno-UID) and the services' notify directory. Where other users
// may create files (/tmp), one of them can create that directory first, or a symlink by its name,
// and then own the socket's place: answer `uno ctl` in uno's stead, or take uno's socket away. So
// a directory is trusted, as ssh-agent and tmux trust theirs, only if it is a directory itself,
// not a link, owned by uno's uid, and open to nobody beyond the mode uno gives it.
//
// The check holds while the directory stays where it is, which its parent ensures: /tmp is
// sticky (nobody else may rename or remove uno's directory) and $XDG_RUNTIME_DIR is private.
package safedir

import (
	"fmt"
	"os"
	"syscall"
)

// Check returns nil if dir, not following a symlink, is a directory owned by this process's
// effective uid whose permissions have no bit beyond perm; otherwise an error naming dir and what
// is wrong. A missing dir gives the *fs.PathError of lstat (errors.Is(err, fs.ErrNotExist)).
func Check(dir string, perm os.FileMode) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	var what string
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		what = "it is a symbolic link"
	case !fi.IsDir():
		what = "it is not a directory"
	case st == nil:
		what = "its owner cannot be read"
	case int(st.Uid) != os.Geteuid():
		what = fmt.Sprintf("it is owned by uid %d, not %d", st.Uid, os.Geteuid())
	case fi.Mode().Perm()&^perm != 0:
		what = fmt.Sprintf("its mode is %04o, more open than %04o", fi.Mode().Perm(), perm)
	default:
		return nil
	}
	return fmt.Errorf("refusing directory %s: %s (another user may have made it; remove it)", dir, what)
}

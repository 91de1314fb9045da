package logmux

import (
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// compressor gzips rotated files (NAME.k to NAME.k.gz) in the background, so that a rotation
// never waits for it. It finds its input and places its output under the file's lock, but
// compresses without it: a rotation may move the file meanwhile, so the output goes to where
// the input's inode is then, or is dropped if that was rotated away. There is one compressor per
// log file, and one temporary file, NAME.gz-tmp.
func (f *logFile) compressor() {
	defer close(f.compressed)
	for range f.kick {
		// Inodes that could not be compressed this round: left as they are until the next
		// rotation's, when the cause (a full disk) may be gone.
		failed := map[uint64]bool{}
		for {
			in, ino, ok := f.nextToCompress(failed)
			if !ok {
				break
			}
			tmp := f.path + ".gz-tmp"
			err := gzipFile(in, tmp)
			in.Close()
			f.mu.Lock()
			if err != nil {
				failed[ino] = true
				os.Remove(tmp)
				if n, due := f.reports.due(); due {
					f.m.report(f.name, "cannot compress rotated log file", err, f.path, n)
				}
			} else if k := f.findLocked(ino); k > 0 {
				if err := os.Rename(tmp, f.rotatedName(k, true)); err == nil {
					os.Remove(f.rotatedName(k, false))
				} else {
					failed[ino] = true
					os.Remove(tmp)
				}
			} else {
				os.Remove(tmp)
			}
			f.mu.Unlock()
		}
	}
}

// nextToCompress opens the most recent rotated file not yet compressed.
func (f *logFile) nextToCompress(failed map[uint64]bool) (*os.File, uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, 0, false
	}
	for k := 1; k <= f.maxFiles; k++ {
		// Not a planted symlink (to a secret, which would end up in a .gz others can read).
		in, err := openRegular(f.rotatedName(k, false), os.O_RDONLY, 0)
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Fstat(int(in.Fd()), &st) != nil || failed[st.Ino] {
			in.Close()
			continue
		}
		return in, st.Ino, true
	}
	return nil, 0, false
}

// findLocked returns k such that NAME.k is the inode, or 0.
func (f *logFile) findLocked(ino uint64) int {
	for k := 1; k <= f.maxFiles; k++ {
		var st syscall.Stat_t
		if syscall.Stat(f.rotatedName(k, false), &st) == nil && st.Ino == ino {
			return k
		}
	}
	return 0
}

// gzipFile compresses in to a new file out, with in's mode and owner. A file already at out is
// removed first, and out created exclusively: a symlink planted there is never followed.
func gzipFile(in *os.File, out string) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(in.Fd()), &st); err != nil {
		return err
	}
	if err := os.Remove(out); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, os.FileMode(st.Mode)&0o600)
	if err != nil {
		return err
	}
	// The log's owner and mode, which its admin may have set (0600, a log reader's group).
	_ = w.Chown(int(st.Uid), int(st.Gid))
	if err := w.Chmod(os.FileMode(st.Mode) & 0o666); err != nil {
		w.Close()
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err == nil {
		_, err = io.Copy(zw, in)
		err = errors.Join(err, zw.Close())
	}
	err = errors.Join(err, w.Close())
	if errors.Is(err, fs.ErrClosed) {
		err = nil
	}
	return err
}

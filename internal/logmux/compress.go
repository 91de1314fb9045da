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
	failed := map[uint64]bool{} // inodes that could not be compressed: left as they are
	for range f.kick {
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
		in, err := os.Open(f.rotatedName(k, false))
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

func gzipFile(in *os.File, out string) error {
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
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

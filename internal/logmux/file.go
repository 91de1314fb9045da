package logmux

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/config"
)

// logFile is a service's log_file: both streams' lines, in the service's format, rotated by size.
//
// Rotation renames NAME to NAME.1 after moving NAME.k (or NAME.k.gz) to NAME.k+1 and dropping the
// one beyond log_max_files: every rename is atomic, and a rotation falls only between lines, so
// that each line is in exactly one file, whole. A line longer than log_max_size goes whole into a
// file of its own.
//
// The file never stops the service: an error (permission, a full disk, a directory gone) is
// reported at most once a minute, the lines that could not be written go to uno's stdout or
// stderr instead (where they would have gone without log_file), and the file is retried once a
// second. A short write is cut back with ftruncate, so that no line in the file is cut either.
type logFile struct {
	m    *Mux
	name string // the service's
	path string

	mu       sync.Mutex
	f        *os.File
	ino      uint64
	size     int64
	maxSize  int64
	maxFiles int
	compress bool
	// midLine: the last byte written was not a newline (raw output), so a rotation waits for
	// the line's end.
	midLine bool
	// failing: the last write or open failed; retryAt is when to try again.
	failing bool
	retryAt time.Time
	checkAt time.Time // when to look whether the path still names the open file
	refs    int
	closed  bool

	reports reportLimiter
	kick    chan struct{} // wakes the compressor; nil without log_compress
	// compressed is closed when the compressor has ended, after release closed kick.
	compressed chan struct{}
}

// checkEvery is how often the path is compared with the open file, to follow a directory that
// was removed or a file that an external logrotate moved; retryEvery how often a failing file is
// tried again.
const (
	checkEvery = time.Second
	retryEvery = time.Second
)

func (m *Mux) openLogFile(service string, out config.Output) *logFile {
	// The service holds the first reference, and each run's readers one each.
	f := &logFile{m: m, name: service, path: out.File, refs: 1}
	f.setLimits(out)
	f.mu.Lock()
	f.openLocked()
	f.mu.Unlock()
	return f
}

// setLimits takes a reload's new rotation settings for the same path.
func (f *logFile) setLimits(out config.Output) {
	f.mu.Lock()
	defer f.mu.Unlock()
	newMax := max(out.MaxFiles, 1)
	// Fewer files kept after a reload: those beyond the new count go now, or they would stay
	// for ever (a rotation removes only the last one it keeps).
	for k := newMax + 1; f.maxFiles > 0 && k <= f.maxFiles; k++ {
		os.Remove(f.rotatedName(k, false))
		os.Remove(f.rotatedName(k, true))
	}
	f.maxSize, f.maxFiles, f.compress = out.MaxSize, newMax, out.Compress
	if f.compress && f.kick == nil {
		f.kick = make(chan struct{}, 1)
		f.compressed = make(chan struct{})
		go f.compressor()
		f.kickCompressor()
	}
}

func (f *logFile) acquire() {
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
}

// release drops one holder: the service's state, or a run's reader; the last closes the file.
func (f *logFile) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs--
	if f.refs > 0 || f.closed {
		return
	}
	f.closed = true
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
	if f.kick != nil {
		close(f.kick)
	}
}

// logFileMode is the mode of a log file uno creates: services log tokens more often than they
// should, so not for every user to read.
const logFileMode = 0o640

// openLocked opens (creating) the file for appending. uno is often root, and the log directory
// may belong to the service's user: a symlink planted at the path is not followed (it could
// point at /etc/passwd), nor is anything but a regular file written (a FIFO would block the
// open for ever).
func (f *logFile) openLocked() bool {
	file, err := openRegular(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, logFileMode)
	if err != nil {
		f.failLocked("cannot open log file", err)
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(file.Fd()), &st); err != nil {
		file.Close()
		f.failLocked("cannot open log file", err)
		return false
	}
	f.f, f.ino, f.size, f.midLine = file, st.Ino, st.Size, false
	f.checkAt = time.Now().Add(checkEvery)
	if f.failing {
		f.failing = false
		f.m.report(f.name, "log file works again", nil, f.path, f.reports.resume())
	}
	return true
}

func (f *logFile) failLocked(what string, err error) {
	f.failing = true
	f.retryAt = time.Now().Add(retryEvery)
	if n, ok := f.reports.due(); ok {
		f.m.report(f.name, what, err, f.path, n)
	}
}

// reopen closes the file and opens the path again: for `uno ctl logs --reopen`.
func (f *logFile) reopen() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
	f.openLocked()
}

// write writes p, whole lines in the service's format (or raw bytes), and returns how many of
// its first bytes are in the file; the caller writes the rest elsewhere.
func (f *logFile) write(p []byte) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0
	}
	now := time.Now()
	if f.f == nil || f.failing {
		if now.Before(f.retryAt) {
			return 0
		}
		if f.f == nil && !f.openLocked() {
			return 0
		}
	}
	if now.After(f.checkAt) {
		f.checkAt = now.Add(checkEvery)
		if !f.samePathLocked() {
			f.f.Close()
			f.f = nil
			if !f.openLocked() {
				return 0
			}
		}
	}
	written := 0
	for written < len(p) {
		rest := p[written:]
		n := len(rest)
		if f.maxSize > 0 && f.size+int64(n) > f.maxSize {
			room := int(max(f.maxSize-f.size, 0))
			n = bytes.LastIndexByte(rest[:room], '\n') + 1
			if n == 0 {
				if f.size > 0 && !f.midLine {
					if !f.rotateLocked() {
						return written
					}
					continue
				}
				// A line longer than the limit, or the end of one already started, goes whole.
				if n = bytes.IndexByte(rest, '\n') + 1; n == 0 {
					n = len(rest)
				}
			}
		}
		k, err := f.f.Write(rest[:n])
		if err != nil {
			if k > 0 {
				// Cut back what part of the lines got in: the file holds no cut line, and the
				// lines go elsewhere whole.
				_ = f.f.Truncate(f.size)
			}
			f.failLocked("cannot write log file", err)
			return written
		}
		f.size += int64(k)
		f.midLine = rest[n-1] != '\n'
		written += n
		if f.maxSize > 0 && f.size >= f.maxSize && !f.midLine {
			if !f.rotateLocked() {
				return written
			}
		}
	}
	if f.failing {
		f.failing = false
		f.m.report(f.name, "log file works again", nil, f.path, f.reports.resume())
	}
	return written
}

// samePathLocked says whether the path still names the open file (and not a symlink to it).
func (f *logFile) samePathLocked() bool {
	var st syscall.Stat_t
	return syscall.Lstat(f.path, &st) == nil && st.Ino == f.ino
}

// errNotRegular is a log path that names something else than a regular file.
var errNotRegular = errors.New("not a regular file")

// openRegular opens path without following a symlink at its last component, without blocking
// on a FIFO or a device, and fails unless it is a regular file of one link: a hard link to
// another file (/etc/passwd) is as much a plant as a symlink.
func openRegular(path string, flag int, perm os.FileMode) (*os.File, error) {
	file, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = fmt.Errorf("%s is a symlink, not followed: %w", path, err)
		}
		return nil, err
	}
	st, err := file.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w (%v)", path, errNotRegular, st.Mode().Type())
	} else if sys, ok := st.Sys().(*syscall.Stat_t); err == nil && ok && sys.Nlink > 1 {
		err = fmt.Errorf("%s has %d hard links: not used, it may be another file", path, sys.Nlink)
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	// O_NONBLOCK was for the open only: writes to a regular file block as they always do.
	if err := syscall.SetNonblock(int(file.Fd()), false); err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// rotatedName is NAME.k, or NAME.k.gz.
func (f *logFile) rotatedName(k int, gz bool) string {
	name := fmt.Sprintf("%s.%d", f.path, k)
	if gz {
		name += ".gz"
	}
	return name
}

// rotateLocked moves the current file to NAME.1 and opens a new one. On failure the old file
// stays open, so that lines go on landing somewhere; the failure is reported, and retried at
// the next write after retryEvery.
func (f *logFile) rotateLocked() bool {
	for k := f.maxFiles; k >= 1; k-- {
		for _, gz := range []bool{false, true} {
			from := f.rotatedName(k, gz)
			var err error
			if k == f.maxFiles {
				err = os.Remove(from)
			} else {
				err = os.Rename(from, f.rotatedName(k+1, gz))
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				f.failLocked("cannot rotate log file", err)
				return false
			}
		}
	}
	if err := os.Rename(f.path, f.rotatedName(1, false)); err != nil {
		f.failLocked("cannot rotate log file", err)
		// The file is kept; the next attempt comes with the next lines past the limit.
		return false
	}
	// The new file gets the old one's owner and mode, which its admin may have set.
	var st syscall.Stat_t
	statErr := syscall.Fstat(int(f.f.Fd()), &st)
	f.f.Close()
	f.f = nil
	f.kickCompressor()
	if !f.openLocked() {
		return false
	}
	if statErr == nil {
		_ = f.f.Chown(int(st.Uid), int(st.Gid))
		_ = f.f.Chmod(os.FileMode(st.Mode) & 0o666)
	}
	return true
}

func (f *logFile) kickCompressor() {
	if f.kick == nil || f.closed {
		return
	}
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// reportLimiter lets an error through at most once a minute and counts the others.
type reportLimiter struct {
	last       time.Time
	suppressed int
}

// reportEvery is the least time between two reports of a log file's errors.
const reportEvery = time.Minute

func (r *reportLimiter) due() (int, bool) {
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < reportEvery {
		r.suppressed++
		return 0, false
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	return n, true
}

// resume is the count of errors not reported, when the file works again.
func (r *reportLimiter) resume() int {
	n := r.suppressed
	r.suppressed = 0
	return n
}

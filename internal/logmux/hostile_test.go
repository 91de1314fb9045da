package logmux

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
)

// Findings of the fresh-eyes review of issue 17: paths in a log directory that someone else (the
// service's own user, say, who owns the directory) could have planted.

// victim is a file outside the log directory that uno, as root, must never write or read out.
func victim(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkUntouched(t *testing.T, path, content string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != content {
		t.Errorf("%s was changed through a planted link: %q", path, data)
	}
}

// within runs f and fails the test if it does not return in time: an open that blocks.
func within(t *testing.T, what string, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s blocked for %v", what, d)
	}
}

// TestPlantedSymlinkAtLogFileIsNotFollowed: log_file is a symlink to a file elsewhere: uno
// does not append to it, and the lines go to its stdout instead.
func TestPlantedSymlinkAtLogFileIsNotFollowed(t *testing.T) {
	const content = "root:x:0:0::/root:/bin/sh\n"
	target := victim(t, content)
	path := filepath.Join(t.TempDir(), "api.log")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	m, rep := newReporting(&out, io.Discard)
	feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: path, MaxSize: 1 << 20, MaxFiles: 2}, 1, Stdout, "hacked::0:0::/:/bin/sh\n")
	waitIdle(t, m)
	checkUntouched(t, target, content)
	if !strings.Contains(out.String(), "hacked") {
		t.Errorf("the line is not on stdout: %q", out.String())
	}
	if rep.count("cannot open log file") != 1 {
		t.Errorf("no report of the refused file: %q", rep.lines)
	}
}

// TestPlantedSymlinkAtReopenIsNotFollowed: after an external rotation moved the file, the path
// is a symlink by the time of `uno ctl logs --reopen`.
func TestPlantedSymlinkAtReopenIsNotFollowed(t *testing.T) {
	const content = "root:x:0:0::/root:/bin/sh\n"
	target := victim(t, content)
	path := filepath.Join(t.TempDir(), "api.log")
	var out syncBuffer
	m, _ := newReporting(&out, io.Discard)
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 1 << 20, MaxFiles: 2}
	run, err := m.Start("api", o)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(1)
	run.Stderr.Close()
	io.WriteString(run.Stdout, "before\n")
	pollUntil(t, "the first line in the file", func() bool {
		st, err := os.Stat(path)
		return err == nil && st.Size() > 0
	})
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	m.Reopen(nil)
	io.WriteString(run.Stdout, "hacked::0:0::/:/bin/sh\n")
	run.Stdout.Close()
	waitIdle(t, m)
	checkUntouched(t, target, content)
}

// TestPlantedSymlinkAtGzipTemporaryIsNotFollowed: NAME.gz-tmp is a symlink: the compressor
// must not truncate and overwrite what it points to.
func TestPlantedSymlinkAtGzipTemporaryIsNotFollowed(t *testing.T) {
	const content = "root:x:0:0::/root:/bin/sh\n"
	target := victim(t, content)
	path := filepath.Join(t.TempDir(), "api.log")
	if err := os.Symlink(target, path+".gz-tmp"); err != nil {
		t.Fatal(err)
	}
	m := New(io.Discard, io.Discard, Options{})
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 4 << 10, MaxFiles: 3, Compress: true}
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, 1000, 40))
	waitIdle(t, m)
	pollUntil(t, "NAME.1.gz", func() bool { _, err := os.Stat(path + ".1.gz"); return err == nil })
	checkUntouched(t, target, content)
}

// TestPlantedSymlinkAtRotatedNameIsNotCompressed: NAME.1 is a symlink to a secret: the
// compressor must not read it into a NAME.k.gz that others may read.
func TestPlantedSymlinkAtRotatedNameIsNotCompressed(t *testing.T) {
	const secret = "TOPSECRET shadow line\n"
	target := victim(t, secret)
	path := filepath.Join(t.TempDir(), "api.log")
	if err := os.Symlink(target, path+".1"); err != nil {
		t.Fatal(err)
	}
	m := New(io.Discard, io.Discard, Options{})
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 4 << 10, MaxFiles: 5, Compress: true}
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, 400, 40))
	waitIdle(t, m)
	pollUntil(t, "the service's rotated files compressed", func() bool {
		gz, _ := filepath.Glob(path + ".*.gz")
		return len(gz) >= 3
	})
	// Give the compressor the time of a few more files: it goes newest first.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	gz, _ := filepath.Glob(path + ".*.gz")
	for _, name := range gz {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if bytes.Contains(plain, []byte("TOPSECRET")) {
			st, _ := os.Stat(name)
			t.Errorf("%s (mode %v) holds the secret the planted symlink pointed to", name, st.Mode())
		}
	}
}

// TestFIFOAtLogFileDoesNotBlock: a FIFO at log_file with no reader: opening it for writing
// would block uno (and the service's start) for ever.
func TestFIFOAtLogFileDoesNotBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	m, _ := newReporting(&out, io.Discard)
	within(t, "starting a service whose log_file is a FIFO", 10*time.Second, func() {
		feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: path, MaxSize: 1 << 20, MaxFiles: 2}, 1, Stdout, "line\n")
		waitIdle(t, m)
	})
	if !strings.Contains(out.String(), "line") {
		t.Errorf("the line is not on stdout: %q", out.String())
	}
}

// TestFileTailOfFIFODoesNotBlock: `uno ctl logs --files` when the path is now a FIFO.
func TestFileTailOfFIFODoesNotBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	m := New(io.Discard, io.Discard, Options{})
	feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: path, MaxSize: 1 << 20, MaxFiles: 2}, 1, Stdout, "line\n")
	waitIdle(t, m)
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, "FileTail of a FIFO", 10*time.Second, func() {
		if _, err := m.FileTail("api", 10); err == nil {
			t.Errorf("FileTail of a FIFO: no error")
		}
	})
}

// TestCompressedFileKeepsTheLogsMode: an admin made the log 0600 (it holds secrets): its .gz
// must not be readable by everyone.
func TestCompressedFileKeepsTheLogsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m := New(io.Discard, io.Discard, Options{})
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 4 << 10, MaxFiles: 3, Compress: true}
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, 200, 40))
	waitIdle(t, m)
	pollUntil(t, "NAME.1.gz and NAME.2.gz", func() bool {
		_, err1 := os.Stat(path + ".1.gz")
		_, err2 := os.Stat(path + ".2.gz")
		return err1 == nil && err2 == nil
	})
	for _, name := range []string{path, path + ".1.gz", path + ".2.gz"} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, the log had %v", name, st.Mode().Perm(), os.FileMode(0o600))
		}
	}
}

// TestNewLogFileIsNotWorldReadable: a log file uno creates is not readable by every user
// (services log tokens and secrets more often than they should).
func TestNewLogFileIsNotWorldReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	m := New(io.Discard, io.Discard, Options{})
	feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: path, MaxSize: 1 << 20, MaxFiles: 2}, 1, Stdout, "line\n")
	waitIdle(t, m)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o007 != 0 {
		t.Errorf("%s has mode %v: readable by everyone", path, st.Mode().Perm())
	}
}

// TestHardLinkAtLogFileIsNotWritten: log_file is a hard link to another file (possible for the
// directory's owner where fs.protected_hardlinks is 0): uno does not append to it.
func TestHardLinkAtLogFileIsNotWritten(t *testing.T) {
	const content = "root:x:0:0::/root:/bin/sh\n"
	target := victim(t, content)
	dir := filepath.Join(filepath.Dir(target), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "api.log")
	if err := os.Link(target, path); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	m, _ := newReporting(&out, io.Discard)
	feedRun(t, m, "api", config.Output{Format: config.FormatRaw, File: path, MaxSize: 1 << 20, MaxFiles: 2}, 1, Stdout, "hacked::0:0::/:/bin/sh\n")
	waitIdle(t, m)
	checkUntouched(t, target, content)
	if !strings.Contains(out.String(), "hacked") {
		t.Errorf("the line is not on stdout: %q", out.String())
	}
}

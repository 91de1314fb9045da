package logmux

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/uno-init/uno/internal/config"
)

// TestHugeJSONLineThroughRotation: a line of 10 MiB, in JSON, to a file rotated at 1 MiB: it
// comes as pieces marked partial, each a whole JSON line in one of the files, which put back
// together are the line.
func TestHugeJSONLineThroughRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	m := New(io.Discard, io.Discard, Options{})
	huge := strings.Repeat("0123456789\"\\é", 10<<20/14)
	o := config.Output{Format: config.FormatJSON, File: path, MaxSize: 1 << 20, MaxFiles: 100}
	feedRun(t, m, "api", o, 5, Stdout, "before\n"+huge+"\nafter\n")
	waitIdle(t, m)
	lines, files := readLogFiles(t, path)
	if files < 10 {
		t.Errorf("%d files for 10 MiB through a 1 MiB limit", files)
	}
	var joined strings.Builder
	var msgs []string
	for i, l := range lines {
		var j jsonLine
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if j.Partial || (joined.Len() > 0 && j.Msg != "after") {
			joined.WriteString(j.Msg)
			if !j.Partial {
				msgs = append(msgs, "<huge>")
			}
			continue
		}
		msgs = append(msgs, j.Msg)
	}
	if joined.String() != huge {
		t.Errorf("the pieces put together are %d bytes, want %d", joined.Len(), len(huge))
	}
	if strings.Join(msgs, ",") != "before,<huge>,after" {
		t.Errorf("lines %q", msgs)
	}
}

// openFDs lists the files this process has open.
func openFDs(t *testing.T) []string {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	var out []string
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil {
			out = append(out, target)
		}
	}
	return out
}

// TestReloadChangesLogFile: a run after the service's log_file changed writes to the new file;
// the old one is closed once the old run's lines are written; Forget closes the new one.
func TestReloadChangesLogFile(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	m := New(io.Discard, io.Discard, Options{Names: []string{"api"}})
	feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: a, MaxSize: 1 << 20, MaxFiles: 2}, 1, Stdout, "one\n")
	waitIdle(t, m)
	feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: b, MaxSize: 1 << 20, MaxFiles: 2}, 2, Stdout, "two\n")
	waitIdle(t, m)
	if data, _ := os.ReadFile(a); string(data) != "api | one\n" {
		t.Errorf("a: %q", data)
	}
	if data, _ := os.ReadFile(b); string(data) != "api | two\n" {
		t.Errorf("b: %q", data)
	}
	fds := strings.Join(openFDs(t), "\n")
	if strings.Contains(fds, a) || !strings.Contains(fds, b) {
		t.Errorf("open files: want b and not a:\n%s", fds)
	}
	if m.LogFile("api") != b {
		t.Errorf("LogFile = %q", m.LogFile("api"))
	}
	m.Forget("api")
	if fds := strings.Join(openFDs(t), "\n"); strings.Contains(fds, b) {
		t.Errorf("b still open after Forget")
	}
}

// TestDiskFillsMidRotation: a small tmpfs with gzip on: the disk fills while files rotate and
// compress; every line is in the files or on stdout, exactly once, in order within each; the
// service never waits.
func TestDiskFillsMidRotation(t *testing.T) {
	dir := smallTmpfs(t, "300k")
	path := filepath.Join(dir, "api.log")
	var out syncBuffer
	m, _ := newReporting(&out, io.Discard)
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 32 << 10, MaxFiles: 100, Compress: true}
	const total = 40000
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, total, 60))
	waitIdle(t, m)
	// The compressor ends once the file is closed: no file changes while it is read.
	m.mu.Lock()
	lf := m.services["api"].file
	m.mu.Unlock()
	m.Forget("api")
	<-lf.compressed
	seen := make([]int, total)
	count := func(lines []string, where string) {
		last := -1
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 4 || f[0] != "api" || f[1] != "|" || f[2] != "api" {
				t.Fatalf("%s: line %q", where, l)
			}
			seq, err := strconv.Atoi(f[3])
			if err != nil || seq <= last {
				t.Fatalf("%s: line %q after %d", where, l, last)
			}
			last = seq
			seen[seq]++
		}
	}
	var fileLines []string
	for k := 100; k >= 0; k-- {
		name := path
		if k > 0 {
			name = fmt.Sprintf("%s.%d", path, k)
		}
		for _, n := range []string{name, name + ".gz"} {
			if _, err := os.Stat(n); err == nil {
				fileLines = append(fileLines, readOneFile(t, n)...)
			}
		}
	}
	count(fileLines, "files")
	stdoutText := strings.TrimSuffix(out.String(), "\n")
	if stdoutText == "" {
		t.Fatalf("nothing on stdout: the disk did not fill (%d lines in files)", len(fileLines))
	}
	count(strings.Split(stdoutText, "\n"), "stdout")
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("line %d seen %d times (files %d lines)", i, n, len(fileLines))
		}
	}
}

// readOneFile returns the lines of one file, gunzipped if it ends in .gz.
func readOneFile(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r = zr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Errorf("%s does not end with a whole line", name)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestStoppedReaderDoesNotHoldTheFile: with a log_file and no log_tee, a reader of uno's stdout
// that stopped holds nothing: every line gets to the file.
func TestStoppedReaderDoesNotHoldTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	gate := &gateWriter{entered: make(chan struct{}), release: make(chan struct{})}
	defer close(gate.release)
	m := New(gate, gate, Options{Names: []string{"api"}})
	feedRun(t, m, "api", config.Output{Format: config.FormatPrefix, File: path, MaxFiles: 2}, 1, Stdout, numberedLines("api", 0, 100000, 40))
	waitIdle(t, m)
	lines, _ := readLogFiles(t, path)
	if n := checkSequence(t, lines, "api | ", "api", 0); n != 100000 {
		t.Errorf("%d lines in the file, want 100000", n)
	}
	select {
	case <-gate.entered:
		t.Errorf("something was written to the stopped stdout")
	default:
	}
}

// TestReloadKeepingFewerFiles: a reload lowering log_max_files removes the files beyond it.
func TestReloadKeepingFewerFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	m := New(io.Discard, io.Discard, Options{})
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 4 << 10, MaxFiles: 10}
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, 2000, 40))
	waitIdle(t, m)
	if _, err := os.Stat(path + ".10"); err != nil {
		t.Fatalf("want 10 rotated files: %v", err)
	}
	o.MaxFiles = 3
	feedRun(t, m, "api", o, 2, Stdout, "one more\n")
	waitIdle(t, m)
	if _, files := readLogFiles(t, path); files != 4 {
		t.Errorf("%d files after lowering log_max_files to 3, want 4", files)
	}
}

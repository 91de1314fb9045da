package logmux

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// numberedLines is n lines "name seq padding\n", about size bytes each.
func numberedLines(name string, from, n, size int) string {
	var b strings.Builder
	pad := strings.Repeat("p", max(size-len(name)-12, 0))
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%s %09d %s\n", name, i, pad)
	}
	return b.String()
}

// readLogFiles returns the lines of NAME and its rotated files (gunzipped), oldest first.
func readLogFiles(t *testing.T, path string) (lines []string, files int) {
	t.Helper()
	matches, _ := filepath.Glob(path + ".*")
	type rotated struct {
		k    int
		name string
	}
	var rs []rotated
	for _, m := range matches {
		rest := strings.TrimPrefix(m, path+".")
		rest = strings.TrimSuffix(rest, ".gz")
		k, err := strconv.Atoi(rest)
		if err != nil {
			t.Fatalf("unexpected file %s", m)
		}
		rs = append(rs, rotated{k, m})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].k > rs[j].k })
	names := []string{}
	for _, r := range rs {
		names = append(names, r.name)
	}
	names = append(names, path)
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: not valid gzip: %v", name, err)
			}
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", name)
		}
		files++
		if len(data) > 0 {
			lines = append(lines, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")...)
		}
	}
	return lines, files
}

// checkSequence checks that lines are "PREFIX name seq pad", each seq once, in order, from
// first, and returns how many.
func checkSequence(t *testing.T, lines []string, prefix, name string, first int) int {
	t.Helper()
	want := first
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, prefix+name+" ")
		if !ok || len(rest) < 9 {
			t.Fatalf("line %q is not one of %s's, or was cut", l, name)
		}
		seq, err := strconv.Atoi(rest[:9])
		if err != nil || seq != want {
			t.Fatalf("line %q: seq %d, want %d", l, seq, want)
		}
		want++
	}
	return want - first
}

// TestRotationUnderFlood: 100 MiB through a 1 MiB limit: every line is in exactly one file, in
// order, whole, every file at most 1 MiB, and the number of files is bounded by log_max_files.
func TestRotationUnderFlood(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api.log")
	m := New(io.Discard, io.Discard, Options{Names: []string{"api"}})
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 1 << 20, MaxFiles: 150}
	const lineSize, total = 100, 1_050_000 // 100 MiB
	run, err := m.Start("api", o)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(1)
	go func() {
		w := bufio.NewWriterSize(run.Stdout, 1<<16)
		for i := 0; i < total; i += 10000 {
			w.WriteString(numberedLines("api", i, 10000, lineSize))
		}
		w.Flush()
		run.Stdout.Close()
	}()
	run.Stderr.Close()
	waitIdle(t, m)
	lines, files := readLogFiles(t, path)
	if n := checkSequence(t, lines, "api | ", "api", 0); n != total {
		t.Errorf("%d lines in the files, want %d", n, total)
	}
	if files > o.MaxFiles+1 {
		t.Errorf("%d files, want at most %d", files, o.MaxFiles+1)
	}
	matches, _ := filepath.Glob(path + "*")
	for _, f := range matches {
		if st, _ := os.Stat(f); st.Size() > o.MaxSize {
			t.Errorf("%s is %d bytes, over the limit", f, st.Size())
		}
	}

	// Again with 3 files kept: only the last lines are there, still whole and in order.
	dir = t.TempDir()
	path = filepath.Join(dir, "api.log")
	o.File, o.MaxFiles, o.MaxSize = path, 3, 64<<10
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, 100000, lineSize))
	waitIdle(t, m)
	lines, files = readLogFiles(t, path)
	if files != 4 || len(lines) == 0 {
		t.Fatalf("%d files, %d lines; want 4 files", files, len(lines))
	}
	first, _ := strconv.Atoi(strings.Fields(lines[0])[3])
	if n := checkSequence(t, lines, "api | ", "api", first); first+n != 100000 {
		t.Errorf("the kept lines end at %d, want 100000", first+n)
	}
}

// TestRotatedFilesAreValidGzip: with log_compress, rotated files become valid .gz files in the
// background, holding the same lines.
func TestRotatedFilesAreValidGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	m := New(io.Discard, io.Discard, Options{})
	o := config.Output{Format: config.FormatJSON, File: path, MaxSize: 32 << 10, MaxFiles: 1000, Compress: true}
	const total = 20000
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, total, 60))
	waitIdle(t, m)
	pollUntil(t, "every rotated file compressed", func() bool {
		plain, _ := filepath.Glob(path + ".[0-9]")
		plain2, _ := filepath.Glob(path + ".[0-9]*[0-9]")
		tmp, _ := filepath.Glob(path + ".gz-tmp")
		return len(plain)+len(plain2)+len(tmp) == 0
	})
	gz, _ := filepath.Glob(path + ".*.gz")
	if len(gz) < 10 {
		t.Fatalf("%d .gz files, want more", len(gz))
	}
	lines, _ := readLogFiles(t, path)
	var msgs []string
	for _, l := range parseJSONLines(t, strings.Join(lines, "\n")+"\n") {
		msgs = append(msgs, l.Msg)
	}
	if n := checkSequence(t, msgs, "", "api", 0); n != total {
		t.Errorf("%d lines, want %d", n, total)
	}
}

// reports collects the Mux's log lines.
type reports struct {
	mu    sync.Mutex
	lines []string
}

func (r *reports) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, string(p))
	return len(p), nil
}

func (r *reports) count(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func newReporting(out, errOut io.Writer) (*Mux, *reports) {
	m := New(out, errOut, Options{Names: []string{"api"}})
	r := &reports{}
	m.SetLog(ulogtest.FromSlog(slog.NewTextHandler(r, nil)))
	return m, r
}

// TestFullDiskKeepsOutputFlowing: a log directory on a small tmpfs fills: the service is never
// blocked, every line is either in the file (whole) or on uno's stdout, exactly once, in
// order, and the error is reported once.
func TestFullDiskKeepsOutputFlowing(t *testing.T) {
	dir := smallTmpfs(t, "256k")
	path := filepath.Join(dir, "api.log")
	var out syncBuffer
	m, rep := newReporting(&out, io.Discard)
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 10 << 20, MaxFiles: 2}
	const total = 50000 // 5 MB, twenty times the disk
	feedRun(t, m, "api", o, 1, Stdout, numberedLines("api", 0, total, 100))
	waitIdle(t, m)
	fileLines, _ := readLogFiles(t, path)
	stdoutLines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(fileLines) == 0 || len(fileLines) == total {
		t.Fatalf("%d lines in the file: want the disk to have filled", len(fileLines))
	}
	// Each line once, in order on each side (a retry a second later may fit a short batch in
	// what the disk has left, so the file can have later lines too).
	seen := make([]int, total)
	for _, side := range [][]string{fileLines, stdoutLines} {
		last := -1
		for _, l := range side {
			var seq int
			if _, err := fmt.Sscanf(l, "api | api %d", &seq); err != nil || seq <= last || seq >= total {
				t.Fatalf("line %q after %d", l, last)
			}
			last = seq
			seen[seq]++
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("line %d seen %d times", i, c)
		}
	}
	if n := rep.count("cannot write log file"); n != 1 {
		t.Errorf("%d reports of the error, want 1 (at most once a minute): %q", n, rep.lines)
	}
}

// TestLogDirectoryRemoved: the directory goes away while the service writes: its lines go on
// to stdout, none lost, and the error is reported once.
func TestLogDirectoryRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "api.log")
	var out syncBuffer
	m, rep := newReporting(&out, io.Discard)
	o := config.Output{Format: config.FormatPrefix, File: path, MaxSize: 4 << 10, MaxFiles: 2}
	run, err := m.Start("api", o)
	if err != nil {
		t.Fatal(err)
	}
	run.Started(1)
	run.Stderr.Close()
	io.WriteString(run.Stdout, numberedLines("api", 0, 10, 50))
	pollUntil(t, "the first lines in the file", func() bool {
		st, err := os.Stat(path)
		return err == nil && st.Size() > 0
	})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// Enough to rotate: the rename fails, and the writes after it go to stdout.
	start := time.Now()
	io.WriteString(run.Stdout, numberedLines("api", 10, 1000, 50))
	pollUntil(t, "lines on stdout", func() bool { return strings.Contains(out.String(), fmt.Sprintf("api %09d", 1009)) })
	// Past the path check, a later write finds the directory gone and does not retry at once.
	for time.Since(start) < 2*checkEvery {
		time.Sleep(50 * time.Millisecond)
	}
	io.WriteString(run.Stdout, numberedLines("api", 1010, 10, 50))
	run.Stdout.Close()
	waitIdle(t, m)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	first, _ := strconv.Atoi(strings.Fields(got[0])[3])
	if n := checkSequence(t, got, "api | ", "api", first); first+n != 1020 {
		t.Errorf("stdout has lines %d to %d, want up to 1020", first, first+n)
	}
	if n := rep.count("log file"); n != 1 {
		t.Errorf("%d reports, want 1: %q", n, rep.lines)
	}
}

// smallTmpfs mounts a tmpfs of the given size in a temporary directory (root only).
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

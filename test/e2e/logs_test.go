package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// jq runs the real jq (Debian's) over input and returns its output lines: the log shipper of
// these tests (Debian packages neither fluent-bit nor vector).
func jq(t *testing.T, filter, input string) []string {
	t.Helper()
	path, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed (make test-deps installs it)")
	}
	cmd := exec.Command(path, "-r", filter)
	cmd.Stdin = strings.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("jq %s: %v: %s\ninput: %.2000s", filter, err, errOut.String(), input)
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

// TestJSONLogsReadByJq: three services' lines (text, JSON objects merged by json_passthrough,
// stderr) and uno's own, through uno as PID 1 and as subreaper, each parsed by jq as one JSON
// object with its service, stream and pid: every line is found, in order, once.
func TestJSONLogsReadByJq(t *testing.T) {
	needRoot(t)
	const n = 300
	both(t, func(t *testing.T, m mode) {
		var conf strings.Builder
		conf.WriteString("[uno]\nlog_format = \"json\"\njson_passthrough = true\n")
		for _, name := range []string{"api", "db", "worker"} {
			fmt.Fprintf(&conf, `
[services.%s]
essential = false
command = ["sh", "-c", 'i=0; while [ $$i -lt %d ]; do echo "%s text $$i"; echo "{\"n\":$$i,\"level\":\"info\"}"; i=$$((i+1)); done; echo "%s to stderr" >&2']
`, name, n, name, name)
		}
		cfgPath, _ := servicesSetup(t, conf.String())
		p := startUno(t, startOpts{mode: m}, "-c", cfgPath, "--no-socket", "-v")
		p.expectExit(0)
		stdout := strings.Join(p.rest(), "\n") + "\n"

		got := map[string][]string{}
		pids := map[string]map[string]bool{}
		for _, l := range jq(t, `[.service, .stream, (.pid|tostring), (if .msg then .msg else "n=\(.n) \(.level)" end)] | @tsv`, stdout) {
			f := strings.Split(l, "\t")
			if len(f) != 4 || f[1] != "stdout" {
				t.Fatalf("jq line %q", l)
			}
			got[f[0]] = append(got[f[0]], f[3])
			if pids[f[0]] == nil {
				pids[f[0]] = map[string]bool{}
			}
			pids[f[0]][f[2]] = true
		}
		for _, name := range []string{"api", "db", "worker"} {
			var want []string
			for i := range n {
				want = append(want, fmt.Sprintf("%s text %d", name, i), fmt.Sprintf("n=%d info", i))
			}
			if strings.Join(got[name], "|") != strings.Join(want, "|") {
				t.Errorf("%s: %d lines through jq, want %d in order: %q", name, len(got[name]), len(want), got[name])
			}
			if len(pids[name]) != 1 || pids[name]["null"] || pids[name]["0"] {
				t.Errorf("%s: pids %v, want its one pid", name, pids[name])
			}
		}

		// stderr: the services' stderr lines and uno's own, one format, one object per line.
		stderrLines := jq(t, `[(."uno.service" // .service), .stream, (.msg // "")] | @tsv`, p.stderr.String())
		var fromServices, fromUno int
		for _, l := range stderrLines {
			f := strings.Split(l, "\t")
			if len(f) != 3 || f[1] != "stderr" {
				t.Fatalf("stderr jq line %q", l)
			}
			switch {
			case f[0] == "uno":
				fromUno++
			case strings.HasSuffix(f[2], " to stderr") && strings.HasPrefix(f[2], f[0]):
				fromServices++
			default:
				t.Errorf("stderr line %q", l)
			}
		}
		if fromServices != 3 || fromUno == 0 {
			t.Errorf("stderr: %d service lines, %d of uno's: %s", fromServices, fromUno, p.stderr.String())
		}
		// uno's event about a service names it in "service", as it did before the formats.
		started := jq(t, `select(.msg == "service started") | "\(.service) \(."uno.service") \(.pid > 0)"`, p.stderr.String())
		sort.Strings(started)
		if strings.Join(started, ",") != "api uno true,db uno true,worker uno true" {
			t.Errorf("starts: %q", started)
		}
	})
}

// TestLogFileRotationThroughUno: a service's log_file with a small size limit and gzip, through
// the real binary: no line on uno's stdout (no log_tee), every line once, in order, in the files;
// `uno ctl logs --files` shows the file's last lines; after an external logrotate moved the
// file, `uno ctl logs --reopen` starts a new one at the path.
func TestLogFileRotationThroughUno(t *testing.T) {
	needRoot(t)
	logDir := t.TempDir()
	logFile := filepath.Join(logDir, "flood.log")
	const n = 20000
	p, marks, socket, _ := startControlled(t, fmt.Sprintf(`
[services.flood]
command = ["sh", "-c", 'i=0; while [ $$i -lt %d ]; do echo "line $$i"; i=$$((i+1)); done; echo flooded >> "$$MARKS"; exec sleep 1000']
log_file = %q
log_max_size = "16KiB"
log_max_files = 100
log_compress = true
log_timestamps = true

[services.other]
command = ["sh", "-c", 'echo other line; exec sleep 1000']
`, n, logFile))
	p.expect(`^other +\| other line$`)
	waitMark(t, marks, "flooded")
	poll(t, "the last line in the file", func() bool {
		data, _ := os.ReadFile(logFile)
		return bytes.Contains(data, []byte(fmt.Sprintf("| line %d\n", n-1)))
	})
	poll(t, "every rotated file compressed", func() bool {
		plain, _ := filepath.Glob(logFile + ".[0-9]*[0-9]")
		tmp, _ := filepath.Glob(logFile + ".gz-tmp")
		return len(plain)+len(tmp) == 0
	})
	lines := readRotated(t, logFile)
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z flood \| line (\d+)$`)
	for i, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil || m[1] != strconv.Itoa(i) {
			t.Fatalf("line %d of the files: %q", i, l)
		}
	}
	if len(lines) != n {
		t.Errorf("%d lines in the files, want %d", len(lines), n)
	}

	r := runCtl(t, socket, "logs", "--files", "-n", "2", "flood")
	if r.code != 0 || !strings.HasSuffix(r.stdout, fmt.Sprintf("flood | line %d\n", n-1)) || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("logs --files: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCtl(t, socket, "logs", "--files", "other"); r.code == 0 || !strings.Contains(r.stderr, "other has no log_file") {
		t.Errorf("logs --files of a service without one: %d %q", r.code, r.stderr)
	}

	// An external logrotate: move, reopen, and the next lines go to a new file at the path.
	if err := os.Rename(logFile, logFile+".moved"); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "logs", "--reopen"); r.code != 0 || r.stdout != "reopened 1 log files\n" {
		t.Errorf("logs --reopen: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(logFile); err != nil {
		t.Errorf("no new file after --reopen: %v", err)
	}
	for _, l := range p.seen {
		if strings.Contains(l, "flood") {
			t.Errorf("a line of flood on uno's stdout without log_tee: %q", l)
			break
		}
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// readRotated returns the lines of path's rotated files (gunzipped), oldest first, then path's.
func readRotated(t *testing.T, path string) []string {
	t.Helper()
	var all []string
	for k := 1000; k >= 0; k-- {
		name := path
		if k > 0 {
			name = fmt.Sprintf("%s.%d.gz", path, k)
		}
		data, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if k > 0 {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if len(data) > 0 {
			all = append(all, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")...)
		}
	}
	return all
}

// TestFullLogDiskThroughUno: the service's log directory is a small tmpfs that fills: the service
// runs to its end, the lines that did not fit come out on uno's stdout (none lost, none twice),
// and uno reports the error once.
func TestFullLogDiskThroughUno(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	const n = 20000
	cfgPath, _ := servicesSetup(t, fmt.Sprintf(`
[services.flood]
essential = false
command = ["sh", "-c", 'i=0; while [ $$i -lt %d ]; do echo "line $$i"; i=$$((i+1)); done']
log_file = %q
`, n, filepath.Join(dir, "flood.log")))
	p := startUno(t, startOpts{mode: asPID1}, "-c", cfgPath, "--no-socket")
	p.expectExit(0)
	onStdout := p.rest()
	data, err := os.ReadFile(filepath.Join(dir, "flood.log"))
	if err != nil {
		t.Fatal(err)
	}
	inFile := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(inFile) == 0 || len(onStdout) == 0 {
		t.Fatalf("%d lines in the file, %d on stdout: want both", len(inFile), len(onStdout))
	}
	// Each line once, in order on each side; a retry a second later may put later lines in
	// the file again if a short batch fits in what the disk has left.
	seen := make([]int, n)
	for _, side := range [][]string{inFile, onStdout} {
		last := -1
		for _, l := range side {
			var i int
			if _, err := fmt.Sscanf(l, "flood | line %d", &i); err != nil || i <= last || i >= n {
				t.Fatalf("line %q after %d (file %d lines, stdout %d)", l, last, len(inFile), len(onStdout))
			}
			last = i
			seen[i]++
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("line %d seen %d times", i, c)
		}
	}
	if c := strings.Count(p.stderr.String(), "cannot write log file"); c != 1 {
		t.Errorf("the error reported %d times, want once:\n%s", c, p.stderr.String())
	}
}

// TestReloadChangesLogFileThroughUno: a reload that changes a service's log_file restarts it, and
// its new run writes to the new file; the old file keeps the old run's lines.
func TestReloadChangesLogFileThroughUno(t *testing.T) {
	needRoot(t)
	logDir := t.TempDir()
	conf := func(file string) string {
		return fmt.Sprintf(`
[services.api]
command = ["sh", "-c", 'echo "run $$$$"; echo started >> "$$MARKS"; exec sleep 1000']
log_file = %q
`, filepath.Join(logDir, file))
	}
	p, marks, socket, cfgPath := startControlled(t, conf("a.log"))
	waitMark(t, marks, "started")
	if err := os.WriteFile(cfgPath, []byte(conf("b.log")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "reload"); r.code != 0 {
		t.Fatalf("reload: %d %q %q", r.code, r.stdout, r.stderr)
	}
	poll(t, "the new run's line in b.log", func() bool {
		data, _ := os.ReadFile(filepath.Join(logDir, "b.log"))
		return bytes.HasPrefix(data, []byte("api | run "))
	})
	a, _ := os.ReadFile(filepath.Join(logDir, "a.log"))
	b, _ := os.ReadFile(filepath.Join(logDir, "b.log"))
	if !bytes.HasPrefix(a, []byte("api | run ")) || bytes.Count(a, []byte("\n")) != 1 || bytes.Count(b, []byte("\n")) != 1 || bytes.Equal(a, b) {
		t.Errorf("a.log %q, b.log %q: want one run's line each, different pids", a, b)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

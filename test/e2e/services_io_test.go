package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// TestServicesLogFlood sends 1,000,000 lines from four services at once through uno and checks
// that every one arrives whole, prefixed, in order per service, with nothing lost, and a 3 MB
// line in marked pieces that make it up.
func TestServicesLogFlood(t *testing.T) {
	needRoot(t)
	const services, perService = 4, 250_000
	var conf strings.Builder
	for i := range services {
		fmt.Fprintf(&conf, "[services.flood%d]\ncommand = [\"@TESTPROG@\", \"flood\", \"%d\", \"f%d\"]\nessential = false\n\n", i, perService, i)
	}
	conf.WriteString(`
[services.partial]
command = ["printf", "tail-without-newline"]
essential = false

[services.long]
command = ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' y; echo"]
essential = false

[services.raw]
command = ["sh", "-c", "echo raw-line-untouched"]
log_prefix = false
essential = false
`)
	start := time.Now()
	p, _ := startServices(t, startOpts{mode: asPID1}, conf.String())
	line := regexp.MustCompile(`^(flood\d) +\| (f\d) (\d+) (x*)$`)
	partialLine := regexp.MustCompile(`^partial +\| tail-without-newline$`)
	next := map[string]int{}
	var partial, raw, long bool
	var longBody strings.Builder
	longPieces := 0
	total := 0
	for _, l := range p.rest() {
		switch {
		case l == "raw-line-untouched":
			raw = true
			continue
		case partialLine.MatchString(l):
			partial = true
			continue
		case strings.HasPrefix(l, "long "):
			// Cut into pieces of 64 KiB, each marked " + " but the last.
			if _, piece, ok := strings.Cut(l, " + "); ok {
				longBody.WriteString(piece)
				longPieces++
				continue
			}
			_, piece, ok := strings.Cut(l, " | ")
			longBody.WriteString(piece)
			body := longBody.String()
			if !ok || len(body) != 3_000_000 || strings.Trim(body, "y") != "" || longPieces != 3_000_000/(64<<10) {
				t.Errorf("the 3 MB line's %d pieces do not make it up: %d bytes, starting %q", longPieces+1, len(body), body[:min(len(body), 40)])
			}
			long = true
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("malformed line %q", l)
		}
		seq, _ := strconv.Atoi(m[3])
		if m[1][len("flood"):] != m[2][1:] || seq != next[m[1]] || len(m[4]) != seq%200 {
			t.Fatalf("line %q out of place: want sequence %d of %s", l, next[m[1]], m[1])
		}
		next[m[1]]++
		total++
	}
	p.expectExit(0)
	elapsed := time.Since(start)
	if total != services*perService {
		t.Errorf("got %d lines, want %d: per service %v", total, services*perService, next)
	}
	if !partial || !raw || !long {
		t.Errorf("partial last line flushed: %v; unprefixed line passed: %v; long line seen: %v", partial, raw, long)
	}
	// stderr carries every 100th line of each as "fN SEQ err", prefixed, among uno's own lines.
	errLines := regexp.MustCompile(`(?m)^flood\d +\| f\d \d+ err$`).FindAllString(p.stderr.String(), -1)
	if want := services * perService / 100; len(errLines) != want {
		t.Errorf("got %d stderr lines, want %d", len(errLines), want)
	}
	t.Logf("%d lines through uno in %v (%.0f lines/s, with the test reading them)", total, elapsed, float64(total)/elapsed.Seconds())
}

// TestServicesBackpressure stops reading uno's stdout while services write as fast as they can:
// the services block on their pipes, and uno still stops on SIGTERM.
func TestServicesBackpressure(t *testing.T) {
	needRoot(t)
	cfgPath, _ := servicesSetup(t, `
[uno]
grace = "2s"

[services.flood]
command = ["@TESTPROG@", "flood", "100000000", "f"]

[services.flood2]
command = ["@TESTPROG@", "flood", "100000000", "g"]
`)
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testbin.Uno(t), "-c", cfgPath)
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	var stderr testkit.Buffer
	stderrDone := make(chan struct{})
	go func() {
		// Only every 100th line goes to stderr: read it, so that stdout is what blocks.
		_, _ = bufio.NewReader(errR).WriteTo(&stderr)
		close(stderrDone)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Nobody reads stdout: wait until the pipe is full.
	poll(t, "uno's stdout pipe to fill", func() bool {
		n, err := unix.IoctlGetInt(int(outR.Fd()), unix.TIOCINQ)
		return err == nil && n >= 64<<10
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(deadline):
		t.Fatalf("uno did not stop while its stdout was blocked\nstderr: %s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0\nstderr: %s", code, stderr.String())
	}
}

func TestServicesConfigErrors(t *testing.T) {
	needRoot(t)
	cases := []struct{ name, conf, want string }{
		{"unknown dependency", `
[services.ok]
command = ["sh", "-c", 'echo started >> "$MARKS"']

[services.api]
command = ["sh", "-c", 'echo started >> "$MARKS"']
depends_on = { apii = "ready" }
`, `uno.toml:7: services.api.depends_on: unknown service "apii"`},
		{"unknown key", `
[services.ok]
command = ["true"]
restart_policy = "always"
`, `uno.toml:4: services.ok.restart_policy: unknown key`},
		{"cycle", `
[services.a]
command = ["true"]
depends_on = ["b"]

[services.b]
command = ["true"]
depends_on = ["a"]
`, `uno.toml:4: services.a.depends_on: dependency cycle: a -> b -> a`},
		{"no such user", `
[services.a]
command = ["true"]
user = "no-such-user-here"
`, `uno.toml:4: services.a.user: no such user "no-such-user-here" in /etc/passwd`},
		{"bad duration", `
[uno]
grace = "ten seconds"
[services.a]
command = ["true"]
`, `uno.toml:3: uno.grace: want a duration such as "10s" or "250ms", got "ten seconds"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfgPath, marks := servicesSetup(t, c.conf)
			cmd := exec.Command(testbin.Uno(t), "-c", "uno.toml")
			cmd.Dir = filepath.Dir(cfgPath)
			cmd.Env = append(os.Environ(), "MARKS="+marks)
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 2 {
				t.Fatalf("exit status %d (%v), want 2\n%s", code, err, out)
			}
			if !strings.HasPrefix(string(out), "uno: "+c.want) {
				t.Errorf("got:\n%s\nwant a line starting with:\nuno: %s", out, c.want)
			}
			if _, err := os.Stat(marks); err == nil {
				t.Errorf("a service started despite the bad configuration")
			}
			// uno check reports the same, with status 1.
			check := exec.Command(testbin.Uno(t), "check", "-c", "uno.toml")
			check.Dir = filepath.Dir(cfgPath)
			out, _ = check.CombinedOutput()
			if code := check.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), c.want) {
				t.Errorf("uno check: status %d, output:\n%s", code, out)
			}
		})
	}
}

func TestServicesCheckPrintsOrder(t *testing.T) {
	// Commands that exist here: uno check also looks each one up (TestServicesCheckFindsCommands).
	cfgPath, _ := servicesSetup(t, `
[services.web]
command = "sh -c 'exec sleep 1000'"
depends_on = { api = "ready" }

[services.api]
command = ["sleep", "1000"]
depends_on = ["migrate"]
ready = { tcp = "127.0.0.1:8080" }
restart = "on-failure"

[services.migrate]
type = "oneshot"
command = ["true"]
`)
	out, err := exec.Command(testbin.Uno(t), "check", "-c", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := regexp.MustCompile(`(?s)3 services, in start order:\n +1\. +migrate +oneshot\n +2\. +api +after migrate completed; ready: tcp 127\.0\.0\.1:8080; restart on-failure\n +3\. +web +after api ready\n$`)
	if !want.Match(out) {
		t.Errorf("got:\n%s", out)
	}
}

func TestServicesProcfile(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	marks := filepath.Join(dir, "marks")
	procfile := filepath.Join(dir, "Procfile")
	if err := os.WriteFile(procfile, []byte(`# foreman semantics: any exit stops all
web: trap 'echo web-stopped >> "$MARKS"; exit 0' TERM; echo "web up on $PORT"; touch "$MARKS.web"; while :; do sleep 0.05; done
worker: while [ ! -e "$MARKS.web" ]; do sleep 0.02; done; echo worker done; exit 4
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// foreman reads .env beside the Procfile.
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("PORT=5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startUno(t, startOpts{mode: asPID1, env: []string{"MARKS=" + marks}}, "-f", procfile)
	p.expectAll(`^web +\| web up on 5000$`, `^worker +\| worker done$`)
	p.expectExit(4)
	if got := readMarks(t, marks); !slices.Contains(got, "web-stopped") {
		t.Errorf("web not stopped when worker exited: %q\nstderr: %s", got, p.stderr.String())
	}
}

func TestServicesDirectoryAndJSONLog(t *testing.T) {
	needRoot(t)
	cfgPath, marks := servicesSetup(t, `
[uno]
log_format = "json"

[services.base]
command = ["sh", "-c", 'echo base >> "$MARKS"; exec sleep 1000']
`)
	dropIn := filepath.Join(filepath.Dir(cfgPath), "services.d")
	if err := os.Mkdir(dropIn, 0o755); err != nil {
		t.Fatal(err)
	}
	// One service per file, named by the file: what an image layer adds.
	if err := os.WriteFile(filepath.Join(dropIn, "extra.toml"), []byte(`
command = ["sh", "-c", 'echo extra >> "$MARKS"; exec sleep 1000']
depends_on = ["base"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropIn, "README"), []byte("not a service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startUno(t, startOpts{mode: asPID1, env: []string{"MARKS=" + marks}}, "-c", cfgPath)
	waitMark(t, marks, "extra")
	waitMark(t, marks, "base")
	p.signal(syscall.SIGTERM)
	p.expectExit(0)

	started := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		var rec struct {
			Level, Msg, Service string
			Pid                 int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %q (%v)", line, err)
		}
		if rec.Msg == "service started" && rec.Pid > 0 {
			started[rec.Service] = true
		}
	}
	if !started["base"] || !started["extra"] {
		t.Errorf("JSON log lacks the starts: %v\n%s", started, p.stderr.String())
	}
}

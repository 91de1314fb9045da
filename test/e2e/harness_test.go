// Package e2e tests the uno binary from the outside, as it runs in containers: as PID 1 of a
// fresh PID namespace and as a child subreaper, with test/testprog (and real programs such as
// sh and bash) as the program, through a real pseudo-terminal where a terminal matters.
//
// Most tests need root (CLONE_NEWPID); they skip with a message when not root, and CI runs as
// root. No test sleeps and hopes: each waits for a line, a file or an exit, with a deadline.
package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// deadline bounds every wait for a fixed amount of work: generous, because these machines have
// 2 noisy cores.
const deadline = 20 * time.Second

// stall bounds a wait for work whose length scales with the machine (thousands of forks, millions
// of lines): such a wait fails only when the work stops moving for that long
// (testkit.AwaitProgress), never because the machine is slow.
const stall = 20 * time.Second

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs uno as PID 1 of a new PID namespace (CLONE_NEWPID)")
	}
}

// mode is where uno runs.
type mode int

const (
	asPID1      mode = iota // PID 1 of a new PID namespace, as in a container
	asSubreaper             // an ordinary child of the test, so uno registers as subreaper
)

func (m mode) String() string { return [...]string{"pid1", "subreaper"}[m] }

// both runs f once with uno as PID 1 and once as subreaper.
func both(t *testing.T, f func(t *testing.T, m mode)) {
	for _, m := range []mode{asPID1, asSubreaper} {
		t.Run(m.String(), func(t *testing.T) {
			if m == asPID1 {
				needRoot(t)
			}
			f(t, m)
		})
	}
}

// proc is a running uno (or anything else) whose stdout lines and stderr the test reads.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	seen   []string // stdout lines read so far, for failure messages
	stderr testkit.Buffer
	exited chan struct{}
	// stderrDone is closed when every writer of stderr (uno and anything it left) has gone.
	stderrDone chan struct{}
}

type startOpts struct {
	mode mode
	env  []string // added to the test's environment
	// argv0 overrides the name uno is invoked under (a personality), as a symlink would.
	argv0 string
	stdin *os.File
}

// startUno runs uno with args in the given mode.
func startUno(t *testing.T, o startOpts, args ...string) *proc {
	t.Helper()
	uno := testbin.Uno(t)
	cmd := exec.Command(uno, args...)
	if o.argv0 != "" {
		cmd.Args[0] = o.argv0
	}
	cmd.Env = append(os.Environ(), o.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if o.mode == asPID1 {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID
	}
	if o.stdin != nil {
		cmd.Stdin = o.stdin
	}
	return startCmd(t, cmd)
}

func startCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 100000), exited: make(chan struct{}), stderrDone: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// Both outputs are pipes of our own, not io.Writers: exec.Cmd.Wait would wait for every
	// holder of a copied pipe, leftovers included, to close it.
	er, ew, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	cmd.Stderr = ew
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	w.Close()
	ew.Close()
	go func() {
		_, _ = io.Copy(&p.stderr, er)
		er.Close()
		close(p.stderrDone)
	}()
	go func() {
		defer close(p.lines)
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 64<<10), 16<<20) // services may print lines of megabytes
		for s.Scan() {
			p.lines <- s.Text()
		}
		r.Close()
	}()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// expect waits for a stdout line matching pattern and returns its submatches.
func (p *proc) expect(pattern string) []string {
	p.t.Helper()
	re := regexp.MustCompile(pattern)
	timeout := time.After(deadline)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("stdout closed while waiting for %q\nstdout: %q\nstderr: %s", pattern, p.seen, p.stderr.String())
			}
			p.seen = append(p.seen, line)
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			p.t.Fatalf("no line matching %q within %v\nstdout: %q\nstderr: %s", pattern, deadline, p.seen, p.stderr.String())
		}
	}
}

// rest returns every stdout line not yet read, once stdout is closed (all writers gone). The
// wait fails only when no line comes for the stall bound: a flood of lines takes as long as the
// machine needs.
func (p *proc) rest() []string {
	p.t.Helper()
	var out []string
	err := testkit.WaitProgress(stall, func() (int, bool) {
		for {
			select {
			case line, ok := <-p.lines:
				if !ok {
					return len(out), true
				}
				p.seen = append(p.seen, line)
				out = append(out, line)
			default:
				return len(out), false
			}
		}
	})
	if err != nil {
		p.t.Fatalf("stdout still open: %v\nstdout: %q\nstderr: %s", err, p.seen, p.stderr.String())
	}
	return out
}

// tryExpect returns the submatches of the first stdout line matching pattern among those already
// read, or nil without waiting: it lets an AwaitProgress poll watch for a line.
func (p *proc) tryExpect(re *regexp.Regexp) []string {
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("stdout closed while waiting for %q\nstdout: %q\nstderr: %s", re, p.seen, p.stderr.String())
			}
			p.seen = append(p.seen, line)
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		default:
			return nil
		}
	}
}

// signal sends sig to uno. It does not wait for anything first: uno catches every signal before
// it starts a program, so once a test has seen the program (a line, a mark) no signal may be
// lost (docs/compatibility.md, "Signals at start-up").
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for uno to exit and returns its exit status (128+n if a signal killed it).
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(deadline):
		p.t.Fatalf("%v still running after %v\nstdout: %q\nstderr: %s", p.cmd.Args, deadline, p.seen, p.stderr.String())
	}
	// uno's own last lines are in the pipe by now; wait for them unless a leftover that
	// outlived uno (--grace 0) keeps stderr open.
	select {
	case <-p.stderrDone:
	case <-time.After(time.Second):
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// expectExit waits for uno to exit with want.
func (p *proc) expectExit(want int) {
	p.t.Helper()
	if got := p.wait(); got != want {
		p.t.Fatalf("exit status %d, want %d\nstdout: %q\nstderr: %s", got, want, p.seen, p.stderr.String())
	}
}

// poll waits until cond holds, checking every 10ms up to the deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", deadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	state := procState(pid)
	return state != "" && state != "Z"
}

// zombieChildren counts the zombies whose parent is pid.
func zombieChildren(pid int) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[0] == "Z" && fields[1] == fmt.Sprint(pid) {
			n++
		}
	}
	return n
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func lookPath(name string) (string, error) { return exec.LookPath(name) }

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// parseSigset reads a signal set as /proc/PID/status shows it (hex, bit n-1 for signal n).
func parseSigset(t *testing.T, hex string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		t.Fatalf("signal set %q: %v", hex, err)
	}
	return v
}

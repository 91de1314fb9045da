package e2e

import (
	"bufio"
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

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// cpuHogs keeps both cores busy for the rest of the test, as a loaded node would: it widens
// every window between two steps of uno's start-up from microseconds to milliseconds.
func cpuHogs(t *testing.T) {
	t.Helper()
	for i := 0; i < 2; i++ {
		hog := exec.Command("sh", "-c", "while :; do :; done")
		if err := hog.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
	}
}

// firstChild polls until pid has a child and returns it. The wait is bounded by the deadline:
// it bounds a hang, not a speed.
func firstChild(t *testing.T, pid int) int {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if kids := children(pid); len(kids) > 0 {
			return kids[0]
		}
		time.Sleep(50 * time.Microsecond)
	}
	t.Fatalf("uno (%d) started no program within %v", pid, deadline)
	return 0
}

// TestSignalAsSoonAsTheProgramExists: a signal sent to uno the moment its program exists reaches
// the program, and none kills uno, under load. The program is `sleep`, which handles nothing, so
// it shows each signal by dying of it from its first instruction on, with no start-up window of
// its own. Until issue 12 most signals were registered only after the program started: with two
// CPU hogs, about half were lost (USR1, HUP...) or killed uno (a kill()ed SEGV crashes a Go
// program that did not ask for it).
func TestSignalAsSoonAsTheProgramExists(t *testing.T) {
	cpuHogs(t)
	sigs := []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGUSR2, syscall.SIGALRM,
		syscall.SIGSEGV, syscall.SIGILL, syscall.SIGVTALRM, syscall.SIGPWR, syscall.SIGIO, syscall.Signal(40)}
	for round := 0; round < 3; round++ {
		for _, sig := range sigs {
			uno := exec.Command(testbin.Uno(t), "-s", "--", "sleep", "1000")
			uno.Args[0] = "tini"
			uno.SysProcAttr = &syscall.SysProcAttr{}
			if err := uno.Start(); err != nil {
				t.Fatal(err)
			}
			firstChild(t, uno.Process.Pid)
			if err := uno.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { _ = uno.Wait(); close(exited) }()
			select {
			case <-exited:
			case <-time.After(deadline):
				_ = uno.Process.Kill()
				<-exited
				t.Fatalf("round %d: %v sent as the program started was lost: uno and sleep still ran %v later", round, sig, deadline)
			}
			ws := uno.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() || ws.ExitStatus() != 128+int(sig) {
				t.Fatalf("round %d: %v: uno ended with %v, want exit status %d (the program killed by it)", round, sig, ws, 128+int(sig))
			}
		}
	}
}

// TestDumbInitOnTerminalSurvivesHandOver: dumb-init as the session leader on a terminal (`docker
// run -it` with a dumb-init entrypoint) gives the terminal up to its program's session. The
// kernel answers with a SIGHUP, which must be caught by then: it killed uno before the program
// ever ran.
func TestDumbInitOnTerminalSurvivesHandOver(t *testing.T) {
	for i := 0; i < 3; i++ {
		s := startOnTerminalAs(t, "dumb-init", "--", "sh", "-c", "echo st''arted; tty; exit 3")
		s.expect("started")
		s.expectExit(3)
	}
}

// startOnTerminalAs is startOnTerminal with uno invoked under the name argv0.
func startOnTerminalAs(t *testing.T, argv0 string, args ...string) *terminalSession {
	t.Helper()
	dir := t.TempDir()
	link := filepath.Join(dir, argv0)
	if err := os.Symlink(testbin.Uno(t), link); err != nil {
		t.Fatal(err)
	}
	return startOnTerminalBinary(t, link, args...)
}

// TestInitLeavesItsDirectory: once the program runs, uno's working directory is / (it never keeps
// a mount busy, as dumb-init does), in every mode, while the program and each service start where
// uno was started (or in their working_dir).
func TestInitLeavesItsDirectory(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, `
[services.here]
command = "sleep 1000"
[services.other]
command = "sleep 1000"
working_dir = "/tmp"
`)
	cases := []struct {
		name  string
		argv0 string
		args  []string
		dirs  []string // the programs' directories, sorted
	}{
		{"uno", "uno", []string{"--", "sleep", "1000"}, []string{dir}},
		{"tini", "tini", []string{"-s", "--", "sleep", "1000"}, []string{dir}},
		{"dumb-init", "dumb-init", []string{"sleep", "1000"}, []string{dir}},
		{"catatonit", "catatonit", []string{"--", "sleep", "1000"}, []string{dir}},
		// here has no working_dir: where uno started; other's is /tmp.
		{"services", "uno", []string{"-c", "uno.toml", "--no-socket"}, sorted([]string{dir, "/tmp"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(testbin.Uno(t), c.args...)
			cmd.Args[0] = c.argv0
			cmd.Dir = dir
			cmd.SysProcAttr = &syscall.SysProcAttr{}
			p := startCmd(t, cmd)
			pid := p.cmd.Process.Pid
			var cwd string
			var dirs []string
			// A child seen between its fork and its exec may not be in its own directory yet: the
			// wait is for the final picture, and the deadline reports what it last saw.
			end := time.Now().Add(deadline)
			for {
				cwd, _ = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
				dirs = sorted(childDirs(pid))
				if cwd == "/" && strings.Join(dirs, " ") == strings.Join(c.dirs, " ") {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("after %v uno is in %q and its programs run in %v; want / and %v", deadline, cwd, dirs, c.dirs)
				}
				time.Sleep(10 * time.Millisecond)
			}
			p.signal(syscall.SIGTERM)
			p.wait()
		})
	}
}

// children lists pid's children: each thread of pid lists those it forked.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []int
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// childDirs lists the working directories of pid's children.
func childDirs(pid int) []string {
	var dirs []string
	for _, kid := range children(pid) {
		if d, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", kid)); err == nil {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reserved are signals 32-34, which glibc and the Go runtime keep for themselves: uno never
// touches them, so a test compares sets without them (some CI shells start the tests with 32
// ignored, and every program inherits that).
const reserved = uint64(7) << 31

// withoutReserved rewrites every "ignored=HEX" and "blocked=HEX" in line without signals 32-34.
func withoutReserved(line string) string {
	return regexp.MustCompile(`(ignored|blocked)=([0-9a-f]{16})`).ReplaceAllStringFunc(line, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		n, _ := strconv.ParseUint(v, 16, 64)
		return fmt.Sprintf("%s=%016x", k, n&^reserved)
	})
}

// sigset is the /proc/PID/status hex form of a set of signals.
func sigset(sigs ...syscall.Signal) string {
	var m uint64
	for _, s := range sigs {
		m |= 1 << (s - 1)
	}
	return fmt.Sprintf("%016x", m)
}

// TestProgramGetsCallersDispositions: the program, and each service, starts with the caller's
// signal mask and ignored signals, as under tini, except where the Go runtime makes that
// impossible (docs/compatibility.md pins the list; so does this test).
//   - HUP, INT, CONT, TSTP, TTIN and TTOU ignored by the caller stay ignored, in both modes
//     (services mode dropped the HUP and INT ignore; uno's own TTIN/TTOU ignore leaked).
//   - USR2 blocked by the caller stays blocked.
//   - Impossible: ILL blocked by the caller is unblocked (the runtime unblocks it in every
//     thread before uno runs); USR1 ignored by the caller is default (the runtime installs its
//     handler before uno can see the ignore).
func TestProgramGetsCallersDispositions(t *testing.T) {
	kept := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU}
	ignore := sigset(append(kept, syscall.SIGUSR1)...)
	block := sigset(syscall.SIGUSR2, syscall.SIGILL)
	wantIgnored, wantBlocked := sigset(kept...), sigset(syscall.SIGUSR2)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, fmt.Sprintf("[services.side]\ncommand = %q\nessential = false\n", testbin.TestProg(t)+" status"))
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"program", []string{"--", testbin.TestProg(t), "status"}},
		{"services", []string{"-c", cfg, "--no-socket", "--", testbin.TestProg(t), "status"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			args := append([]string{"launch", "-ignore", ignore, "-block", block, "--", testbin.Uno(t), "uno"}, mode.args...)
			cmd := exec.Command(testbin.TestProg(t), args...)
			p := startCmd(t, cmd)
			want := fmt.Sprintf("status blocked=%s ignored=%s ", wantBlocked, wantIgnored)
			lines := 1
			if mode.name == "services" {
				lines = 2 // side's and main's
			}
			for i := 0; i < lines; i++ {
				line := withoutReserved(p.expect(`status blocked=.*`)[0])
				if !strings.Contains(line, want) {
					t.Errorf("a program started with %q, want %q", line, want)
				}
			}
			p.expectExit(0)
		})
	}
}

// TestProgramOnTerminalGetsDefaultStops: on a terminal uno discards SIGTTIN and SIGTTOU for
// itself, but the program starts with their default action, as under tini.
func TestProgramOnTerminalGetsDefaultStops(t *testing.T) {
	s := startOnTerminal(t, "--", testbin.TestProg(t), "status")
	s.expect("fg=")
	s.expectExit(0)
	if !strings.Contains(withoutReserved(s.out.String()), "ignored="+sigset()+" ") {
		t.Fatalf("the program ignores signals it did not inherit:\n%s", s.out.String())
	}
}

// closedPipe is the write end of a pipe whose reader is gone.
func closedPipe(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() { w.Close() })
	return w
}

// TestOwnLogNeverKillsTheProgram: uno writing its own log (or the services' output) to a stderr
// or stdout whose reader is gone gets EPIPE, not a SIGPIPE it would pass on: the program, which
// never touched that pipe, ends as it would have. It was killed by SIGPIPE (exit 141).
func TestOwnLogNeverKillsTheProgram(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, "[services.chatty]\ncommand = \"sh -c 'while :; do echo line; sleep 0.05; done'\"\nessential = false\n")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"program", []string{"-v", "--", "sh", "-c", "sleep 2; exit 4"}},
		{"tini", []string{"-vvv", "-s", "--", "sh", "-c", "sleep 2; exit 4"}},
		{"services", []string{"-v", "-c", cfg, "--no-socket", "--", "sh", "-c", "sleep 2; exit 4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(testbin.Uno(t), c.args...)
			if c.name == "tini" {
				cmd.Args[0] = "tini"
			}
			out := closedPipe(t)
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Run(); cmd.ProcessState == nil {
				t.Fatal(err)
			}
			if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != 4 {
				t.Fatalf("uno ended with %v, want exit status 4 (the program's own)", ws)
			}
		})
	}
}

// TestReapsWhileItsLogIsStalled: uno's stderr is a pipe nobody reads (Docker's blocking log mode
// with a stalled backend) while it reaps 6,000 orphans it logs (-w). Nothing on the
// reaping path waits for the log: every orphan is reaped, and once the reader comes back, the
// count of lines dropped meanwhile is reported. uno used to block in a log write after ~1,000
// orphans, reaping nothing more.
func TestReapsWhileItsLogIsStalled(t *testing.T) {
	dir := t.TempDir()
	goFile := filepath.Join(dir, "go")
	script := fmt.Sprintf(`%s orphans 6000 && while [ ! -e %s ]; do sleep 0.02; done`, testbin.TestProg(t), goFile)
	cmd := exec.Command(testbin.Uno(t), "-w", "--", "sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if os.Geteuid() != 0 {
		cmd.SysProcAttr.Cloneflags = 0
		cmd.Args = append([]string{cmd.Args[0], "-s"}, cmd.Args[1:]...)
	}
	er, ew, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer er.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = ew
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ew.Close()
	exited := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
		}
	})
	orphaned := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "orphaned 6000") {
				close(orphaned)
			}
		}
	}()
	select {
	case <-orphaned:
	case <-time.After(10 * stall):
		t.Fatal("the program never made its 6000 orphans")
	}
	pid := cmd.Process.Pid
	// Every orphan reaped: no zombie is left among uno's children. The wait fails only when the
	// count stops moving, however long the machine takes.
	if err := testkit.WaitProgress(stall, func() (int, bool) {
		z := zombieChildren(pid)
		return -z, z == 0
	}); err != nil {
		t.Fatalf("uno stopped reaping while its stderr was stalled: %v", err)
	}
	var stderr testkit.Buffer
	go func() { _, _ = copyUntilError(&stderr, er) }()
	writeFile(t, goFile, "")
	err = cmd.Wait()
	close(exited)
	if err != nil {
		t.Fatalf("uno: %v\n%s", err, stderr.String())
	}
	poll(t, "the dropped lines to be counted", func() bool { return strings.Contains(stderr.String(), "log lines dropped") })
}

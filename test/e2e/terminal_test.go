package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

func openPTY(t *testing.T) (master, slave *os.File) { return testkit.OpenPTY(t) }

// terminalSession is uno started as the session leader of a new session whose controlling
// terminal is a pty, as `docker run -it` starts it.
type terminalSession struct {
	t      *testing.T
	master *os.File
	out    testkit.Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

func startOnTerminal(t *testing.T, args ...string) *terminalSession {
	t.Helper()
	return startOnTerminalBinary(t, testbin.Uno(t), args...)
}

// startOnTerminalBinary is startOnTerminal with the uno binary (or a link to it) at path.
func startOnTerminalBinary(t *testing.T, path string, args ...string) *terminalSession {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=dumb", "PS1=$ ")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &terminalSession{t: t, master: master, cmd: cmd, exited: make(chan struct{})}
	go func() { _, _ = copyUntilError(&s.out, master) }()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// copyUntilError copies r into b until r fails (the pty master fails with EIO once every slave
// is closed).
func copyUntilError(b *testkit.Buffer, r *os.File) (int64, error) {
	buf := make([]byte, 4096)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = b.Write(buf[:n])
			total += int64(n)
		}
		if err != nil {
			return total, err
		}
	}
}

// foregroundCommand is the name of the terminal's foreground process group leader.
func (s *terminalSession) foregroundCommand() string {
	fg, err := unix.IoctlGetInt(int(s.master.Fd()), unix.TIOCGPGRP)
	if err != nil {
		return ""
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", fg))
	return strings.TrimSpace(string(comm))
}

func (s *terminalSession) typeIn(text string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *terminalSession) expect(text string) {
	s.t.Helper()
	end := time.Now().Add(deadline)
	for !strings.Contains(s.out.String(), text) {
		if time.Now().After(end) {
			s.t.Fatalf("terminal never showed %q:\n%s", text, s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *terminalSession) expectExit(want int) {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(deadline):
		s.t.Fatalf("uno still running after %v; terminal:\n%s", deadline, s.out.String())
	}
	ws := s.cmd.ProcessState.Sys().(syscall.WaitStatus)
	got := ws.ExitStatus()
	if ws.Signaled() {
		got = 128 + int(ws.Signal())
	}
	if got != want {
		s.t.Fatalf("exit status %d, want %d; terminal:\n%s", got, want, s.out.String())
	}
}

// TestCtrlC: the program owns the terminal's foreground, so Ctrl-C reaches it (not only uno) and
// uno reports the SIGINT death as 130.
func TestCtrlC(t *testing.T) {
	s := startOnTerminal(t, "--", "sh", "-c", "echo re''ady; exec sleep 1000")
	s.expect("ready")
	s.typeIn("\x03")
	s.expectExit(130)
}

// TestProgramOwnsForeground: the program is its own process group and the terminal's
// foreground group.
func TestProgramOwnsForeground(t *testing.T) {
	s := startOnTerminal(t, "--", testbin.TestProg(t), "status")
	s.expect("fg=")
	s.expectExit(0)
	m := regexp.MustCompile(`(\d+) status blocked=\S+ ignored=\S+ pgid=(\d+) sid=\d+ fg=(-?\d+)`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no status line on the terminal:\n%s", s.out.String())
	}
	pid, pgid, fg := atoiT(t, m[1]), atoiT(t, m[2]), atoiT(t, m[3])
	if pgid != pid || fg != pid {
		t.Fatalf("program %d has process group %d and the terminal's foreground is %d; want both %d", pid, pgid, fg, pid)
	}
}

// TestInteractiveShellJobControl: an interactive bash under uno gets job control: Ctrl-Z stops its
// foreground job and bash reports it; uno itself is not stopped.
func TestInteractiveShellJobControl(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed (make test installs it):", err)
	}
	s := startOnTerminal(t, "--", "bash", "--norc", "--noprofile", "-i")
	s.typeIn("echo sleep''ing; sleep 1000\n")
	s.expect("sleeping")
	poll(t, "sleep to own the terminal", func() bool { return s.foregroundCommand() == "sleep" })
	s.typeIn("\x1a")
	s.expect("Stopped")
	s.typeIn("jobs -l\n")
	s.expect("jobs -l\r\n[1]+")
	m := regexp.MustCompile(`\[1\]\+\s+(\d+) Stopped`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no job listed:\n%s", s.out.String())
	}
	sleepPid := atoiT(t, m[1])
	// fg gives the job the terminal back; once it has it, Ctrl-C ends it.
	s.typeIn("fg\n")
	poll(t, "sleep to own the terminal again", func() bool {
		fg, err := unix.IoctlGetInt(int(s.master.Fd()), unix.TIOCGPGRP)
		return err == nil && fg == sleepPid
	})
	s.typeIn("\x03")
	s.typeIn("echo back''$?\n")
	s.expect("back130")
	s.typeIn("exit 3\n")
	s.expectExit(3)
	if out := s.out.String(); strings.Contains(out, "no job control") || strings.Contains(out, "cannot set terminal process group") {
		t.Fatalf("bash had no job control:\n%s", out)
	}
}

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// TestReapsOrphanStorm: 5000 children orphaned at once are all reaped by uno while the program
// runs, none is left a zombie, and -w logs each of them.
//
// 5000 fork+execs take from one second to tens on a busy 2-core machine, so the waits fail only
// when a count stops moving: the children testprog reports forked, then the orphans reaped.
func TestReapsOrphanStorm(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		tp := testbin.TestProg(t)
		const n = 5000
		p := startUno(t, startOpts{mode: m}, "-w", "--", "sh", "-c", tp+" orphans "+fmt.Sprint(n)+" && exec "+tp+" signals")
		progress := regexp.MustCompile(`(forked|orphaned) (\d+)`)
		forked, got := 0, []string(nil)
		testkit.AwaitProgress(t, "testprog to fork its children", stall, func() (int, bool) {
			for got == nil {
				m := p.tryExpect(progress)
				if m == nil {
					break
				}
				forked = atoiT(t, m[2])
				if m[1] == "orphaned" {
					got = m[1:]
				}
			}
			return forked, got != nil
		})
		if got[1] != fmt.Sprint(n) {
			t.Fatalf("testprog orphaned %s children, want %d", got[1], n)
		}
		p.expect(`ready`)
		testkit.AwaitProgress(t, fmt.Sprintf("%d orphans reaped", n), stall, func() (int, bool) {
			reaped := strings.Count(p.stderr.String(), "reaped orphan")
			return reaped, reaped == n
		})
		testkit.AwaitProgress(t, "no zombie children of uno", stall, func() (int, bool) {
			zombies := zombieChildren(p.cmd.Process.Pid)
			return -zombies, zombies == 0
		})
		p.signal(syscall.SIGTERM)
		p.expect(`got 15`)
		p.expectExit(0)
	})
}

// forwardable is every signal uno passes on, in the order the test sends them; SIGTERM comes
// last because it ends the program. SIGKILL, SIGSTOP, SIGCHLD and SIGPROF are not forwarded,
// and 32-34 are reserved by the C library and Go.
var forwardable = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP,
	syscall.SIGABRT, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGUSR1, syscall.SIGSEGV,
	syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGSTKFLT, syscall.SIGCONT,
	syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGURG, syscall.SIGXCPU,
	syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGWINCH, syscall.SIGIO, syscall.SIGPWR,
	syscall.SIGSYS, 35, 40, 50, 64, syscall.SIGTERM,
}

// TestForwardsEverySignal sends each signal to uno and expects the program to report exactly
// that one next: a SIGURG of the runtime's own or a forwarded SIGCHLD would show up out of turn.
func TestForwardsEverySignal(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		p := startUno(t, startOpts{mode: m}, "--", testbin.TestProg(t), "signals")
		p.expect(`ready`)
		// SIGCHLD is uno's own business: the program must see USR1 next, not CHLD.
		p.signal(syscall.SIGCHLD)
		for _, sig := range append([]syscall.Signal{syscall.SIGUSR1}, forwardable...) {
			p.signal(sig)
			got := p.expect(`got \d+`)
			if want := fmt.Sprintf("got %d", sig); !strings.HasSuffix(got[0], want) {
				t.Fatalf("sent %d (%v) to uno, program reported %q first", sig, sig, got[0])
			}
		}
		p.expectExit(0)
	})
}

// TestExitStatus: every exit code 0-255 passes through, a signal death becomes 128+n, and -e maps
// codes to 0.
func TestExitStatus(t *testing.T) {
	needRoot(t)
	tp := testbin.TestProg(t)
	for code := 0; code <= 255; code++ {
		p := startUno(t, startOpts{mode: asPID1}, "--", tp, "exit", fmt.Sprint(code))
		p.expectExit(code)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGKILL,
		syscall.SIGUSR1, syscall.SIGSEGV, syscall.SIGTERM} {
		p := startUno(t, startOpts{mode: asPID1}, "--", "sh", "-c", fmt.Sprintf("kill -%d $$", int(sig)))
		p.expectExit(128 + int(sig))
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want int
	}{
		{"mapped code", nil, []string{"-e", "143", "-e3", "--", tp, "exit", "3"}, 0},
		{"mapped signal", nil, []string{"--exit-zero", "143", "--", "sh", "-c", "kill $$"}, 0},
		{"unmapped", nil, []string{"-e", "3", "--", tp, "exit", "4"}, 4},
		{"from environment", []string{"UNO_EXIT_ZERO=1,143"}, []string{"sh", "-c", "kill $$"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			startUno(t, startOpts{mode: asPID1, env: c.env}, c.args...).expectExit(c.want)
		})
	}
}

// TestFailures: a program that cannot start gives the shell's 127 or 126 with one clear line;
// a usage mistake gives a short usage and 2, before anything starts.
func TestFailures(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "run")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string // a regexp the whole of stderr must match
	}{
		{"missing", nil, []string{"--", "/app/run"}, 127, `^uno: exec /app/run: no such file or directory\n$`},
		{"not in PATH", nil, []string{"no-such-program"}, 127, `^uno: exec no-such-program: no such file or directory\n$`},
		{"directory", nil, []string{dir}, 126, `^uno: exec ` + regexp.QuoteMeta(dir) + `: is a directory\n$`},
		{"not executable", nil, []string{notExec}, 126, `^uno: exec ` + regexp.QuoteMeta(notExec) + `: permission denied\n$`},
		{"no program", nil, nil, 2, `^uno: no program given, and no /etc/uno/uno.toml\nusage: uno `},
		{"unknown flag", nil, []string{"--bogus", "true"}, 2, `^uno: unknown option --bogus\nusage: uno `},
		{"bad exit code", nil, []string{"-e", "300", "true"}, 2, `^uno: -e: exit code must be 0-255, got "300"\nusage`},
		{"bad signal", nil, []string{"-r", "USR1:NOPE", "true"}, 2, `^uno: -r: .*NOPE.*\nusage`},
		{"bad grace", nil, []string{"--grace", "soon", "true"}, 2, `^uno: --grace: .*"soon"\nusage`},
		{"bad environment", []string{"UNO_GRACE=soon"}, []string{"true"}, 2, `^uno: UNO_GRACE: .*"soon"\nusage`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startUno(t, startOpts{mode: asSubreaper, env: c.env}, c.args...)
			p.expectExit(c.code)
			if !regexp.MustCompile(c.stderr).MatchString(p.stderr.String()) {
				t.Fatalf("stderr %q does not match %q", p.stderr.String(), c.stderr)
			}
		})
	}
}

// TestScriptWithoutShebang runs like execvp runs it: with /bin/sh.
func TestScriptWithoutShebang(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("echo from script; exit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := startUno(t, startOpts{mode: asSubreaper}, script)
	p.expectExit(5)
	if out := strings.Join(p.rest(), "\n"); out != "from script" {
		t.Fatalf("stdout %q", out)
	}
}

// TestProcessGroup: by default only the program gets a signal; with -g (or UNO_PGROUP) its whole
// process group does. The program is a shell whose two background children share its group.
func TestProcessGroup(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  []string
		want int // programs that report the USR1
	}{
		{"default", nil, nil, 1},
		{"-g", []string{"-g"}, nil, 3},
		{"UNO_PGROUP", nil, []string{"UNO_PGROUP=1"}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			needRoot(t)
			tp := testbin.TestProg(t)
			script := fmt.Sprintf("%[1]s signals & %[1]s signals & exec %[1]s signals", tp)
			args := append(append(c.args, "--grace", "5s", "--"), "sh", "-c", script)
			p := startUno(t, startOpts{mode: asPID1, env: c.env}, args...)
			for i := 0; i < 3; i++ {
				p.expect(`ready`)
			}
			p.signal(syscall.SIGUSR1)
			// Every program that should get the signal reports it before SIGTERM is sent, so
			// that the end of the test cannot overtake a slow report.
			for i := 0; i < c.want; i++ {
				p.expect(`got 10$`)
			}
			// SIGTERM ends the program (and with -g the others); the sweep ends the rest, so
			// stdout closes and every report can be counted.
			p.signal(syscall.SIGTERM)
			p.expectExit(0)
			if extra := countSuffix(p.rest(), "got 10"); extra != 0 {
				t.Fatalf("%d more programs got SIGUSR1 than the %d expected\nstdout: %q", extra, c.want, p.seen)
			}
		})
	}
}

func countSuffix(lines []string, suffix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasSuffix(l, suffix) {
			n++
		}
	}
	return n
}

// TestRewrite: -r changes a signal on its way, or drops it with 0; names and numbers both work.
func TestRewrite(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		p := startUno(t, startOpts{mode: m, env: []string{"UNO_REWRITE=HUP:0"}},
			"-r", "USR1:USR2", "--rewrite=2:sigrtmin+1", "--", testbin.TestProg(t), "signals")
		p.expect(`ready`)
		p.signal(syscall.SIGUSR1)
		p.expect(`got 12$`)
		p.signal(syscall.SIGINT)
		p.expect(`got 35$`)
		p.signal(syscall.SIGHUP) // dropped: the next report must be the TERM
		p.signal(syscall.SIGTERM)
		if got := p.expect(`got \d+`); !strings.HasSuffix(got[0], "got 15") {
			t.Fatalf("dropped SIGHUP reached the program: %q", got[0])
		}
		p.expectExit(0)
	})
}

// TestParentDeathSignal: with -p, uno gets the signal when its parent dies (unshare --pid
// --fork leaves uno's parent as the only link to the outside) and passes it on.
func TestParentDeathSignal(t *testing.T) {
	uno, tp := testbin.Uno(t), testbin.TestProg(t)
	// The shell is uno's parent; it reports uno's pid and then waits to be killed.
	sh := execCommand("sh", "-c", fmt.Sprintf(`%s -p SIGUSR1 -- %s signals & echo "uno $!"; read _`, uno, tp))
	stdin, err := sh.StdinPipe() // kept open: the shell waits in read until it is killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	parent := startCmd(t, sh)
	unoPid := atoiT(t, parent.expect(`^uno (\d+)$`)[1])
	t.Cleanup(func() { _ = syscall.Kill(unoPid, syscall.SIGKILL) })
	parent.expect(`ready`)
	parent.signal(syscall.SIGKILL)
	parent.expect(`got 10$`)
	if err := syscall.Kill(unoPid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	parent.expect(`got 15$`)
	poll(t, "uno to exit", func() bool { return !alive(unoPid) })
}

// TestGraceSweep: when the program exits and leaves processes behind, uno asks them to stop with
// SIGTERM, gives them the grace to finish (the trapper writes its file 300ms after SIGTERM), kills
// the one that ignores SIGTERM at the deadline, and exits with the program's status.
func TestGraceSweep(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		dir := t.TempDir()
		p := startUno(t, startOpts{mode: m}, "-v", "--grace", "1500ms", "--", testbin.TestProg(t), "leftovers", dir)
		got := p.expect(`trapper (\d+) ignorer (\d+)`)
		p.expectExit(7)
		if data, err := os.ReadFile(filepath.Join(dir, "finished")); err != nil || string(data) != "finished\n" {
			t.Fatalf("the leftover that traps SIGTERM did not get to finish: %q, %v\nstderr: %s", data, err, p.stderr.String())
		}
		for _, want := range []string{"signal=SIGTERM", "signal=SIGKILL"} {
			if !strings.Contains(p.stderr.String(), want) {
				t.Errorf("uno's log does not mention %s:\n%s", want, p.stderr.String())
			}
		}
		if m == asSubreaper {
			for _, pid := range got[1:] {
				if alive(atoiT(t, pid)) {
					t.Errorf("leftover %s still running after uno exited", pid)
				}
			}
		}
	})
}

// TestGraceZero: --grace 0 leaves leftovers alone and exits at once, as tini does.
func TestGraceZero(t *testing.T) {
	p := startUno(t, startOpts{mode: asSubreaper}, "--grace", "0", "--", testbin.TestProg(t), "leftovers", t.TempDir())
	got := p.expect(`trapper (\d+) ignorer (\d+)`)
	p.expectExit(7)
	for _, pid := range got[1:] {
		pid := atoiT(t, pid)
		if !alive(pid) {
			t.Errorf("leftover %d was stopped with --grace 0", pid)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestSecondTermCutsGraceShort: a second SIGTERM while leftovers are being swept (a second docker
// stop) kills them at once instead of waiting out the grace.
func TestSecondTermCutsGraceShort(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	p := startUno(t, startOpts{mode: asPID1}, "-v", "--grace", "1h", "--", testbin.TestProg(t), "leftovers", dir)
	p.expect(`trapper`)
	poll(t, "the trapper to finish", func() bool {
		_, err := os.Stat(filepath.Join(dir, "finished"))
		return err == nil
	})
	p.signal(syscall.SIGTERM)
	p.expectExit(7) // within the test's deadline, not the hour
}

// TestCallerSignalState: the program starts with the signal mask uno was started with, and with
// SIGHUP still ignored when the caller ignored it (nohup).
func TestCallerSignalState(t *testing.T) {
	python, err := lookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed (make test installs it):", err)
	}
	launcher := `import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2, signal.SIGWINCH})
signal.signal(signal.SIGHUP, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])`
	p := startCmd(t, execCommand(python, "-c", launcher, testbin.Uno(t), "--", testbin.TestProg(t), "status"))
	got := p.expect(`status blocked=([0-9a-f]+) ignored=([0-9a-f]+)`)
	p.expectExit(0)
	blocked, ignored := parseSigset(t, got[1]), parseSigset(t, got[2])
	want := uint64(1)<<(syscall.SIGUSR2-1) | uint64(1)<<(syscall.SIGWINCH-1)
	if blocked != want {
		t.Errorf("program's blocked signals %#x, want %#x (SIGUSR2, SIGWINCH)", blocked, want)
	}
	if ignored&(1<<(syscall.SIGHUP-1)) == 0 {
		t.Errorf("program's ignored signals %#x lack SIGHUP", ignored)
	}
}

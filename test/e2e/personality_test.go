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
)

// The drop-in personalities: uno invoked as tini, docker-init, dumb-init or catatonit keeps that
// tool's flags, outputs and exit codes (docs/compatibility.md).

func TestPersonalityOutputsAndExitCodes(t *testing.T) {
	cases := []struct {
		argv0          string
		env            []string
		args           []string
		code           int
		stdout, stderr string // regexps; empty means must be empty
	}{
		// docker info parses "tini version X[ - git.Y]" out of `docker-init --version`.
		{"docker-init", nil, []string{"--version"}, 0, `^tini version \S+_uno - git\.[^.\s]+\n$`, ``},
		{"tini", nil, []string{"--version"}, 0, `^tini version \S+_uno - git\.[^.\s]+\n$`, ``},
		{"tini", nil, []string{"-h"}, 0, `^usage: tini `, ``},
		{"tini", nil, nil, 1, ``, `^tini: no program given\nusage: tini`},
		{"tini", nil, []string{"-e", "256", "true"}, 1, ``, `-e: exit code must be 0-255`},
		{"tini", nil, []string{"--", "/nonexistent"}, 127, ``, `exec /nonexistent: no such file or directory`},
		{"tini", nil, []string{"--", "/"}, 126, ``, `exec /: is a directory`},
		{"tini", []string{"TINI_VERBOSITY=0"}, []string{"--", "sh", "-c", "exit 9"}, 9, ``, ``},
		{"tini", nil, []string{"-e", "9", "--", "sh", "-c", "exit 9"}, 0, ``, `not registered as child subreaper`},
		{"tini", []string{"TINI_SUBREAPER="}, []string{"--", "sh", "-c", "kill $$"}, 143, ``, ``},
		{"dumb-init", nil, []string{"--version"}, 0, ``, `^dumb-init v1\.2\.5 \(uno \S+\)\n$`},
		{"dumb-init", nil, []string{"--help"}, 0, ``, `^usage: dumb-init `},
		{"dumb-init", nil, nil, 1, ``, `^dumb-init: no program given\n`},
		{"dumb-init", nil, []string{"-r", "USR1:2", "true"}, 1, ``, `-r: want <signum>:<signum>`},
		{"dumb-init", nil, []string{"/nonexistent"}, 2, ``, `exec /nonexistent: no such file or directory`},
		{"dumb-init", nil, []string{"sh", "-c", "exit 4"}, 4, ``, ``},
		{"catatonit", nil, []string{"-V"}, 0, `^tini version \S+_uno - git\.[^.\s]+\n$`, ``},
		{"catatonit", nil, []string{"--version"}, 0, `^tini version \S+_uno - git\.[^.\s]+\n$`, ``},
		{"catatonit", nil, nil, 1, ``, `^catatonit: missing program name\n`},
		{"catatonit", nil, []string{"-x", "true"}, 1, ``, `unknown option -x`},
		{"catatonit", nil, []string{"/nonexistent"}, 1, ``, `exec /nonexistent: no such file or directory`},
		{"catatonit", nil, []string{"--", "sh", "-c", "kill -USR1 $$"}, 138, ``, ``},
	}
	for _, c := range cases {
		t.Run(c.argv0+" "+strings.Join(c.args, " "), func(t *testing.T) {
			p := startUno(t, startOpts{mode: asSubreaper, argv0: c.argv0, env: c.env}, c.args...)
			p.expectExit(c.code)
			stdout := strings.Join(p.rest(), "\n")
			if len(p.seen) > 0 {
				stdout += "\n"
			}
			for _, out := range []struct{ name, got, want string }{
				{"stdout", stdout, c.stdout}, {"stderr", p.stderr.String(), c.stderr},
			} {
				if out.want == "" && out.got != "" || !regexp.MustCompile(out.want).MatchString(out.got) {
					t.Errorf("%s %q does not match %q", out.name, out.got, out.want)
				}
			}
		})
	}
}

// TestPeersExitAtOnce: tini, dumb-init and catatonit exit as soon as the program does, leaving
// leftovers alone (dumb-init sends them SIGTERM on the way out); UNO_GRACE adds uno's sweep.
func TestPeersExitAtOnce(t *testing.T) {
	for _, argv0 := range []string{"tini", "catatonit"} {
		t.Run(argv0, func(t *testing.T) {
			p := startUno(t, startOpts{mode: asSubreaper, argv0: argv0}, "--", testbin.TestProg(t), "leftovers", t.TempDir())
			got := p.expect(`trapper (\d+) ignorer (\d+)`)
			p.expectExit(7)
			for _, pid := range got[1:] {
				pid := atoiT(t, pid)
				if !alive(pid) {
					t.Errorf("%s stopped leftover %d; the real one does not", argv0, pid)
				}
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
	t.Run("dumb-init", func(t *testing.T) {
		dir := t.TempDir()
		p := startUno(t, startOpts{mode: asSubreaper, argv0: "dumb-init"}, testbin.TestProg(t), "leftovers", dir)
		got := p.expect(`trapper (\d+) ignorer (\d+)`)
		p.expectExit(7)
		// The trapper is in the program's process group: it got SIGTERM and finishes.
		poll(t, "the trapper to finish after dumb-init's SIGTERM", func() bool {
			_, err := os.Stat(filepath.Join(dir, "finished"))
			return err == nil
		})
		ignorer := atoiT(t, got[2])
		if !alive(ignorer) {
			t.Errorf("dumb-init killed the leftover that ignores SIGTERM; the real one does not")
		}
		_ = syscall.Kill(ignorer, syscall.SIGKILL)
	})
	t.Run("tini with UNO_GRACE", func(t *testing.T) {
		p := startUno(t, startOpts{mode: asSubreaper, argv0: "tini", env: []string{"UNO_GRACE=1s"}},
			"-s", "--", testbin.TestProg(t), "leftovers", t.TempDir())
		got := p.expect(`trapper (\d+) ignorer (\d+)`)
		p.expectExit(7)
		for _, pid := range got[1:] {
			if alive(atoiT(t, pid)) {
				t.Errorf("leftover %s survived UNO_GRACE's sweep", pid)
			}
		}
	})
}

// TestDumbInitSessions: by default the program leads a session of its own; with -c or
// DUMB_INIT_SETSID=0 it stays in dumb-init's process group and session.
func TestDumbInitSessions(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		args    []string
		ownSess bool
	}{
		{"setsid", nil, nil, true},
		{"-c", nil, []string{"-c"}, false},
		{"--single-child", nil, []string{"--single-child"}, false},
		{"DUMB_INIT_SETSID=0", []string{"DUMB_INIT_SETSID=0"}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args, testbin.TestProg(t), "status")
			p := startUno(t, startOpts{mode: asSubreaper, argv0: "dumb-init", env: c.env}, args...)
			m := p.expect(`^(\d+) status .* pgid=(\d+) sid=(\d+)`)
			p.expectExit(0)
			pid, pgid, sid := atoiT(t, m[1]), atoiT(t, m[2]), atoiT(t, m[3])
			if c.ownSess {
				if sid != pid || pgid != pid {
					t.Fatalf("program %d in group %d, session %d; want its own session", pid, pgid, sid)
				}
				return
			}
			if ours := syscall.Getpgrp(); pgid != ours {
				t.Fatalf("program in process group %d, want dumb-init's %d", pgid, ours)
			}
		})
	}
}

// TestDumbInitRewriteAndJobControl: -r rewrites by number; SIGTSTP stops the program's group
// (as SIGSTOP) and dumb-init itself, and SIGCONT brings both back.
func TestDumbInitRewriteAndJobControl(t *testing.T) {
	p := startUno(t, startOpts{mode: asSubreaper, argv0: "dumb-init"}, "-r", "10:12", "-r", "1:0",
		testbin.TestProg(t), "signals")
	prog := atoiT(t, p.expect(`^(\d+) ready`)[1])
	p.signal(syscall.SIGUSR1)
	p.expect(`got 12$`)
	p.signal(syscall.SIGTSTP)
	uno := p.cmd.Process.Pid
	poll(t, "dumb-init and its program to be stopped", func() bool {
		return procState(uno) == "T" && procState(prog) == "T"
	})
	p.signal(syscall.SIGCONT)
	p.expect(`got 18$`) // forwarded once dumb-init runs again
	if procState(prog) == "T" {
		t.Fatal("program still stopped after SIGCONT")
	}
	p.signal(syscall.SIGHUP) // rewritten to 0: dropped
	p.signal(syscall.SIGTERM)
	if got := p.expect(`got \d+$`); !strings.HasSuffix(got[0], "got 15") {
		t.Fatalf("dropped SIGHUP reached the program: %q", got[0])
	}
	p.expectExit(0)
}

func procState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// TestCatatonit: job-control signals are dropped, orphans are reaped as subreaper, and pause mode
// ignores other signals until SIGINT or SIGTERM.
func TestCatatonit(t *testing.T) {
	t.Run("drops job control", func(t *testing.T) {
		p := startUno(t, startOpts{mode: asSubreaper, argv0: "catatonit"}, testbin.TestProg(t), "signals")
		p.expect(`ready`)
		p.signal(syscall.SIGTSTP)
		p.signal(syscall.SIGUSR1)
		if got := p.expect(`got \d+$`); !strings.HasSuffix(got[0], "got 10") {
			t.Fatalf("catatonit passed on a job-control signal: %q", got[0])
		}
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
	})
	t.Run("reaps as subreaper", func(t *testing.T) {
		tp := testbin.TestProg(t)
		p := startUno(t, startOpts{mode: asSubreaper, argv0: "catatonit", env: []string{"CATATONIT_DEBUG=1"}},
			"sh", "-c", tp+" orphans 50 && exec "+tp+" signals")
		p.expect(`orphaned 50`)
		p.expect(`ready`)
		poll(t, "50 orphans reaped", func() bool { return strings.Count(p.stderr.String(), "reaped orphan") == 50 })
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
	})
	for _, stop := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(fmt.Sprintf("pause until %v", stop), func(t *testing.T) {
			p := startUno(t, startOpts{mode: asSubreaper, argv0: "catatonit", env: []string{"CATATONIT_DEBUG=1"}}, "-P")
			poll(t, "pause mode to start", func() bool { return strings.Contains(p.stderr.String(), "pausing") })
			// Had USR1 or HUP killed it, the exit status would say so instead of 0.
			p.signal(syscall.SIGUSR1)
			p.signal(syscall.SIGHUP)
			p.signal(stop)
			p.expectExit(0)
		})
	}
}
